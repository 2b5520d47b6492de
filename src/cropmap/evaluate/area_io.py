"""Area estimation from files: a cropmap map plus a reference sample of points or parcels.

:func:`estimate_area` counts the map's classes (the strata and their weights), reads the
reference sample (any vector file, any CRS), finds the map class under each sample unit
and hands the error matrix to :func:`cropmap.evaluate.area.stratified_estimate`.

Sample units: a point is the pixel under it; a polygon (a reference parcel) is the pixel
under its representative point (a point guaranteed inside the polygon), so every unit is
one pixel, as the estimator's strata weights (pixel counts) assume. Units outside the map
or on nodata are dropped with a warning. The estimator is unbiased for stratified random,
simple random or systematic samples; a sample chosen any other way (all parcels of a
survey, say) gives numbers without that guarantee.
"""

from __future__ import annotations

import csv
import io
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cropmap.errors import ConfigError, DroppedParcelsWarning, VectorError
from cropmap.evaluate.area import AreaEstimate, error_matrix, stratified_estimate
from cropmap.evaluate.mapped import CLASS_BAND, mapped_area
from cropmap.infer.cog import NODATA
from cropmap.io.atomic import atomic_write_text
from cropmap.io.raster import open_raster
from cropmap.io.vector import read_vector

#: Reference column read when none is named.
DEFAULT_COLUMN = "class"


def reference_classes(
    values: Sequence[Any],
    classes: Sequence[str],
    *,
    target_values: Sequence[str] | None = None,
    target_index: int = 1,
    column: str = DEFAULT_COLUMN,
) -> np.ndarray:
    """Reference class index of each sample unit ``(n,)`` from its column value.

    With ``target_values``, a unit is the target class when its value (as text) is one of
    them and class 0 (other) otherwise; this needs a two-class map. Without it, values
    must be class names of the map (case-insensitive) or class indices.

    Raises:
        ConfigError: a value matches no class (the message lists the values seen).
    """
    text = [str(v).strip() for v in values]
    if target_values is not None:
        if len(classes) != 2:
            raise ConfigError(
                f"target values need a two-class map; this one has {len(classes)} classes "
                f"({', '.join(classes)}): name the classes in column {column!r} instead"
            )
        wanted = {str(v).strip().lower() for v in target_values}
        return np.array([target_index if t.lower() in wanted else 0 for t in text], np.int64)
    lookup = {c.lower(): i for i, c in enumerate(classes)}
    lookup.update({str(i): i for i in range(len(classes))})
    out = np.array([lookup.get(t.lower(), -1) for t in text], np.int64)
    if (out < 0).any():
        unknown = sorted({t for t, o in zip(text, out, strict=True) if o < 0})[:8]
        raise ConfigError(
            f"reference column {column!r} has value(s) {unknown} that are not map classes "
            f"({', '.join(classes)} or 0..{len(classes) - 1}); pass --target-values with the "
            "values that mean the target crop (e.g. --target-values rice)"
        )
    return out


def _sample_points(gdf: Any, crs: Any) -> Any:
    """One point per unit in ``crs``: points as they are, any other geometry (a parcel, a
    multi-point) by its representative point, which always lies on the geometry."""
    geoms = gdf.geometry.to_crs(crs)
    return geoms.where(geoms.geom_type == "Point", geoms.representative_point())


