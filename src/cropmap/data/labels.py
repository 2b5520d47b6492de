"""Label rasters from parcel vectors, on a composite's grid.

Parcels in any CRS are reprojected onto the grid, repaired when invalid, and burned as
uint8 class values: ``mapping`` maps class names or codes to values (e.g.
``{"rice": 1}``, or a :class:`~cropmap.data.mappings.ClassMapping` / preset such as
``france-rpg``), every other known class gets ``default`` (0) and is reported as
unmapped with its parcel count, a missing class gets ``unknown`` (255, ignored in
training), and pixels outside every parcel get ``background``.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from cropmap.data.mappings import ClassMapping, load_mapping, normalize_class
from cropmap.errors import DroppedParcelsWarning, EmptyInputError, VectorError
from cropmap.io.raster import open_raster, open_writer, profile_for
from cropmap.io.vector import read_vector

log = logging.getLogger(__name__)

IGNORE = 255


class RasterizeReport(BaseModel):
    """What :func:`rasterize_parcels` did."""

    out_path: str
    n_parcels: int
    n_burned: int
    repaired_invalid: int = 0
    dropped_invalid: int = 0
    dropped_outside: int = 0
    class_values: dict[str, int] = Field(default_factory=dict)
    pixel_counts: dict[int, int] = Field(default_factory=dict)
    unmapped: dict[str, int] = Field(default_factory=dict)
    default: int = 0

    def summary(self) -> str:
        """One-line human summary (unmapped classes: the ten most frequent)."""
        text = (
            f"{self.n_burned}/{self.n_parcels} parcels burned into {self.out_path} "
            f"(dropped: {self.dropped_invalid} invalid, {self.dropped_outside} outside the grid; "
            f"repaired: {self.repaired_invalid}); pixels per value: {self.pixel_counts}"
        )
        if self.unmapped:
            top = list(self.unmapped.items())
            shown = ", ".join(f"{k} {n}" for k, n in top[:10])
            more = f", and {len(top) - 10} more" if len(top) > 10 else ""
            text += (
                f"; {len(top)} classes not in the mapping got {self.default} "
                f"(parcels: {shown}{more})"
            )
        return text


def class_values(
    classes: Any, mapping: Mapping[str, int], default: int, unknown: int
) -> tuple[np.ndarray, dict[str, int], dict[str, int]]:
    """Map a column of class names or codes to uint8 values.

    Matching ignores case, spaces and accents, and ``236.0`` matches ``236`` (see
    :func:`~cropmap.data.mappings.normalize_class`).

    Returns:
        ``(values, seen, unmapped)``: uint8 per parcel; class -> value of every class
        seen; class -> parcel count of the classes not in ``mapping`` (most frequent
        first), which got ``default``.
    """
    norm: dict[str, int] = {}
    for k, v in mapping.items():
        if not 0 <= int(v) <= 255:
            raise VectorError(f"mapping value for {k!r} must be 0..255, got {v}")
        key = normalize_class(k)
        if key is not None:
            norm[key] = int(v)
    out = np.empty(len(classes), dtype=np.uint8)
    seen: dict[str, int] = {}
    unmapped: dict[str, int] = {}
    for i, c in enumerate(classes):
        key = normalize_class(c)
        if key is None:
            out[i] = unknown
            continue
        label = str(int(c)) if isinstance(c, float) and c.is_integer() else str(c)
        if key in norm:
            out[i] = norm[key]
        else:
            out[i] = default
            unmapped[label] = unmapped.get(label, 0) + 1
        seen[label] = int(out[i])
    unmapped = dict(sorted(unmapped.items(), key=lambda kv: (-kv[1], kv[0])))
    return out, seen, unmapped


def _check_targets_present(
    mapping: Mapping[str, int],
    default: int,
    seen: Mapping[str, int],
    burned: Any,
    vector_path: str | os.PathLike,
    class_column: str,
) -> None:
    """Raise when no parcel on the grid carries a mapped class: the labels would hold no
    target at all, and a model trained on them could only learn "not target"."""
    targets = {
        key: int(v)
        for k, v in mapping.items()
        if int(v) != default and (key := normalize_class(k)) is not None
    }
    if not targets or bool(np.isin(np.asarray(burned), list(set(targets.values()))).any()):
        return
    shown_t = sorted(targets)
    names = ", ".join(shown_t[:8]) + (f", ... ({len(shown_t)} classes)" if len(shown_t) > 8 else "")
    if any(normalize_class(c) in targets for c in seen):
        raise EmptyInputError(
            f"no parcel of class {names} in {vector_path} lies on the grid (they all fall "
            "outside it); nothing written; check the extent of the parcels and the raster"
        )
    shown = sorted(seen, key=str.lower)
    listing = ", ".join(shown[:12]) + (f", ... ({len(shown)} classes)" if len(shown) > 12 else "")
    raise EmptyInputError(
        f"target class {names} is in no parcel of {vector_path} (column {class_column!r} "
        f"holds: {listing or 'no class'}); nothing written; pass --target with one of "
        "those classes, a --mapping that names them, or --class-column for another column"
    )


def rasterize_parcels(
    vector_path: str | os.PathLike,
    grid_raster: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    class_column: str | None = None,
    mapping: Mapping[str, int] | ClassMapping | str | os.PathLike | None = None,
    default: int | None = None,
    unknown: int | None = None,
    background: int = 0,
    all_touched: bool = False,
    layer: str | int | None = None,
    block_rows: int = 1024,
) -> RasterizeReport:
    """Rasterize parcels onto the grid of ``grid_raster`` as a uint8 GeoTIFF (nodata 255).

    Args:
        vector_path: parcels in any format and CRS geopandas reads.
        grid_raster: raster whose CRS, transform and size define the output grid.
        out_path: output label GeoTIFF.
        class_column: column holding the class names or codes (default: the
            mapping's ``column``, else ``crop``).
        mapping: class name or code -> value (default ``{"rice": 1}``), or a
            :class:`~cropmap.data.mappings.ClassMapping`, a preset name
            (``france-rpg``, ...) or a mapping YAML path; matching ignores case.
        default: value of every class not in ``mapping`` (default: the mapping's, else
            0 = other); such classes are reported in ``RasterizeReport.unmapped``.
        unknown: value of parcels without a class (default: the mapping's, else 255).
        background: value of pixels outside every parcel (0, or 255 to ignore them).
        all_touched: burn every pixel a parcel touches (default: pixel centres inside).
        layer: layer of a multi-layer vector file.
        block_rows: rows rasterized at a time (bounds memory on large grids).

    Returns:
        A :class:`RasterizeReport`; parcels dropped also raise a DroppedParcelsWarning.

    Raises:
        VectorError: unreadable file, no CRS, missing class column, bad mapping.
        EmptyInputError: no parcel on the grid has a class of ``mapping`` (a value other
            than ``default``): the labels would hold no target; nothing is written.
        RasterReadError: the grid raster cannot be read.
    """
    from rasterio.features import rasterize
    from rasterio.windows import Window
    from rasterio.windows import transform as window_transform
    from shapely import box, make_valid

    cm: ClassMapping | None = None
    if isinstance(mapping, ClassMapping | str | os.PathLike):
        cm = load_mapping(mapping)
        mapping = cm.values
    mapping = {"rice": 1} if mapping is None else mapping
    default = default if default is not None else (cm.default if cm is not None else 0)
    unknown = unknown if unknown is not None else (cm.unknown if cm is not None else IGNORE)
    if class_column is None and cm is not None and cm.column is None:
        gdf = read_vector(vector_path, layer=layer)
        have = ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name)
        raise VectorError(
            f"mapping {cm.name!r} names no class column; pass class_column= (--class-column) "
            f"with the column of {vector_path} that holds the codes (columns: {have})"
        )
    class_column = class_column or (cm.column if cm is not None else None) or "crop"
    gdf = read_vector(vector_path, layer=layer, columns=[class_column])
    with open_raster(grid_raster) as ds:
        crs, transform, width, height = ds.crs, ds.transform, ds.width, ds.height
    if crs is None:
        raise VectorError(f"grid raster {grid_raster} has no CRS; cannot place parcels on it")
    n = len(gdf)
    values, seen, _ = class_values(gdf[class_column].tolist(), mapping, default, unknown)
    gdf = gdf.assign(_value=values)
    geoms = gdf.geometry
    null = geoms.isna() | geoms.is_empty
    invalid = ~null & ~geoms.is_valid
    repaired = 0
    if invalid.any():
        fixed = geoms[invalid].apply(make_valid)
        gdf.loc[invalid, gdf.geometry.name] = fixed
        repaired = int((~fixed.is_empty).sum())
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    dropped_invalid = int((~keep).sum())
    gdf = gdf[keep].to_crs(crs)
    gdf = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon", "GeometryCollection"])]
    dropped_invalid += int(keep.sum()) - len(gdf)
    left, top = transform * (0, 0)
    right, bottom = transform * (width, height)
    extent = box(min(left, right), min(top, bottom), max(left, right), max(top, bottom))
    inside = gdf.intersects(extent)
    dropped_outside = int((~inside).sum())
    if len(gdf) and not inside.any():
        b = gdf.total_bounds
        raise VectorError(
            f"no parcel of {vector_path} overlaps the grid of {grid_raster}: parcels span "
            f"x {b[0]:.0f}..{b[2]:.0f}, y {b[1]:.0f}..{b[3]:.0f} but the raster spans "
            f"x {extent.bounds[0]:.0f}..{extent.bounds[2]:.0f}, "
            f"y {extent.bounds[1]:.0f}..{extent.bounds[3]:.0f} ({crs}); "
            "check that both cover the same area and that the vector's CRS is right"
        )
    gdf = gdf[inside]
    # classes left out of the mapping, counted over the parcels that reach the grid
    unmapped = class_values(gdf[class_column].tolist(), mapping, default, unknown)[2]
    _check_targets_present(mapping, default, seen, gdf["_value"], vector_path, class_column)
    sindex = gdf.sindex
    counts = np.zeros(256, dtype=np.int64)
    prof = profile_for(
        width=width,
        height=height,
        count=1,
        crs=crs,
        transform=transform,
        dtype="uint8",
        nodata=IGNORE,
    )
    with open_writer(
        out_path,
        prof,
        ["label"],
        {
            "CLASS_COLUMN": class_column,
            "MAPPING": dict(mapping),
            "MAPPING_NAME": cm.name if cm is not None else "custom",
        },
    ) as dst:
        for r in range(0, height, block_rows):
            win = Window(0, r, width, min(block_rows, height - r))
            wt = window_transform(win, transform)
            x0, y0 = wt * (0, 0)
            x1, y1 = wt * (win.width, win.height)
            hits = sindex.query(box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
            sub = gdf.iloc[np.sort(hits)]
            shape = (int(win.height), int(win.width))
            if len(sub):
                block = rasterize(
                    zip(sub.geometry, sub["_value"].astype(int), strict=True),
                    out_shape=shape,
                    transform=wt,
                    fill=background,
                    dtype="uint8",
                    all_touched=all_touched,
                )
            else:
                block = np.full(shape, background, dtype=np.uint8)
            counts += np.bincount(block.ravel(), minlength=256)
            dst.write(block[None], window=win)
    report = RasterizeReport(
        out_path=str(Path(out_path)),
        n_parcels=n,
        n_burned=len(gdf),
        repaired_invalid=repaired,
        dropped_invalid=dropped_invalid,
        dropped_outside=dropped_outside,
        class_values=seen,
        unmapped=unmapped,
        default=default,
        pixel_counts={int(v): int(c) for v, c in enumerate(counts) if c},
    )
    if dropped_invalid or dropped_outside:
        warnings.warn(
            f"{vector_path}: {dropped_invalid} parcels with empty/invalid geometry and "
            f"{dropped_outside} outside the grid of {grid_raster} were dropped",
            DroppedParcelsWarning,
            stacklevel=2,
        )
    log.info(report.summary())
    return report
