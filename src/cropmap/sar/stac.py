"""Compositing straight from a STAC catalogue: bbox + season in, composite GeoTIFF out.

:func:`composite_stac` searches a STAC API or static catalogue
(:mod:`cropmap.sar.stac_search`), opens the items lazily on a target grid with odc-stac
(:mod:`cropmap.sar.stac_stack`) and composites them window by window with the same
unit of work and writer as a folder of GeoTIFFs, so the output is the same composite
(and bit for bit the same on the same data).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cropmap.errors import ConfigError
from cropmap.sar.calendars import Calendar, load_calendar
from cropmap.sar.composite import Progress, plan_composite, write_composite
from cropmap.sar.reducers import Average
from cropmap.sar.stac_search import Orbit, Signer, search_items
from cropmap.sar.stac_stack import DEFAULT_RESOLUTION_M, StacStack, open_stac_stack

__all__ = ["composite_stac", "open_stac", "parse_bbox"]


def parse_bbox(text: str | Sequence[float]) -> tuple[float, float, float, float]:
    """``"W,S,E,N"`` (or four numbers) as a tuple, checked (west < east, south < north).

    Raises:
        ConfigError: not four numbers, or an empty box.
    """
    try:
        parts = [float(v) for v in (text.split(",") if isinstance(text, str) else text)]
    except ValueError:
        parts = []
    if len(parts) != 4:
        raise ConfigError(f"bbox must be four numbers W,S,E,N (e.g. 0.6,40.6,0.9,40.8): {text}")
    w, s, e, n = parts
    if not (w < e and s < n):
        raise ConfigError(f"bbox {text} is empty: need west < east and south < north (W,S,E,N)")
    return w, s, e, n


def _to_4326(bbox: Sequence[float], crs: str) -> tuple[float, float, float, float]:
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        src = CRS.from_user_input(crs)
    except CRSError as exc:
        raise ConfigError(f"unknown bbox CRS {crs!r} (use e.g. EPSG:4326 or EPSG:32631)") from exc
    if src.equals(CRS.from_epsg(4326)):
        return tuple(bbox)  # type: ignore[return-value]
    t = Transformer.from_crs(src, "EPSG:4326", always_xy=True)
    west, south, east, north = bbox
    return t.transform_bounds(west, south, east, north, densify_pts=21)


def _reference_bbox(reference: str | os.PathLike) -> tuple[tuple[float, ...], str]:
    from cropmap.io.raster import open_raster

    with open_raster(reference) as ds:
        if ds.crs is None:
            raise ConfigError(f"reference raster {reference} has no CRS")
        return tuple(ds.bounds), ds.crs.to_string()


def open_stac(
    source: str | os.PathLike,
    collection: str | None,
    calendar: str | os.PathLike | Calendar,
    year: int,
    *,
    bbox: str | Sequence[float] | None = None,
    bbox_crs: str = "EPSG:4326",
    bands: Sequence[str] = ("VV", "VH"),
    orbit: Orbit = "any",
    units: str = "auto",
    reference: str | os.PathLike | None = None,
    crs: str = "utm",
    resolution: float = DEFAULT_RESOLUTION_M,
    resampling: str = "nearest",
    sign: str | Signer | None = None,
    max_items: int | None = None,
    chunk_rows: int = 512,
) -> StacStack:
    """Search a STAC catalogue for a season and open the items lazily on the target grid.

    Arguments as in :func:`composite_stac`. Nothing but a small sample (for the units
    check) is read.
    """
    cal = load_calendar(calendar)
    if bbox is None:
        if reference is None:
            raise ConfigError("give a bbox (--bbox W,S,E,N) or a reference raster (--reference)")
        box, box_crs = _reference_bbox(reference)
    else:
        box, box_crs = parse_bbox(bbox), bbox_crs
    box4326 = _to_4326(box, box_crs)
    ranges = cal.ranges(year)
    start, end = ranges[0][0], ranges[-1][1]
    items = search_items(
        str(source), collection, box4326, start, end, orbit=orbit, sign=sign, max_items=max_items
    )
    return open_stac_stack(
        items,
        bands=bands,
        bbox=box,
        bbox_crs=box_crs,
        bbox4326=box4326,
        orbit=orbit,
        units=units,
        reference=reference,
        crs=crs,
        resolution=resolution,
        resampling=resampling,
        chunk_rows=chunk_rows,
        source=str(source),
        collection=collection or "",
    )


def composite_stac(
    source: str | os.PathLike,
    collection: str | None,
    calendar: str | os.PathLike | Calendar,
    out_path: str | os.PathLike,
    *,
    year: int,
    bbox: str | Sequence[float] | None = None,
    bbox_crs: str = "EPSG:4326",
    bands: Sequence[str] = ("VV", "VH"),
    orbit: Orbit = "any",
    units: str = "auto",
    reference: str | os.PathLike | None = None,
    crs: str = "utm",
    resolution: float = DEFAULT_RESOLUTION_M,
    resampling: str = "nearest",
    average: Average = "linear",
    sign: str | Signer | None = None,
    max_items: int | None = None,
    block_rows: int = 512,
    progress: Progress | None = None,
    compress: str = "zstd",
    dask_workers: int = 0,
    scheduler: str | None = None,
) -> Path:
    """Composite a Sentinel-1 season found in a STAC catalogue into one T x C GeoTIFF (dB).

    The output has the layout of :func:`~cropmap.sar.composite.composite_folder`'s
    (period-major bands, dB, NaN nodata, ``.count.tif`` beside it), plus tags
    ``STAC_SOURCE``, ``STAC_COLLECTION`` and ``STAC_ITEMS`` (JSON: item ids per date).

    Args:
        source: STAC API URL, or a static ``catalog.json`` / ``collection.json`` (or folder).
        collection: collection id (e.g. ``sentinel-1-rtc``); None: every item of a static
            catalogue (whose items may name no collection).
        calendar: preset name, YAML path or :class:`Calendar`.
        out_path: output GeoTIFF.
        year: season start year (searched from the first period's start to the last's end).
        bbox: ``W,S,E,N`` in ``bbox_crs`` (optional with ``reference``: its bounds).
        bbox_crs: CRS of the bbox (default EPSG:4326, lon/lat degrees).
        bands: polarisations, in output order; found by asset key or band name.
        orbit: ``any`` (every pass of a day mosaicked into one acquisition),
            ``ascending`` / ``descending`` (that direction only, relative orbits kept
            apart) or ``both`` (directions and relative orbits kept apart).
        units: ``auto`` (from the metadata: ``raster:bands`` unit, RTC product type,
            known collections; else guessed from values), ``linear`` or ``db``.
        reference: raster whose grid the composite takes (default: UTM, ``resolution``
            metres, around the bbox).
        crs: target CRS without a reference (``utm``: the bbox's UTM zone).
        resolution: pixel size without a reference, metres.
        resampling: resampling of items onto the grid (``nearest`` by default).
        average: domain of the ``mean`` reducer (``linear`` power or ``db``).
        sign: URL-signing hook: a callable, ``planetary-computer`` or ``module:function``.
        max_items: cap on the items an API search returns.
        block_rows: rows per processing window (and per Dask chunk).
        progress: called as ``progress(done_blocks, total_blocks)``.
        compress: GeoTIFF compression of the outputs.
        dask_workers: composite windows on a local Dask cluster of this many worker
            processes (the lazy stack is sent to them; each reads its windows itself).
        scheduler: address of a running Dask scheduler whose workers can reach the assets.

    Returns:
        The composite's path.

    Raises:
        StacError: unreadable catalogue, unknown collection, no item over the bbox and
            season, an item without a requested polarisation.
        UnitsError: digital numbers (uncalibrated GRD), or contradicted units.
        ConfigError: bad bbox, CRS, orbit or signer.
    """
    cal = load_calendar(calendar)
    stack = open_stac(
        source,
        collection,
        cal,
        year,
        bbox=bbox,
        bbox_crs=bbox_crs,
        bands=bands,
        orbit=orbit,
        units=units,
        reference=reference,
        crs=crs,
        resolution=resolution,
        resampling=resampling,
        sign=sign,
        max_items=max_items,
        chunk_rows=block_rows,
    )
    plan = plan_composite(stack, cal, year, average)  # type: ignore[arg-type]
    items: dict[str, list[str]] = {}
    for a in stack.acquisitions:
        items.setdefault(a.date.isoformat(), []).extend(a.item_ids)
    tags: dict[str, Any] = {
        "STAC_SOURCE": str(source),
        "STAC_COLLECTION": collection or "",
        "STAC_ITEMS": json.dumps(items),
        "STAC_ORBIT": orbit,
    }
    return write_composite(
        plan,
        out_path,
        block_rows=block_rows,
        progress=progress,
        compress=compress,
        extra_tags=tags,
        dask_workers=dask_workers,
        scheduler=scheduler,
    )
