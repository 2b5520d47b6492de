"""A tiny patch store written directly per the contract (manifest.json + npz)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

PERIODS = [f"P{i}" for i in range(1, 9)]
STAGES = [
    "planting",
    "planting",
    "tillering",
    "tillering",
    "booting",
    "booting",
    "ripening",
    "ripening",
]


def write_store(root: Path, n: int = 8, size: int = 32, seed: int = 0) -> Path:
    """``n`` patches (half train, a quarter val, a quarter test), bands VV,VH in dB.

    Rice pixels (label 1) are flooded (VH about -24 dB) in periods 1-2 and bright at
    peak (periods 5-6); other pixels stay near -17 dB. A few pixels are NaN or 255.
    """
    rng = np.random.default_rng(seed)
    (root / "patches").mkdir(parents=True)
    entries = []
    vh_mean = np.array([-24, -22, -19, -17, -14, -14, -16, -17], np.float32)
    for i in range(n):
        y = np.zeros((size, size), np.uint8)
        for _ in range(4):
            r, c = rng.integers(0, size - 8, 2)
            y[r : r + 8, c : c + 6] = 1
        y[-2:, :] = 255
        vh = np.where(y[None] == 1, vh_mean[:, None, None], -17.0)
        vh = vh + rng.normal(0, 1.0, (8, size, size))
        vv = vh + 7.0 + rng.normal(0, 1.0, (8, size, size))
        x = np.stack([vv, vh], axis=1).astype(np.float32)
        x[:, :, 0, 0] = np.nan
        pid = f"p{i:03d}"
        np.savez_compressed(root / "patches" / f"{pid}.npz", x=x, y=y)
        split = "train" if i < n // 2 else ("val" if i < 3 * n // 4 else "test")
        entries.append(
            {
                "id": pid,
                "file": f"patches/{pid}.npz",
                "split": split,
                "row": 0,
                "col": i * size,
                "transform": [10.0, 0.0, 400000.0 + i * size * 10, 0.0, -10.0, 4500000.0],
                "valid_fraction": float((y != 255).mean()),
                "target_fraction": float((y == 1).sum() / max((y != 255).sum(), 1)),
            }
        )
    manifest = {
        "format": "cropmap-patches/1",
        "region": "korea",
        "calendar": {
            "name": "korea-rice",
            "periods": [
                {"name": p, "start": "05-10", "end": "05-30", "reducer": "min", "stage": s}
                for p, s in zip(PERIODS, STAGES, strict=True)
            ],
        },
        "periods": PERIODS,
        "bands": ["VV", "VH"],
        "crs": "EPSG:32652",
        "patch_size": size,
        "stride": size,
        "classes": ["other", "rice"],
        "target": "rice",
        "ignore_index": 255,
        "norm": {"mean": {"VV": -11.0, "VH": -18.0}, "std": {"VV": 3.0, "VH": 3.0}},
        "patches": entries,
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return write_store(tmp_path / "store")


def write_map(
    path: Path,
    classes: np.ndarray,
    *,
    crs: str = "EPSG:32652",
    pixel_m: float = 10.0,
    origin: tuple[float, float] = (300000.0, 4000000.0),
    class_names: str = "other,rice",
    cog: bool = False,
) -> Path:
    """A cropmap map (band 1 probability, band 2 class; 255 nodata) from a class array."""
    import rasterio
    import rasterio.shutil
    from rasterio.transform import from_origin

    from cropmap.io.raster import write_geotiff

    cls = np.asarray(classes, np.uint8)
    prob = np.where(cls == 255, 255, np.where(cls == 1, 200, 30)).astype(np.uint8)
    tags = {"CLASSES": class_names, "TARGET": class_names.split(",")[1], "THRESHOLD": 0.5}
    transform = from_origin(origin[0], origin[1], pixel_m, pixel_m)
    tmp = path.with_name(path.stem + "_strips.tif") if cog else path
    write_geotiff(tmp, np.stack([prob, cls]), crs=crs, transform=transform, nodata=255, tags=tags)
    if cog:
        rasterio.shutil.copy(
            tmp, path, driver="COG", OVERVIEWS="AUTO", OVERVIEW_RESAMPLING="NEAREST"
        )
        tmp.unlink()
    return path


@pytest.fixture
def make_map() -> object:
    """Factory: ``make_map(path, classes (H, W) uint8, crs=..., pixel_m=10, ...)``."""
    return write_map
