"""Mapped area of a cropmap map: class pixel counts read in strips, pixel area in hectares.

The area "as mapped" is pixel counting: the number of pixels of a class times the pixel
area from the map's transform. It is biased by the map's errors; the stratified
estimate of :mod:`cropmap.evaluate.area` corrects it with a reference sample. Pixel
areas need a projected CRS: in a geographic CRS (degrees) a pixel's area changes with
latitude, so :func:`pixel_area_ha` refuses it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cropmap.errors import CrsError, RasterReadError
from cropmap.infer.cog import NODATA
from cropmap.io.raster import open_raster, read_checked

#: Map rows per strip while counting (memory: ``STRIP_ROWS x width`` bytes).
STRIP_ROWS = 1024
#: Band of the class index in a cropmap map.
CLASS_BAND = 2


def pixel_area_ha(crs: Any, transform: Any, name: str = "the map") -> float:
    """Area of one pixel in hectares, from the transform, in a projected CRS.

    Raises:
        CrsError: the CRS is missing or geographic (degrees), so a pixel has no fixed area.
    """
    if crs is None:
        raise CrsError(f"{name} has no CRS: pixel areas are unknown; assign its CRS first")
    if crs.is_geographic:
        raise CrsError(
            f"{name} is in a geographic CRS ({crs.to_string()}, degrees): a pixel's area "
            "changes with latitude; reproject the map to a projected CRS in metres "
            "(e.g. its UTM zone: gdalwarp -t_srs EPSG:326NN -r near)"
        )
    _, to_metres = crs.linear_units_factor
    a = abs(transform.a * transform.e - transform.b * transform.d) * float(to_metres) ** 2
    return a / 10_000.0


def map_classes(tags: dict[str, str]) -> list[str]:
    """Class names of a map from its ``CLASSES`` tag (default ``other, target``)."""
    return [c for c in tags.get("CLASSES", "other,target").split(",") if c] or ["other", "target"]


def class_pixel_counts(ds: Any, strip_rows: int = STRIP_ROWS) -> np.ndarray:
    """Pixels of each class value ``(256,)`` in the class band, read in strips of rows.

    The nodata value (255) is counted at index 255; callers drop it.
    """
    from rasterio.windows import Window

    counts = np.zeros(256, np.int64)
    for row0 in range(0, ds.height, strip_rows):
        win = Window(0, row0, ds.width, min(strip_rows, ds.height - row0))
        band = read_checked(ds, CLASS_BAND, window=win)
        counts += np.bincount(band.ravel(), minlength=256)[:256]
    return counts


@dataclass(frozen=True)
class MappedArea:
    """Pixel counts and areas of each class of a map (hectares; ``None`` without a CRS)."""

    path: Path
    classes: tuple[str, ...]
    target: str
    target_index: int
    pixels: tuple[int, ...]
    nodata_pixels: int
    pixel_area_ha: float | None

    @property
    def hectares(self) -> tuple[float, ...] | None:
        """Mapped area of each class in hectares (``None`` in a geographic CRS)."""
        if self.pixel_area_ha is None:
            return None
        return tuple(n * self.pixel_area_ha for n in self.pixels)

    def summary(self) -> str:
        """One line: the target's mapped area in hectares and its share of the valid area."""
        n_t = self.pixels[self.target_index]
        valid = sum(self.pixels)
        share = f"{100.0 * n_t / valid:.1f}% of {valid:,} mapped px" if valid else "no valid px"
        if self.pixel_area_ha is None:
            return f"mapped {self.target}: {n_t:,} px ({share}); area unknown: geographic CRS"
        return f"mapped {self.target}: {n_t * self.pixel_area_ha:,.2f} ha ({n_t:,} px, {share})"


def mapped_area(map_path: str | os.PathLike, *, require_metric: bool = False) -> MappedArea:
    """Count the classes of a cropmap map (strip by strip) and convert them to hectares.

    Args:
        map_path: map written by ``cropmap predict`` (band 2 = class, 255 = nodata).
        require_metric: raise instead of returning ``pixel_area_ha=None`` for a map in a
            geographic CRS.

    Raises:
        RasterReadError: not a cropmap map, or a class value beyond the ``CLASSES`` tag.
        CrsError: ``require_metric`` and the map has no projected CRS.
    """
    map_path = Path(map_path)
    with open_raster(map_path) as ds:
        if ds.count < CLASS_BAND or ds.dtypes[CLASS_BAND - 1] != "uint8":
            raise RasterReadError(
                f"{map_path} is not a cropmap map (expected 2 uint8 bands: probability, class)"
            )
        tags = ds.tags()
        classes = map_classes(tags)
        try:
            area = pixel_area_ha(ds.crs, ds.transform, str(map_path))
        except CrsError:
            if require_metric:
                raise
            area = None
        counts = class_pixel_counts(ds)
    k = len(classes)
    extra = np.flatnonzero(counts[k:NODATA])
    if extra.size:
        raise RasterReadError(
            f"{map_path} has class value {int(extra[0]) + k} but its CLASSES tag names only "
            f"{k} classes ({', '.join(classes)})"
        )
    target = tags.get("TARGET", classes[1] if k > 1 else classes[0])
    t_idx = classes.index(target) if target in classes else min(1, k - 1)
    return MappedArea(
        path=map_path,
        classes=tuple(classes),
        target=target,
        target_index=t_idx,
        pixels=tuple(int(v) for v in counts[:k]),
        nodata_pixels=int(counts[NODATA]),
        pixel_area_ha=area,
    )


def parcel_area_summary(table_path: str | os.PathLike, target: str | None = None) -> str:
    """One line from a ``cropmap parcels`` table: parcels whose majority class is the target.

    Args:
        table_path: the GeoPackage written by :func:`cropmap.infer.parcel_stats`.
        target: class name of the target (default: the most frequent name that is not
            ``other``, else ``class 1``).
    """
    import pyogrio

    df = pyogrio.read_dataframe(table_path, read_geometry=False)
    names = df["class_name"].dropna().astype(str)
    if target is None:
        others = names[names.str.lower() != "other"]
        target = str(others.mode().iloc[0]) if len(others) else "target"
    sel = df["class_name"] == target
    n, total = int(sel.sum()), len(df)
    ha = float(df.loc[sel, "area_ha"].sum())
    return f"{target} (majority class): {n:,} of {total:,} parcels, {ha:,.2f} ha of parcel area"
