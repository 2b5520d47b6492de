"""The layout of a composite GeoTIFF: band order, names, the count file, windowed reads.

Bands are period-major (``P1_VV, P1_VH, P2_VV, ...``); tags ``PERIODS`` and ``BANDS``
name them (comma-separated); ``<stem>.count.tif`` holds valid observations per period.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rasterio.windows import Window

from cropmap.errors import RasterReadError
from cropmap.io.raster import open_raster, read_checked


def band_names(periods: Sequence[str], bands: Sequence[str]) -> list[str]:
    """Band descriptions in the documented period-major order: ``P1_VV, P1_VH, P2_VV, ...``."""
    return [f"{p}_{b}" for p in periods for b in bands]


def count_path(out_path: str | os.PathLike) -> Path:
    """Path of the per-period observation count file beside a composite."""
    p = Path(out_path)
    return p.with_name(p.stem + ".count.tif")


def composite_layout(path_or_dataset: Any) -> tuple[list[str], list[str]]:
    """Period and band names of a composite, from its tags (or band descriptions).

    Raises:
        RasterReadError: the raster is not a cropmap composite.
    """
    if isinstance(path_or_dataset, str | os.PathLike):
        with open_raster(path_or_dataset) as ds:
            return composite_layout(ds)
    ds = path_or_dataset
    tags = ds.tags()

    def _names(value: str) -> list[str]:
        value = value.strip()
        if value.startswith("["):
            return [str(v) for v in json.loads(value)]
        return [v.strip() for v in value.split(",") if v.strip()]

    if "PERIODS" in tags and "BANDS" in tags:
        periods, bands = _names(tags["PERIODS"]), _names(tags["BANDS"])
    else:
        descs = [d or "" for d in ds.descriptions]
        if not all("_" in d for d in descs):
            raise RasterReadError(
                f"{ds.name} is not a cropmap composite: no PERIODS/BANDS tags and band "
                f"descriptions are not like P1_VV ({', '.join(descs[:4])})"
            )
        periods = list(dict.fromkeys(d.rsplit("_", 1)[0] for d in descs))
        bands = list(dict.fromkeys(d.rsplit("_", 1)[1] for d in descs))
    if len(periods) * len(bands) != ds.count:
        raise RasterReadError(
            f"{ds.name}: {len(periods)} periods x {len(bands)} bands does not match its "
            f"{ds.count} raster bands"
        )
    return periods, bands


def read_composite(
    path: str | os.PathLike | Any,
    window: Window | tuple | None = None,
    bands: Sequence[str] | None = None,
) -> np.ndarray:
    """Read a composite (or a window of it) as float32 ``(T, C, h, w)`` dB, NaN nodata.

    Args:
        path: composite GeoTIFF path or an open rasterio dataset.
        window: rasterio Window or ``((row0, row1), (col0, col1))``; None for all.
        bands: band names to select (e.g. ``["VH"]``), in the order wanted.

    Raises:
        RasterReadError: not a composite, or a requested band is absent.
    """
    if isinstance(path, str | os.PathLike):
        with open_raster(path) as ds:
            return read_composite(ds, window, bands)
    ds = path
    periods, have = composite_layout(ds)
    sel = list(have) if bands is None else [b.strip().upper() for b in bands]
    upper = [b.upper() for b in have]
    for b in sel:
        if b not in upper:
            raise RasterReadError(
                f"band {b!r} not in composite {ds.name} (bands: {', '.join(have)})"
            )
    ci = [upper.index(b) for b in sel]
    idx = [t * len(have) + c + 1 for t in range(len(periods)) for c in ci]
    if isinstance(window, tuple):
        window = Window.from_slices(*window)
    arr = read_checked(ds, idx, window=window, out_dtype="float32")
    nd = ds.nodata
    if nd is not None and np.isfinite(nd):
        arr[arr == nd] = np.nan
    return arr.reshape(len(periods), len(sel), arr.shape[-2], arr.shape[-1])
