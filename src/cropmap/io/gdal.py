"""GDAL settings in one place: the options every read and write runs under, and the
block cache of each stage.

GDAL reads ``GDAL_CACHEMAX`` below 100,000 as megabytes and above as bytes; cropmap
states every cache size in MB here and converts once, in :func:`gdal_env`.
"""

from __future__ import annotations

from typing import Any

import rasterio

#: GDAL options of every read and write.
GDAL_ENV: dict[str, Any] = {"GDAL_NUM_THREADS": "ALL_CPUS", "GDAL_TIFF_INTERNAL_MASK": True}

#: GDAL block cache while compositing, in MB: GDAL's default (5 % of RAM) would keep
#: every input window read so far and dominate memory.
COMPOSITE_CACHE_MB = 64

#: GDAL block cache while predicting (reading the input), in MB.
PREDICT_CACHE_MB = 256

#: GDAL block cache while writing a map (strips, then the COG copy), in MB: a few
#: strips of tiles, never the whole map.
MAP_WRITE_CACHE_MB = 256


def gdal_env(cache_mb: int | None = None, *, direct_io: bool = False) -> rasterio.Env:
    """The rasterio environment cropmap runs GDAL in.

    Args:
        cache_mb: cap of GDAL's block cache in MB (default: GDAL's own, 5 % of RAM).
        direct_io: read uncompressed GeoTIFFs straight into the caller's array, past the
            block cache (``GTIFF_DIRECT_IO``; compressed files are read as usual). For
            reads that touch each block once, as compositing does.
    """
    opts = dict(GDAL_ENV)
    if cache_mb is not None:
        opts["GDAL_CACHEMAX"] = int(cache_mb) * 1024 * 1024  # bytes: never read as MB
    if direct_io:
        opts["GTIFF_DIRECT_IO"] = "YES"
    return rasterio.Env(**opts)
