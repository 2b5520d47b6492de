"""Fixtures for transfer tests: a tiny model with the Recurrent U-Net's parameter groups."""

from __future__ import annotations

import pytest


def _tiny_unet(in_channels: int):
    """A small stand-in with encoder/bottleneck/decoder/head names, or the real model."""
    import torch
    from torch import nn

    try:  # prefer the real model once cropmap.models provides it
        from cropmap.models.recurrent_unet import RecurrentUNet, UNetConfig

        cfg = UNetConfig(in_channels=in_channels, widths=(4, 8, 8, 8), bottleneck=8)
        return RecurrentUNet(cfg), RecurrentUNet.FIRST_CONV
    except ImportError:
        pass

    class Tiny(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = nn.Sequential(nn.Conv2d(in_channels, 4, 3, padding=1), nn.ReLU())
            self.bottleneck = nn.Conv2d(4, 4, 1)
            self.decoder = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())
            self.head = nn.Conv2d(4, 1, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, C, H, W)
            h = self.encoder(x.flatten(0, 1)).unflatten(0, x.shape[:2]).amax(1)
            return self.head(self.decoder(self.bottleneck(h)))

    return Tiny(), "encoder.0.weight"


@pytest.fixture
def make_model():
    """Factory ``make_model(in_channels) -> (model, first_conv_key)``."""
    return _tiny_unet
