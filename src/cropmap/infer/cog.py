"""Map output: strips written into a tiled GeoTIFF, then turned into a Cloud-Optimized GeoTIFF.

The map has two uint8 bands on the input's grid: band 1 the probability of the target
class scaled to ``0..254`` (``round(p * 254)``), band 2 the class index; ``255`` is
nodata in both. Strips arrive top to bottom and are written as they finish, so memory
stays bounded; at the end GDAL's COG driver copies the file with internal overviews
(nearest resampling, so the class band at every overview level stays the thresholded
probability band), and the result is renamed onto the target atomically.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.windows import Window

from cropmap.errors import RasterWriteError
from cropmap.io.atomic import atomic_path
from cropmap.io.gdal import MAP_WRITE_CACHE_MB, gdal_env
from cropmap.io.raster import profile_for

#: Probability scale of band 1: ``p = value / PROB_SCALE``.
PROB_SCALE = 254
#: Nodata value of both bands.
NODATA = 255
#: GDAL COG driver options of every map.
COG_OPTIONS: dict[str, Any] = {
    "COMPRESS": "DEFLATE",
    "PREDICTOR": "YES",
    "BLOCKSIZE": 512,
    "OVERVIEWS": "AUTO",
    "OVERVIEW_RESAMPLING": "NEAREST",
    "BIGTIFF": "IF_SAFER",
}


def quantize(prob: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Probabilities in ``[0, 1]`` -> uint8 ``0..254``, ``255`` where not ``valid``."""
    out = np.rint(np.clip(prob, 0.0, 1.0) * PROB_SCALE).astype(np.uint8)
    out[~valid] = NODATA
    return out


def dequantize(band: np.ndarray) -> np.ndarray:
    """uint8 probability band -> float32 probabilities, NaN where nodata."""
    out = band.astype(np.float32) / PROB_SCALE
    out[band == NODATA] = np.nan
    return out


class MapWriter:
    """Write map rows into a temporary tiled GeoTIFF; :meth:`finish` makes the COG."""

    def __init__(self, dst: rasterio.io.DatasetWriter) -> None:
        self._dst = dst

    def write_rows(self, row0: int, prob_u8: np.ndarray, class_u8: np.ndarray) -> None:
        """Write ``(h, W)`` probability and class rows starting at raster row ``row0``."""
        h, w = prob_u8.shape
        win = Window(0, row0, w, h)
        self._dst.write(prob_u8, 1, window=win)
        self._dst.write(class_u8, 2, window=win)


@contextlib.contextmanager
def open_map(
    out_path: str | os.PathLike,
    *,
    width: int,
    height: int,
    crs: Any,
    transform: Any,
    descriptions: tuple[str, str],
    tags: dict[str, Any],
) -> Iterator[MapWriter]:
    """Open a map for strip-wise writing; on success it appears at ``out_path`` as a COG.

    Raises:
        RasterWriteError: the folder is not writable or GDAL fails; nothing is left behind.
    """
    out_path = Path(out_path)
    profile = profile_for(
        width=width,
        height=height,
        count=2,
        crs=crs,
        transform=transform,
        dtype="uint8",
        nodata=NODATA,
    )
    try:
        with (
            atomic_path(out_path, suffix=".tif") as final_tmp,
            tempfile.TemporaryDirectory(prefix=".cropmap-map-", dir=final_tmp.parent) as tdir,
        ):
            strip_path = Path(tdir) / "strips.tif"
            with (
                gdal_env(MAP_WRITE_CACHE_MB),
                rasterio.open(strip_path, "w", **profile) as dst,
            ):
                for i, name in enumerate(descriptions, start=1):
                    dst.set_band_description(i, name)
                dst.update_tags(**{k: str(v) for k, v in tags.items()})
                yield MapWriter(dst)
            with gdal_env(MAP_WRITE_CACHE_MB):
                rasterio.shutil.copy(strip_path, final_tmp, driver="COG", **COG_OPTIONS)
    except RasterWriteError:
        raise
    except (OSError, rasterio.errors.RasterioError) as exc:
        raise RasterWriteError(f"cannot write map {out_path}: {exc}") from exc
