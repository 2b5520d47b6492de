"""Shared fixtures: tiny simulated scenes, built once per test session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cropmap.simulate import simulate_scene

SIZE = 160


@pytest.fixture(scope="session")
def scenes(tmp_path_factory) -> dict[str, Path]:
    """One small scene per region (seed 0, year 2022)."""
    root = tmp_path_factory.mktemp("sim")
    return {
        r: simulate_scene(r, SIZE, 2022, 0, root / r)
        for r in ("korea", "spain", "france", "netherlands")
    }


def read_db(path: Path, band: str) -> np.ndarray:
    """One band of a simulated GeoTIFF, in dB."""
    import rasterio

    from cropmap.io.raster import band_index

    with rasterio.open(path) as ds:
        x = ds.read(band_index(ds, band))
    with np.errstate(divide="ignore", invalid="ignore"):
        return 10.0 * np.log10(x)


def interior(mask: np.ndarray, px: int = 2) -> np.ndarray:
    """Pixels at least ``px`` pixels inside ``mask`` (away from mixed border pixels)."""
    from scipy import ndimage

    return ndimage.binary_erosion(mask, iterations=px)


def class_raster(scene_dir: Path) -> np.ndarray:
    """Rasterize a scene's ``parcels.gpkg`` onto its grid: ``(H, W)`` uint8 class codes."""
    import geopandas as gpd
    import rasterio
    from rasterio import features

    from cropmap.simulate.phenology import CLASS_CODE

    first = sorted((scene_dir / "s1").glob("*.tif"))[0]
    with rasterio.open(first) as ds:
        shape, transform = (ds.height, ds.width), ds.transform
    gdf = gpd.read_file(scene_dir / "parcels.gpkg")
    return features.rasterize(
        zip(gdf.geometry, gdf["crop"].map(CLASS_CODE), strict=True),
        out_shape=shape,
        transform=transform,
        fill=255,
        dtype="uint8",
    )
