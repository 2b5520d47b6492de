"""bf16 + channels-last by default where the CPU has bf16 units, batch-norm
re-estimation before validation, quiet Lightning and a stated stop reason."""

from __future__ import annotations

import logging

import pytest
import torch

from cropmap.models.batchnorm import recalibrate_batchnorm
from cropmap.models.recurrent_unet import RecurrentUNet, UNetConfig
from cropmap.models.registry import ModelMeta
from cropmap.train.runtime import (
    cpu_has_bf16,
    resolve_precision,
    use_channels_last,
)
from cropmap.train.trainer import TrainConfig, train_model

META = ModelMeta(periods=[f"P{i}" for i in range(1, 9)], bands=["VH"])


def _cfg(**kw) -> TrainConfig:
    base = {"max_epochs": 1, "batch_size": 4, "progress": "none", "patience": 10}
    return TrainConfig(**{**base, **kw})


def _model(dropout: float = 0.0) -> RecurrentUNet:
    torch.manual_seed(0)
    return RecurrentUNet(UNetConfig(widths=(8, 16, 16, 16), bottleneck=32, dropout=dropout))


def test_default_precision_follows_the_measurement() -> None:
    cfg = TrainConfig()
    expected = "bf16-mixed" if cpu_has_bf16() else "32-true"
    if torch.cuda.is_available():
        expected = "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    assert resolve_precision(cfg) == expected
    assert resolve_precision(TrainConfig(precision="bf16-mixed")) == "bf16-mixed"
    assert use_channels_last(cfg, "bf16-mixed") and not use_channels_last(cfg, "32-true")
    assert use_channels_last(TrainConfig(channels_last=True), "32-true")


def test_training_recalibrates_before_validation(tmp_path, toy_data) -> None:
    train, val = toy_data
    cfg = _cfg(recalibrate_bn=2, precision="32-true", cbt=True)
    res = train_model(_model(), train, val, cfg, tmp_path, META)
    bns = [m for m in res.model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    got = [m.running_var.clone() for m in bns]
    batches = [(torch.stack([train[i][0] for i in range(j, j + 4)]), None) for j in (0, 4)]
    recalibrate_batchnorm(res.model, batches)
    want = [m.running_var for m in bns]
    assert all(torch.allclose(a, b, rtol=1e-3, atol=1e-5) for a, b in zip(got, want, strict=True))


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no bf16 units")
def test_bf16_training_is_deterministic_and_keeps_fp32_weights(tmp_path, toy_data) -> None:
    train, val = toy_data
    a = train_model(_model(), train, val, _cfg(precision="bf16-mixed"), tmp_path / "a", META)
    b = train_model(_model(), train, val, _cfg(precision="bf16-mixed"), tmp_path / "b", META)
    wa, wb = a.model.state_dict(), b.model.state_dict()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert all(v.dtype in (torch.float32, torch.int64) for v in wa.values())
    assert all(v.is_contiguous() for v in wa.values())  # channels-last undone for saving


def test_training_says_why_it_stopped_and_lightning_stays_quiet(
    tmp_path, toy_data, caplog, capsys
) -> None:
    train, val = toy_data
    with caplog.at_level(logging.INFO):
        res = train_model(_model(), train, val, _cfg(max_epochs=2), tmp_path, META)
    assert res.stop_reason == "max_epochs (2) reached"
    text = caplog.text + "".join(capsys.readouterr())
    assert "training stopped: max_epochs (2) reached" in text
    assert "epoch 1:" in text and "val_iou" in text
    for noise in ("TPU available", "HPU available", "Total FLOPs", "litmodels", "💡"):
        assert noise not in text, noise
    short = train_model(_model(), train, val, _cfg(max_epochs=50, patience=1), tmp_path / "e", META)
    assert short.stop_reason.startswith("early stopping") or short.epochs_run == 50
