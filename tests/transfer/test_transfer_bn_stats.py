"""Fine-tuning from pretrained weights keeps batch norm's running statistics fixed."""

from __future__ import annotations

import torch

from cropmap.models import RecurrentUNet, UNetConfig
from cropmap.train import TrainConfig, train_model
from cropmap.transfer.finetune import phase_config


def test_one_source_of_fine_tuning_defaults() -> None:
    from cropmap.train import TrainConfig
    from cropmap.transfer import FinetuneConfig

    pre, scratch = phase_config({}, 1.0, 1.0, 0, True), phase_config({}, 1.0, 1.0, 0, False)
    assert isinstance(pre, FinetuneConfig) and pre.lr == FinetuneConfig().lr == 1e-4
    assert not pre.cbt and pre.freeze_bn_stats
    assert type(scratch) is TrainConfig and scratch.lr == TrainConfig().lr
    # re-estimating batch-norm statistics replaces freezing them, and lets CBT stay on
    recal = phase_config({"recalibrate_bn": 4, "cbt": True}, 1.0, 1.0, 0, True)
    assert recal.cbt and not recal.freeze_bn_stats and recal.recalibrate_bn == 4


def test_pretrained_phases_freeze_bn_stats_unless_the_config_says_otherwise() -> None:
    assert phase_config({}, 1.0, 1.0, 0, pretrained=True).freeze_bn_stats is True
    assert phase_config({}, 1.0, 1.0, 0, pretrained=False).freeze_bn_stats is False
    explicit = phase_config({"freeze_bn_stats": False}, 1.0, 1.0, 0, pretrained=True)
    assert explicit.freeze_bn_stats is False


class _Tiny(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int):
        g = torch.Generator().manual_seed(i)
        return torch.randn(8, 1, 16, 16, generator=g) * 3 + 5, (torch.rand(16, 16) > 0.5).long()


def _bn_means(model: torch.nn.Module) -> list[torch.Tensor]:
    return [m.running_mean.clone() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]


def test_freeze_bn_stats_keeps_running_statistics(tmp_path) -> None:
    for freeze in (True, False):
        torch.manual_seed(0)
        model = RecurrentUNet(UNetConfig(in_channels=1, widths=(4, 4, 4, 4), bottleneck=4))
        before = _bn_means(model)
        cfg = TrainConfig(max_epochs=1, batch_size=2, progress="none", freeze_bn_stats=freeze)
        res = train_model(model, _Tiny(), _Tiny(), cfg, tmp_path / f"m{freeze}")
        after = _bn_means(res.model)
        same = all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
        assert same is freeze
