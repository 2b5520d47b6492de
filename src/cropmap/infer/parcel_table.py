"""Parcel-level statistics of a map: windowed zonal statistics, one row per parcel.

Agencies report per parcel, not per pixel. :func:`parcel_stats` reads the map in strips
of rows, burns the parcels that touch each strip into a label raster of parcel indices
(pixel centres inside the polygon), and accumulates per parcel with ``np.bincount``:
pixels, valid pixels, probability sum and per-class counts. Memory is one strip plus a
few numbers per parcel, whatever the map's size. Parcels are reprojected to the map's
CRS for the computation; the output keeps the parcels' own geometry and CRS.

Output columns (beside the input's): ``area_ha`` (the polygon's area in hectares, in the
map's CRS, or in the parcel's UTM zone for a geographic map), ``n_pixels`` (pixel centres
inside the parcel), ``valid_fraction`` (share of them with a prediction), ``prob_mean`` (mean target
probability over valid pixels, 0..1), ``class_majority`` (most frequent class index),
``class_threshold`` (1 when ``prob_mean >= threshold``, two-class maps), ``class_name``
(name of ``class_majority``). Parcels without any valid pixel get NaN / -1.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from cropmap.errors import DroppedParcelsWarning, RasterReadError, VectorError
from cropmap.infer.cog import NODATA, PROB_SCALE
from cropmap.io.atomic import atomic_path
from cropmap.io.raster import open_raster, read_checked

log = logging.getLogger(__name__)

#: Map rows read per strip.
STRIP_ROWS = 1024


def _read_parcels(path: Path, crs: object) -> tuple[Any, Any]:
    """The parcels as read (GeoDataFrame) and their geometry in ``crs`` (GeoSeries)."""
    import geopandas as gpd

    if not path.exists():
        raise VectorError(f"parcel file not found: {path}")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own types
        raise VectorError(f"cannot read parcels from {path}: {exc}") from exc
    if gdf.empty:
        raise VectorError(f"{path} has no parcels")
    if gdf.crs is None:
        raise VectorError(f"{path} has no CRS; set one (e.g. ogr2ogr -a_srs EPSG:32630)")
    geoms = gdf.geometry.to_crs(crs) if crs is not None else gdf.geometry
    return gdf, geoms


def parcel_stats(
    map_path: str | os.PathLike,
    parcels_path: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    threshold: float | None = None,
    strip_rows: int = STRIP_ROWS,
) -> Path:
    """Per-parcel mean probability, class and valid fraction of a map, as a GeoPackage.

    Args:
        map_path: map written by :func:`cropmap.infer.predict_raster` (band 1 probability
            ``0..254``, band 2 class, 255 nodata).
        parcels_path: parcel polygons (any vector format geopandas reads), any CRS.
        out_path: output GeoPackage, written atomically.
        threshold: for ``class_threshold`` (default: the map's ``THRESHOLD`` tag, else 0.5).
        strip_rows: map rows per strip (memory scales with it).

    Returns:
        ``out_path``.

    Raises:
        RasterReadError: the map is not a cropmap map.
        VectorError: the parcels are missing, empty, lack a CRS, or miss the map entirely.
    """
    from rasterio.features import rasterize
    from rasterio.windows import Window, bounds

    map_path, out_path = Path(map_path), Path(out_path)
    with open_raster(map_path) as ds:
        if ds.count < 2 or ds.dtypes[0] != "uint8":
            raise RasterReadError(
                f"{map_path} is not a cropmap map (expected 2 uint8 bands: probability, class)"
            )
        tags = ds.tags()
        classes = [c for c in tags.get("CLASSES", "other,target").split(",") if c]
        thr = float(tags.get("THRESHOLD", 0.5)) if threshold is None else float(threshold)
        gdf, geoms = _read_parcels(Path(parcels_path), ds.crs)
        n = len(gdf)
        n_cls = max(len(classes), 2)
        count = np.zeros(n, np.int64)
        valid = np.zeros(n, np.int64)
        psum = np.zeros(n, np.float64)
        per_class = np.zeros((n_cls, n), np.int64)
        sindex = geoms.sindex
        for row0 in range(0, ds.height, strip_rows):
            win = Window(0, row0, ds.width, min(strip_rows, ds.height - row0))
            hits = sindex.query(_box(bounds(win, ds.transform)), predicate="intersects")
            if hits.size == 0:
                continue
            shapes = [(geoms.iloc[i], int(i) + 1) for i in hits if _usable(geoms.iloc[i])]
            if not shapes:
                continue
            labels = rasterize(
                shapes,
                out_shape=(int(win.height), int(win.width)),
                transform=ds.window_transform(win),
                fill=0,
                dtype="int32",
            ).ravel()
            inside = labels > 0
            if not inside.any():
                continue
            ids = labels[inside] - 1
            prob = read_checked(ds, 1, window=win).ravel()[inside]
            cls = read_checked(ds, 2, window=win).ravel()[inside]
            ok = prob != NODATA
            count += np.bincount(ids, minlength=n)
            valid += np.bincount(ids[ok], minlength=n)
            psum += np.bincount(ids[ok], weights=prob[ok].astype(np.float64), minlength=n)
            for c in range(n_cls):
                sel = ok & (cls == c)
                per_class[c] += np.bincount(ids[sel], minlength=n)
    if not count.any():
        raise VectorError(f"no parcel of {parcels_path} covers a pixel centre of {map_path}")
    empty = int((count == 0).sum())
    if empty:
        warnings.warn(
            f"{empty} of {n} parcels cover no pixel centre of {map_path} (outside the map or "
            "smaller than a pixel); their statistics are NaN",
            DroppedParcelsWarning,
            stacklevel=2,
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        prob_mean = psum / valid / PROB_SCALE
        valid_fraction = valid / count
    majority = np.where(valid > 0, per_class.argmax(axis=0), -1)
    out = gdf.copy()
    out["area_ha"] = _area_ha(geoms)
    out["n_pixels"] = count
    out["valid_fraction"] = valid_fraction
    out["prob_mean"] = prob_mean
    out["class_majority"] = majority
    out["class_threshold"] = np.where(valid > 0, (prob_mean >= thr).astype(int), -1)
    out["class_name"] = [classes[m] if 0 <= m < len(classes) else None for m in majority]
    with atomic_path(out_path, suffix=".gpkg") as tmp:
        out.to_file(tmp, driver="GPKG", layer=out_path.stem)
    log.info("wrote %s (%d parcels, %d without pixels)", out_path, n, empty)
    return out_path


def _area_ha(geoms: object) -> np.ndarray:
    """Polygon areas in hectares: in the map's CRS if projected, else in a UTM zone."""
    crs = geoms.crs  # type: ignore[attr-defined]
    if crs is None:
        return np.full(len(geoms), np.nan)  # type: ignore[arg-type]
    if crs.is_geographic:
        geoms = geoms.to_crs(geoms.estimate_utm_crs())  # type: ignore[attr-defined]
        factor = 1.0
    else:
        factor = float(crs.axis_info[0].unit_conversion_factor)
    return geoms.area.to_numpy() * factor**2 / 10_000.0  # type: ignore[attr-defined]


def _usable(geom: Any) -> bool:
    return geom is not None and not geom.is_empty


def _box(b: tuple[float, float, float, float]) -> object:
    from shapely.geometry import box

    return box(*b)
