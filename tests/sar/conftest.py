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


#: Side of the simulated STAC test scene, pixels (10 m).
STAC_N = 64
#: June-July 2022 in four periods, one reducer of each kind (few dates: fast STAC tests).
STAC_CAL = {
    "name": "stac-test",
    "periods": [
        {"name": "A", "start": "06-01", "end": "06-15", "reducer": "min", "stage": "s1"},
        {"name": "B", "start": "06-16", "end": "06-30", "reducer": "mean", "stage": "s1"},
        {"name": "C", "start": "07-01", "end": "07-15", "reducer": "max", "stage": "s2"},
        {"name": "D", "start": "07-16", "end": "07-31", "reducer": "median", "stage": "s2"},
    ],
}


@pytest.fixture(scope="session")
def stac_scene(tmp_path_factory) -> dict:
    """A 64 x 64 px Korean scene (June-July dates), its folder composite and its STAC
    catalogue (two side-by-side items per date)."""
    import json

    from cropmap.sar import composite_folder
    from cropmap.simulate import simulate_scene
    from cropmap.simulate.stac_catalog import write_stac_catalog

    n = STAC_N
    root = tmp_path_factory.mktemp("stac")
    path = simulate_scene("korea", n, 2022, 0, root / "scene", workers=1)
    meta = json.loads((path / "scene.json").read_text())
    meta["acquisitions"] = [a for a in meta["acquisitions"] if "2022-06" <= a["date"] < "2022-08"]
    for f in (path / "s1").glob("*.tif"):  # keep the calendar's dates only
        if not "2022-06" <= f.stem < "2022-08":
            f.unlink()
    x0, y0 = meta["transform"][2], meta["transform"][5]
    folder = composite_folder(path / "s1", STAC_CAL, root / "folder.tif", year=2022)
    return {
        "root": root,
        "dir": path,
        "meta": meta,
        "bbox": (x0, y0 - 10 * n, x0 + 10 * n, y0),  # the scene, in its UTM CRS
        "crs": meta["crs"],
        "catalog": write_stac_catalog(path, tiles=2),
        "folder": folder,
    }


def read_outputs(path: Path) -> tuple[np.ndarray, np.ndarray, dict]:
    """A composite's values, its count raster and its tags."""
    import rasterio

    with rasterio.open(path) as ds:
        values, tags = ds.read(), ds.tags()
    with rasterio.open(path.with_name(path.stem + ".count.tif")) as ds:
        return values, ds.read(), tags
