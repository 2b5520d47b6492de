"""The source model's early-season curve: batch-norm statistics of k-period inputs."""

from __future__ import annotations

import copy

import torch

from cropmap.experiments.source import (
    early_season_batchnorm,
    early_season_table,
    first_batches,
)
from cropmap.models.batchnorm import recalibrate_batchnorm
from cropmap.models.recurrent_unet import RecurrentUNet, UNetConfig
from cropmap.models.time_padding import pad_time


def _bn_means(model: torch.nn.Module) -> list[torch.Tensor]:
    return [
        m.running_mean.clone()
        for m in model.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
    ]


def test_early_season_batchnorm_estimates_on_padded_first_periods():
    torch.manual_seed(0)
    model = RecurrentUNet(UNetConfig(widths=(4, 8, 8, 8), bottleneck=8)).eval()
    for p in model.parameters():
        p.requires_grad_(False)  # frozen like a loaded model in eval: still re-estimated
    x = torch.randn(12, 8, 1, 16, 16)
    x[:, 4:] += 3.0  # late periods look different: k=2 must not see them
    data = torch.utils.data.TensorDataset(x, torch.zeros(12, 16, 16, dtype=torch.long))
    batches = first_batches(data, 2)
    assert [b[0].shape[0] for b in batches] == [4, 4]
    before = _bn_means(model)

    adapted = early_season_batchnorm(model, batches, 2, "tip")

    assert all(torch.equal(a, b) for a, b in zip(_bn_means(model), before, strict=True))
    manual = copy.deepcopy(model)
    recalibrate_batchnorm(
        manual,
        [(pad_time(x[i : i + 4, :2], 8, "tip"), None) for i in (0, 4)],
        trainable_only=False,
    )
    got, want = _bn_means(adapted), _bn_means(manual)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(got, want, strict=True))
    full = _bn_means(early_season_batchnorm(model, batches, 8, "tip"))
    assert not torch.allclose(got[0], full[0])  # the late periods changed the statistics
    assert not adapted.training


def test_early_season_table_shows_both_curves():
    rec = {
        "early_season": [
            {"n_periods": 1, "period": "P1", "iou": 0.0, "iou_bn": 0.61},
            {"n_periods": 2, "period": "P2", "iou": 0.1, "iou_bn": 0.72},
        ]
    }
    lines = early_season_table(rec).splitlines()
    assert lines[3] == "| IoU | 0.00 | 0.10 |"
    assert lines[4] == "| IoU, BN statistics of k periods | 0.61 | 0.72 |"
    del rec["early_season"][0]["iou_bn"]  # a record cached before the second curve
    assert len(early_season_table(rec).splitlines()) == 4
