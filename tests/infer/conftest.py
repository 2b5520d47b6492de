"""Fixtures of the inference tests: a tiny seeded composite and tiny Recurrent U-Net dirs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasterio.crs import CRS
from rasterio.transform import from_origin

from cropmap.io.raster import write_geotiff

PERIODS = [f"P{i}" for i in range(1, 9)]
BANDS = ["VV", "VH"]
CRS_UTM = CRS.from_epsg(32630)
TRANSFORM = from_origin(500000.0, 4600000.0, 10.0, 10.0)


def _field(height: int, width: int) -> np.ndarray:
    """``(H, W)`` bool: the smooth field pattern of every test composite (the truth)."""
    yy, xx = np.mgrid[0:height, 0:width]
    return (np.sin(yy / 17.0) + np.cos(xx / 23.0)) > 0.3


def _composite_array(
    height: int, width: int, seed: int = 0, n_periods: int = 8, hole: bool = True
) -> np.ndarray:
    """``(T, 2, H, W)`` dB (VV, VH) with a smooth field pattern; NaN holes if ``hole``."""
    rng = np.random.default_rng(seed)
    field = _field(height, width)
    arr = np.empty((n_periods, 2, height, width), np.float32)
    for t in range(n_periods):
        base_vh = np.where(field, -24.0 + 1.5 * t, -15.0)
        arr[t, 1] = base_vh + rng.normal(0, 1.0, (height, width))
        arr[t, 0] = base_vh + 7.0 + rng.normal(0, 1.0, (height, width))
    if hole:
        arr[:, :, 5:40, 10:60] = np.nan  # all-band nodata block
        arr[0, 0, 100:110, 100:110] = np.nan  # partial nodata: still predicted
    return arr


def _make_composite(
    path: Path, height: int, width: int, seed: int = 0, n_periods: int = 8, hole: bool = True
) -> Path:
    """Write a period-major composite (dB, NaN nodata) with a smooth field pattern."""
    arr = _composite_array(height, width, seed, n_periods, hole)
    desc = [f"P{t + 1}_{b}" for t in range(n_periods) for b in BANDS]
    write_geotiff(
        path,
        arr.reshape(n_periods * 2, height, width),
        crs=CRS_UTM,
        transform=TRANSFORM,
        nodata=float("nan"),
        descriptions=desc,
        tags={"PERIODS": ",".join(PERIODS[:n_periods]), "BANDS": "VV,VH", "UNITS": "dB"},
    )
    return path


def _make_model_dir(out: Path, seed: int = 0, n_classes: int = 2) -> Path:
    """Save a tiny seeded Recurrent U-Net (widths 4-8-8-8) with random batch-norm stats."""
    import torch

    from cropmap.models.recurrent_unet import RecurrentUNet, UNetConfig
    from cropmap.models.registry import ModelMeta, save_model

    torch.manual_seed(seed)
    cfg = UNetConfig(
        in_channels=2, widths=(4, 8, 8, 8), bottleneck=8, dropout=0.0, n_classes=n_classes
    )
    model = RecurrentUNet(cfg)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
            if hasattr(m, "recur") and m.recur is not None:
                m.recur.weight.normal_(0, 0.1)
        # rescale the 1x1 head: logits with median 0 and std 3 on composite-like input
        model.eval()
        arr = _composite_array(64, 64, seed=99, hole=False)
        x = (arr - np.array([-12.0, -19.0])[:, None, None]) / np.array([4.0, 4.5])[:, None, None]
        logits = model(torch.from_numpy(x.astype(np.float32))[None])
        k = 3.0 / float(logits.std())
        model.head.weight.mul_(k)
        model.head.bias.copy_(k * (model.head.bias - logits.median()))
    classes = ["other", "rice"] if n_classes == 2 else ["other", "rice", "maize"][:n_classes]
    meta = ModelMeta(
        bands=BANDS,
        periods=PERIODS,
        norm={"mean": {"VV": -12.0, "VH": -19.0}, "std": {"VV": 4.0, "VH": 4.5}},
        classes=classes,
        target="rice",
    )
    save_model(out, model.eval(), meta)
    return out


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> None:
    """Tiny models on a shared 2-core machine run fastest on one thread."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_model_dir(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="session")
def composite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_composite(tmp_path_factory.mktemp("comp") / "comp.tif", 300, 340)


@pytest.fixture(scope="session")
def make_composite() -> object:
    """Factory: ``make_composite(path, height, width, seed=0, n_periods=8, hole=True)``."""
    return _make_composite


@pytest.fixture(scope="session")
def field_mask() -> object:
    """Factory: ``field_mask(height, width)``, the truth of ``make_composite``'s pattern."""
    return _field


@pytest.fixture(scope="session")
def make_model_dir() -> object:
    """Factory: ``make_model_dir(out, seed=0, n_classes=2)``."""
    return _make_model_dir


def _train_tiny(out: Path, steps: int = 60, seed: int = 0) -> Path:
    """A tiny Recurrent U-Net trained for ``steps`` Adam steps to map the field pattern.

    The label is the ``field`` mask of :func:`_composite_array` (flooded early, rising
    VH): a real signal, so the model's logits are those of a trained network (large,
    confident, with a few hard pixels near edges), unlike the random ``model_dir``.
    """
    import torch

    from cropmap.models.recurrent_unet import RecurrentUNet, UNetConfig
    from cropmap.models.registry import ModelMeta, save_model

    torch.manual_seed(seed)
    cfg = UNetConfig(in_channels=2, widths=(4, 8, 8, 8), bottleneck=8, dropout=0.0)
    model = RecurrentUNet(cfg)
    mean = np.array([-12.0, -19.0], np.float32)[:, None, None]
    std = np.array([4.0, 4.5], np.float32)[:, None, None]
    arr = _composite_array(256, 256, seed=seed + 1, hole=False)
    label = _field(256, 256).astype(np.float32)
    x_all = torch.from_numpy(((arr - mean) / std).astype(np.float32))
    y_all = torch.from_numpy(label)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        r, c = rng.integers(0, 256 - 64, 2)
        xb = x_all[None, :, :, r : r + 64, c : c + 64]
        yb = y_all[None, None, r : r + 64, c : c + 64]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    meta = ModelMeta(
        bands=BANDS,
        periods=PERIODS,
        norm={"mean": {"VV": -12.0, "VH": -19.0}, "std": {"VV": 4.0, "VH": 4.5}},
        classes=["other", "rice"],
        target="rice",
    )
    save_model(out, model.eval(), meta)
    return out


@pytest.fixture(scope="session")
def trained_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model trained on the field pattern (see :func:`_train_tiny`)."""
    return _train_tiny(tmp_path_factory.mktemp("trained"))
