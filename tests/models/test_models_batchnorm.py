"""Batch-norm statistics re-estimated on new inputs (cropmap.models.batchnorm)."""

from __future__ import annotations

import pytest
import torch

from cropmap.models.batchnorm import recalibrate_batchnorm
from cropmap.models.recurrent_unet import RecurrentUNet, UNetConfig


def _model() -> RecurrentUNet:
    torch.manual_seed(0)
    return RecurrentUNet(UNetConfig(widths=(8, 16, 16, 16), bottleneck=32, dropout=0.0))


def test_recalibrate_batchnorm_matches_the_batches_statistics() -> None:
    model = _model()
    first_bn = model.encoder[0].conv1[1]
    for p in model.decoder.parameters():  # a frozen group keeps its statistics
        p.requires_grad_(False)
    frozen_bn = model.decoder[0].conv1[1]
    frozen_before = frozen_bn.running_mean.clone()
    x = torch.randn(2, 8, 1, 32, 32) * 3 + 5
    model.eval()
    n = recalibrate_batchnorm(model, [(x[:1], None), (x[1:], None)])
    conv_out = model.encoder[0].conv1[0](x.flatten(0, 1))
    assert n > 0 and not model.training  # modes restored
    assert torch.allclose(first_bn.running_mean, conv_out.mean((0, 2, 3)), atol=1e-4)
    assert torch.equal(frozen_bn.running_mean, frozen_before)
    assert first_bn.momentum == pytest.approx(0.5)  # restored


def test_every_batchnorm_when_not_trainable_only() -> None:
    model = _model()
    for p in model.parameters():
        p.requires_grad_(False)
    x = torch.randn(2, 8, 1, 32, 32) * 3 + 5
    assert recalibrate_batchnorm(model, [(x, None)]) == 0  # all frozen: none by default
    n_bn = sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert recalibrate_batchnorm(model, [(x, None)], trainable_only=False) == n_bn
