"""Tiny seeded Sentinel-1 folders for the sar tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from affine import Affine

from cropmap.io.raster import write_geotiff

CRS = "EPSG:32652"
TRANSFORM = Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 4000000.0)
TINY_CALENDAR = {
    "name": "tiny",
    "periods": [
        {"name": "A", "start": "05-01", "end": "05-31", "reducer": "min", "stage": "s1"},
        {"name": "B", "start": "06-01", "end": "06-30", "reducer": "mean", "stage": "s1"},
        {"name": "C", "start": "07-01", "end": "07-31", "reducer": "max", "stage": "s2"},
        {"name": "D", "start": "08-01", "end": "08-31", "reducer": "median", "stage": "s2"},
    ],
}


def write_date(
    folder: Path,
    day: dt.date,
    vv: np.ndarray,
    vh: np.ndarray,
    *,
    name: str | None = None,
    descriptions: tuple[str, ...] | None = ("VV", "VH"),
    transform: Affine = TRANSFORM,
    crs: str = CRS,
    nodata: float | None = float("nan"),
    tags: dict | None = None,
) -> Path:
    """Write one date's GeoTIFF (values written as given)."""
    path = folder / (name or f"{day.isoformat()}.tif")
    arr = np.stack([vv, vh]).astype(np.float32)
    write_geotiff(
        path,
        arr,
        crs=crs,
        transform=transform,
        nodata=nodata,
        descriptions=descriptions,
        tags=tags,
    )
    return path


@pytest.fixture
def tiny_calendar() -> dict:
    """A 4-period calendar May-August, one reducer of each kind."""
    return TINY_CALENDAR


@pytest.fixture
def s1_writer():
    """The :func:`write_date` helper."""
    return write_date


@pytest.fixture
def s1_db(tmp_path: Path) -> tuple[Path, dict[dt.date, np.ndarray]]:
    """A folder of 8 dates (2 per tiny-calendar period) of known dB values, 6 x 5 pixels."""
    folder = tmp_path / "s1"
    folder.mkdir()
    rng = np.random.default_rng(1)
    values = {}
    for month in (5, 6, 7, 8):
        for day in (5, 20):
            d = dt.date(2021, month, day)
            vv = rng.uniform(-20, -5, (6, 5)).astype(np.float32)
            vh = vv - 7
            values[d] = np.stack([vv, vh])
            write_date(folder, d, vv, vh)
    return folder, values
