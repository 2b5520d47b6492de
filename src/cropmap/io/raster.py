"""GeoTIFF reading and writing with one default profile and atomic outputs.

All rasters cropmap writes are tiled, compressed GeoTIFFs (or COGs for maps) made
through :func:`write_geotiff` / :func:`open_writer`, so CRS, transform, nodata and band
descriptions are always kept, and a failed write never leaves a partial file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError

from cropmap.errors import CropmapError, RasterReadError, RasterWriteError
from cropmap.io.atomic import atomic_path
from cropmap.io.gdal import gdal_env

#: Default profile of every GeoTIFF cropmap writes: tiled 256 x 256, DEFLATE.
DEFAULT_PROFILE: dict[str, Any] = {
    "driver": "GTiff",
    "tiled": True,
    "blockxsize": 256,
    "blockysize": 256,
    "compress": "deflate",
    "predictor": 1,
    "interleave": "band",
    "BIGTIFF": "IF_SAFER",
}


def env() -> rasterio.Env:
    """The rasterio environment cropmap runs GDAL in (see :mod:`cropmap.io.gdal`)."""
    return gdal_env()


def open_raster(path: str | os.PathLike) -> rasterio.DatasetReader:
    """Open a raster for reading, turning GDAL's errors into a clear :class:`RasterReadError`.

    Raises:
        RasterReadError: the file is missing, truncated, corrupt or not a raster.
    """
    path = Path(path)
    if not path.exists():
        raise RasterReadError(f"raster not found: {path}")
    if path.is_dir():
        raise RasterReadError(f"expected a raster file, got a folder: {path}")
    try:
        return rasterio.open(path)
    except RasterioIOError as exc:
        raise RasterReadError(
            f"cannot read {path} as a raster (corrupt, truncated or not a GeoTIFF): {exc}"
        ) from exc


def read_checked(ds: rasterio.DatasetReader, *args: Any, **kwargs: Any) -> np.ndarray:
    """``ds.read(...)`` that reports truncated or corrupt blocks with the file name."""
    try:
        return ds.read(*args, **kwargs)
    except RasterioIOError as exc:
        raise RasterReadError(f"cannot read pixels of {ds.name} (corrupt block?): {exc}") from exc


def profile_for(
    *,
    width: int,
    height: int,
    count: int,
    crs: Any,
    transform: Any,
    dtype: str = "float32",
    nodata: float | int | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Build a write profile from :data:`DEFAULT_PROFILE` for a given grid.

    Small rasters (under one block) are written striped, as GDAL requires tiles to fit.
    """
    profile = dict(DEFAULT_PROFILE)
    profile.update(
        width=int(width),
        height=int(height),
        count=int(count),
        crs=crs,
        transform=transform,
        dtype=dtype,
        nodata=nodata,
    )
    if dtype.startswith("float"):
        profile["predictor"] = 3 if dtype == "float32" else 1
    elif dtype in {"uint8", "uint16", "int16", "int32", "uint32"}:
        profile["predictor"] = 2
    if width < 256 or height < 256:
        profile["tiled"] = False
        profile.pop("blockxsize", None)
        profile.pop("blockysize", None)
    profile.update(overrides)
    return profile


@contextlib.contextmanager
def open_writer(
    path: str | os.PathLike,
    profile: dict[str, Any],
    descriptions: Sequence[str] | None = None,
    tags: dict[str, Any] | None = None,
) -> Iterator[rasterio.io.DatasetWriter]:
    """Open a GeoTIFF for windowed writing; it appears under ``path`` only when complete.

    Args:
        path: final output path.
        profile: a profile from :func:`profile_for`.
        descriptions: one description per band (e.g. ``P1_VV``).
        tags: dataset-level metadata tags.

    Raises:
        RasterWriteError: the folder is not writable or the disk is full; nothing is left.
    """
    try:
        with atomic_path(path) as tmp, env(), rasterio.open(tmp, "w", **profile) as dst:
            if descriptions is not None:
                if len(descriptions) != profile["count"]:
                    raise RasterWriteError(
                        f"{len(descriptions)} band descriptions for {profile['count']} bands"
                    )
                for i, name in enumerate(descriptions, start=1):
                    dst.set_band_description(i, str(name))
            if tags:
                dst.update_tags(**{k: str(v) for k, v in tags.items()})
            yield dst
    except CropmapError:
        raise  # e.g. an input read error inside the block: report it as it is
    except (OSError, rasterio.errors.RasterioError) as exc:
        raise RasterWriteError(f"cannot write {path}: {exc}") from exc


def write_geotiff(
    path: str | os.PathLike,
    array: np.ndarray,
    *,
    crs: Any,
    transform: Any,
    nodata: float | int | None = None,
    descriptions: Sequence[str] | None = None,
    tags: dict[str, Any] | None = None,
    **overrides: Any,
) -> Path:
    """Write a whole ``(bands, H, W)`` or ``(H, W)`` array as a GeoTIFF, atomically.

    Use :func:`open_writer` for windowed writes of large rasters.
    """
    arr = np.asarray(array)
    if arr.ndim == 2:
        arr = arr[None]
    profile = profile_for(
        width=arr.shape[2],
        height=arr.shape[1],
        count=arr.shape[0],
        crs=crs,
        transform=transform,
        dtype=str(arr.dtype),
        nodata=nodata,
        **overrides,
    )
    with open_writer(path, profile, descriptions=descriptions, tags=tags) as dst:
        dst.write(arr)
    return Path(path)


def band_index(ds: rasterio.DatasetReader, name: str) -> int:
    """Return the 1-based index of the band described ``name`` (case-insensitive).

    Raises:
        RasterReadError: no band has that description; the message lists those that exist.
    """
    descs = [d or "" for d in ds.descriptions]
    for i, d in enumerate(descs, start=1):
        if d.strip().upper() == name.strip().upper():
            return i
    shown = ", ".join(d or f"<band {i} undescribed>" for i, d in enumerate(descs, start=1))
    raise RasterReadError(
        f"band {name!r} not found in {ds.name} (bands: {shown}); "
        "name the bands explicitly, e.g. --bands VV,VH in file order"
    )
