"""Stratified random sample of a map's pixels: the sampling design of a good-practice assessment.

:func:`stratified_sample` draws ``n`` pixels uniformly at random, without replacement,
from each map class (the strata of Olofsson et al. 2014), with bounded memory: one pass
counts the classes, the ranks of the chosen pixels are drawn per class, and a second pass
over strips of rows picks the pixels with those ranks. The result is a point file (pixel
centres, map CRS) for a person to label from reference data. With a label raster on the
same grid (e.g. a rasterized reference, or a simulated scene's truth), the reference class
is filled in too, which gives a complete, honest assessment on simulated data.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from cropmap.errors import ConfigError, GridMismatchError
from cropmap.evaluate.mapped import CLASS_BAND, STRIP_ROWS, mapped_area
from cropmap.infer.cog import NODATA
from cropmap.io.atomic import atomic_path
from cropmap.io.raster import open_raster, read_checked

#: Column of the map class in a sample file; ``REFERENCE_COLUMN`` holds the reference.
MAP_COLUMN = "map_class"
REFERENCE_COLUMN = "reference"


def draw_ranks(counts: np.ndarray, n: int, seed: int) -> list[np.ndarray]:
    """Sorted ranks of ``min(n, N_h)`` pixels drawn without replacement in each class."""
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(int(c), size=min(n, int(c)), replace=False)) for c in counts]


def pick_pixels(
    ds: Any, ranks: list[np.ndarray], strip_rows: int = STRIP_ROWS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and classes of the pixels with the given per-class ranks (raster order)."""
    from rasterio.windows import Window

    seen = np.zeros(len(ranks), np.int64)
    rows, cols, cls = [], [], []
    for row0 in range(0, ds.height, strip_rows):
        win = Window(0, row0, ds.width, min(strip_rows, ds.height - row0))
        band = read_checked(ds, CLASS_BAND, window=win).ravel()
        for k, r in enumerate(ranks):
            idx = np.flatnonzero(band == k)
            lo, hi = np.searchsorted(r, [seen[k], seen[k] + idx.size])
            flat = idx[r[lo:hi] - seen[k]]
            rows.append(row0 + flat // ds.width)
            cols.append(flat % ds.width)
            cls.append(np.full(flat.size, k, np.int64))
            seen[k] += idx.size
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(cls)


def stratified_sample(
    map_path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    per_class: int = 100,
    seed: int = 0,
    labels: str | os.PathLike | None = None,
) -> Path:
    """Write ``per_class`` random pixel centres of each map class as a GeoPackage of points.

    Args:
        map_path: map from ``cropmap predict`` (band 2 = class).
        out_path: output GeoPackage (written atomically), in the map's CRS, with columns
            ``map_class`` (name) and, with ``labels``, ``reference`` (name; units on a
            label of 255 are left out).
        per_class: sample units per map class (a class with fewer pixels gives them all).
        seed: random seed.
        labels: a label raster on the map's grid (values = class indices, 255 = unknown).

    Raises:
        ConfigError: ``per_class`` below 2.
        GridMismatchError: ``labels`` is not on the map's grid.
    """
    import geopandas as gpd
    from rasterio.transform import xy

    if per_class < 2:
        raise ConfigError(f"per_class must be at least 2 (50 or more is advised), got {per_class}")
    mapped = mapped_area(map_path)
    classes = list(mapped.classes)
    with open_raster(map_path) as ds:
        ranks = draw_ranks(np.array(mapped.pixels), per_class, seed)
        rows, cols, cls = pick_pixels(ds, ranks)
        xs, ys = xy(ds.transform, rows, cols)
        crs, grid = ds.crs, (ds.width, ds.height, ds.transform)
    data: dict[str, Any] = {MAP_COLUMN: [classes[k] for k in cls]}
    if labels is not None:
        with open_raster(labels) as lab:
            if (lab.width, lab.height, lab.transform) != grid or lab.crs != crs:
                raise GridMismatchError(
                    f"labels {labels} are not on the grid of {map_path} (size, transform or "
                    "CRS differ); rasterize the reference onto the map's grid first"
                )
            ref = np.array([int(v[0]) for v in lab.sample(list(zip(xs, ys, strict=True)))])
        known = (ref != NODATA) & (ref < len(classes))
        data = {MAP_COLUMN: np.array(data[MAP_COLUMN], object)[known]}
        data[REFERENCE_COLUMN] = [classes[k] for k in ref[known]]
        xs, ys = np.asarray(xs)[known], np.asarray(ys)[known]
    gdf = gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(xs, ys), crs=crs)
    out_path = Path(out_path)
    with atomic_path(out_path, suffix=".gpkg") as tmp:
        gdf.to_file(tmp, driver="GPKG", layer=out_path.stem)
    return out_path
