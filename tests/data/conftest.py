"""Tiny composites and label rasters for the data tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from cropmap.io.raster import write_geotiff

CRS = "EPSG:32631"  # UTM 31N
TRANSFORM = Affine(10.0, 0.0, 400000.0, 0.0, -10.0, 4500000.0)


def write_composite(path: Path, x: np.ndarray, transform: Affine = TRANSFORM) -> Path:
    """Write a (T, C, H, W) dB array as a composite GeoTIFF (period-major bands)."""
    T, C, H, W = x.shape
    bands = ["VV", "VH"][:C]
    periods = [f"P{t + 1}" for t in range(T)]
    write_geotiff(
        path,
        x.reshape(T * C, H, W).astype(np.float32),
        crs=CRS,
        transform=transform,
        nodata=float("nan"),
        descriptions=[f"{p}_{b}" for p in periods for b in bands],
        tags={
            "PERIODS": ",".join(periods),
            "BANDS": ",".join(bands),
            "UNITS": "dB",
            "CALENDAR": json.dumps({"name": "test", "periods": []}),
        },
    )
    return path


@pytest.fixture
def scene(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """A 4-period, 2-band, 40 x 48 composite and a label raster on its grid."""
    rng = np.random.default_rng(7)
    x = rng.normal(-15, 3, (4, 2, 40, 48)).astype(np.float32)
    y = (rng.random((40, 48)) < 0.3).astype(np.uint8)
    y[:, :8] = 255  # an unlabelled strip: patches there must be skipped
    comp = write_composite(tmp_path / "comp.tif", x)
    lab = tmp_path / "labels.tif"
    write_geotiff(lab, y, crs=CRS, transform=TRANSFORM, nodata=255)
    return comp, lab, x, y
