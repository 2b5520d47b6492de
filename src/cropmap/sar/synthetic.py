"""Tiny synthetic Sentinel-1 folders for tests, demos and benchmarks.

Not the physical simulator (``cropmap.simulate``): constant-plus-noise backscatter in
exactly the file layout users have (one GeoTIFF per date, bands described ``VV``/``VH``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from affine import Affine
from rasterio.windows import Window

from cropmap.io.raster import open_writer, profile_for

#: A UTM zone 31N grid origin (Ebro delta area), 10 m pixels.
DEFAULT_CRS = "EPSG:32631"
DEFAULT_TRANSFORM = Affine(10.0, 0.0, 300000.0, 0.0, -10.0, 4520000.0)


def series_dates(start: dt.date, n: int, step_days: int = 6) -> list[dt.date]:
    """``n`` dates every ``step_days`` from ``start`` (a Sentinel-1 like revisit)."""
    return [start + dt.timedelta(days=step_days * i) for i in range(n)]


def write_s1_series(
    out_dir: str | os.PathLike,
    dates: Sequence[dt.date],
    *,
    height: int = 64,
    width: int = 64,
    db_means: Sequence[float] = (-10.0, -17.0),
    noise_db: float = 1.0,
    units: str = "linear",
    bands: Sequence[str] = ("VV", "VH"),
    crs: str = DEFAULT_CRS,
    transform: Affine = DEFAULT_TRANSFORM,
    seed: int = 0,
    block_rows: int = 512,
    compress: str | None = "deflate",
) -> list[Path]:
    """Write one float32 GeoTIFF per date named ``<YYYY-MM-DD>.tif`` (nodata NaN).

    Values are ``db_means[c]`` + Gaussian noise (dB), stored as linear sigma0 or dB.
    Files are written in row blocks, so large scenes need little memory;
    ``compress=None`` writes uncompressed files fast (benchmarks).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    prof = profile_for(
        width=width,
        height=height,
        count=len(bands),
        crs=crs,
        transform=transform,
        dtype="float32",
        nodata=float("nan"),
    )
    if compress is None:
        prof.pop("compress", None)
        prof.pop("predictor", None)
    for day in dates:
        path = out / f"{day.isoformat()}.tif"
        with open_writer(path, prof, list(bands)) as dst:
            for r in range(0, height, block_rows):
                h = min(block_rows, height - r)
                block = np.empty((len(bands), h, width), dtype=np.float32)
                for c in range(len(bands)):
                    block[c] = db_means[c % len(db_means)]
                    block[c] += rng.standard_normal((h, width), dtype=np.float32) * noise_db
                if units == "linear":
                    block = np.power(np.float32(10.0), block / np.float32(10.0))
                dst.write(block, window=Window(0, r, width, h))
        paths.append(path)
    return paths
