"""Fixtures for transfer tests: a tiny Recurrent U-Net with the real parameter groups."""

from __future__ import annotations

import pytest
from torch import nn

from cropmap.models.recurrent_unet import RecurrentUNet, UNetConfig


def _tiny_unet(in_channels: int) -> tuple[nn.Module, str]:
    """A Recurrent U-Net with widths (4, 8, 8, 8) and its first-conv weight key."""
    cfg = UNetConfig(in_channels=in_channels, widths=(4, 8, 8, 8), bottleneck=8)
    return RecurrentUNet(cfg), RecurrentUNet.FIRST_CONV


@pytest.fixture
def make_model():
    """Factory ``make_model(in_channels) -> (model, first_conv_key)``."""
    return _tiny_unet