def estimate_area(
    map_path: str | os.PathLike,
    reference_path: str | os.PathLike,
    *,
    column: str = DEFAULT_COLUMN,
    target_values: Sequence[str] | None = None,
    layer: str | None = None,
) -> AreaEstimate:
    """Stratified area estimate (Olofsson et al. 2014) from a map and a reference sample.

    Args:
        map_path: map from ``cropmap predict`` in a projected CRS (band 2 = class).
        reference_path: vector file of points or polygons with a reference class column.
        column: the reference class column.
        target_values: column values meaning the target crop (two-class maps); otherwise
            the values must be map class names or indices.
        layer: layer of a multi-layer vector file.

    Returns:
        The :class:`~cropmap.evaluate.area.AreaEstimate` (areas in hectares).

    Raises:
        CrsError: the map is in a geographic CRS.
        VectorError: the reference file is unreadable, lacks the column or misses the map.
        ConfigError: reference values that match no class; a mapped class without samples.
    """
    mapped = mapped_area(map_path, require_metric=True)
    classes = list(mapped.classes)
    gdf = read_vector(reference_path, layer=layer, columns=[column])
    ref_all = reference_classes(
        gdf[column].tolist(),
        classes,
        target_values=target_values,
        target_index=mapped.target_index,
        column=column,
    )
    with open_raster(map_path) as ds:
        pts = _sample_points(gdf, ds.crs)
        ok_geom = ~(pts.is_empty | pts.isna())
        xy = [(p.x, p.y) for p in pts[ok_geom]]
        left, bottom, right, top = ds.bounds
        inside = np.array([left <= x < right and bottom < y <= top for x, y in xy], bool)
        map_cls = np.full(len(xy), NODATA, np.int64)
        if inside.any():
            vals = ds.sample([xy[i] for i in np.flatnonzero(inside)], indexes=CLASS_BAND)
            map_cls[inside] = [int(v[0]) for v in vals]
    ref = ref_all[ok_geom.to_numpy()]
    keep = map_cls != NODATA
    dropped = len(gdf) - int(keep.sum())
    if not keep.any():
        raise VectorError(
            f"no sample unit of {reference_path} falls on a mapped pixel of {map_path}; check "
            "that both cover the same area and that the vector's CRS is right"
        )
    if dropped:
        warnings.warn(
            f"{dropped} of {len(gdf)} reference units of {reference_path} are outside the map, "
            "on nodata or without geometry; they are left out",
            DroppedParcelsWarning,
            stacklevel=2,
        )
    counts = error_matrix(map_cls[keep], ref[keep], len(classes))
    return stratified_estimate(
        counts,
        np.array(mapped.pixels),
        pixel_area_ha=float(mapped.pixel_area_ha or 0.0),
        classes=classes,
    )


def format_table(e: AreaEstimate) -> str:
    """Plain-text report: error matrices (counts, area proportions) and per-class results."""
    w = max(12, *(len(c) for c in e.classes)) + 2
    lines = ["error matrix, sample counts (rows = map, columns = reference)"]
    head = "".ljust(w) + "".join(c.rjust(w) for c in e.classes)
    lines += [head] + [
        c.ljust(w) + "".join(f"{int(v):>{w}d}" for v in e.counts[i])
        for i, c in enumerate(e.classes)
    ]
    lines += ["", "error matrix, estimated area proportions", head] + [
        c.ljust(w) + "".join(f"{v:>{w}.4f}" for v in e.proportions[i])
        for i, c in enumerate(e.classes)
    ]
    lines += ["", "class".ljust(w) + "       n   mapped ha  estimated ha +- 95% CI"]
    lines[-1] += "        user's    producer's"
    for r in e.rows():
        lines.append(
            f"{r['class']:<{w}}{r['sample_n']:>8d}{r['mapped_ha']:>12,.2f}"
            f"{r['area_ha']:>14,.2f} +- {r['area_ci95_ha']:<10,.2f}"
            f"{r['users_accuracy']:>6.3f}+-{r['users_ci95']:.3f}"
            f"{r['producers_accuracy']:>8.3f}+-{r['producers_ci95']:.3f}"
        )
    lines.append(f"overall accuracy {e.overall:.3f} +- {e.overall_ci:.3f} (95% CI)")
    lines += [f"note: {n}" for n in e.notes]
    return "\n".join(lines)


def write_estimate(e: AreaEstimate, out_path: str | os.PathLike) -> Path:
    """Write the estimate as CSV or JSON (chosen by the suffix), atomically.

    CSV: one row per class (map class = stratum) with the per-class results, the overall
    accuracy repeated on every row, and the row of the error matrix in area proportions
    (``p_ref_<class>``: proportion of the map mapped as this class and referenced as that).

    Raises:
        ConfigError: the suffix is neither ``.csv`` nor ``.json``.
    """
    out_path = Path(out_path)
    suffix = out_path.suffix.lower()
    if suffix == ".json":
        return atomic_write_text(out_path, json.dumps(e.to_dict(), indent=2) + "\n")
    if suffix != ".csv":
        raise ConfigError(f"--out {out_path}: use a .csv or .json file name")
    rows = e.rows()
    extra = ["overall_accuracy", "overall_ci95"] + [f"p_ref_{c}" for c in e.classes]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) + extra, lineterminator="\n")
    writer.writeheader()
    for i, r in enumerate(rows):
        r.update(overall_accuracy=e.overall, overall_ci95=e.overall_ci)
        r.update({f"p_ref_{c}": float(e.proportions[i, j]) for j, c in enumerate(e.classes)})
        writer.writerow(r)
    return atomic_write_text(out_path, buf.getvalue())
