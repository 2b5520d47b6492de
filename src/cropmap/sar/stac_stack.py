"""STAC items as a lazy Sentinel-1 time series on one target grid (odc-stac + Dask).

:func:`open_stac_stack` groups items into acquisitions (by solar day; with an orbit
selection also by relative orbit and direction), picks the target grid (UTM at 10 m
around the bbox, or a reference raster's), settles units and nodata from the item and
asset metadata, and opens everything lazily with :func:`odc.stac.load`: items of one
acquisition are mosaicked onto the grid (first valid pixel wins), nothing is read until
a window is asked for. :class:`~cropmap.sar.stac_reader.StacReader` reads windows of
acquisitions exactly as :class:`~cropmap.sar.stack.StackReader` reads files (dB or
linear, NaN nodata), so the compositing code is shared with the folder path.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from rasterio.windows import Window

from cropmap.errors import ConfigError, StacError, UnitsError
from cropmap.io.raster import open_raster
from cropmap.sar.db import normalize_units, resolve_units, to_db
from cropmap.sar.grid import Grid
from cropmap.sar.stac_reader import StacReader, read_raw
from cropmap.sar.stac_search import Orbit, asset_keys, orbit_state, relative_orbit

log = logging.getLogger(__name__)

#: Pixel size of the default target grid, metres.
DEFAULT_RESOLUTION_M = 10.0

#: Collections whose units are known from their documentation (id -> units).
#: ``dn``: uncalibrated digital numbers (amplitude), which cropmap cannot turn into sigma0.
KNOWN_UNITS: dict[str, str] = {
    "sentinel-1-rtc": "linear",  # Planetary Computer: gamma0 RTC, float32 linear power
    "sentinel-1-grd": "dn",  # Planetary Computer and Earth Search: uint16 GRD amplitude DN
}


@dataclass(frozen=True)
class StacAcquisition:
    """One acquisition: the items of one solar day (and orbit, when kept apart).

    Attributes:
        date: solar day of the pass (UTC time shifted by the scene's longitude).
        index: position on the lazy array's time axis.
        item_ids: ids of the mosaicked items.
        direction: ``ascending``/``descending`` when kept apart, else None.
        relative_orbit: track number when kept apart, else None.
    """

    date: dt.date
    index: int
    item_ids: tuple[str, ...]
    direction: str | None = None
    relative_orbit: int | None = None


@dataclass(frozen=True)
class StacStack:
    """A lazily loaded STAC time series; duck-types :class:`~cropmap.sar.stack.S1Stack`.

    Attributes:
        acquisitions: sorted by date.
        bands: polarisations in output order.
        grid: the target grid.
        units: ``linear`` or ``db`` (of the raw values).
        data: ``xarray.Dataset`` of Dask arrays ``(time, y, x)``, one variable per asset key.
        keys: asset key of every band.
        nodata: per band, the declared nodata value (or None).
        source: the catalogue or API, for messages and tags.
        collection: collection id.
    """

    acquisitions: list[StacAcquisition]
    bands: tuple[str, ...]
    grid: Grid
    units: Literal["linear", "db"]
    data: Any
    keys: tuple[str, ...]
    nodata: tuple[float | None, ...]
    source: str
    collection: str

    @property
    def dates(self) -> list[dt.date]:
        """Acquisition dates, sorted (a date repeats for several orbits)."""
        return [a.date for a in self.acquisitions]

    def reader(self) -> StacReader:
        """A reader of this stack's windows (used by the compositing drivers)."""
        return StacReader(self)


def solar_day(item: Any) -> dt.date:
    """Local solar date of an item: its UTC time plus longitude / 15 hours."""
    when = item.datetime
    if when is None:
        when = dt.datetime.fromisoformat(item.properties["start_datetime"])
    lon = 0.0
    if item.bbox:
        lon = (item.bbox[0] + item.bbox[2]) / 2
    return (when + dt.timedelta(hours=lon / 15.0)).date()


def group_items(items: Sequence[Any], orbit: Orbit = "any") -> list[list[int]]:
    """Indices of ``items`` grouped into acquisitions, sorted by (date, direction, orbit).

    ``any`` groups by solar day only; ``ascending``/``descending`` by day and relative
    orbit; ``both`` by day, direction and relative orbit.
    """
    groups: dict[tuple, list[int]] = {}
    for i, item in enumerate(items):
        key: tuple = (solar_day(item),)
        if orbit != "any":
            key += (orbit_state(item) or "", relative_orbit(item) or -1)
        groups.setdefault(key, []).append(i)
    return [groups[k] for k in sorted(groups)]


def _utm_crs(bbox4326: Sequence[float]) -> str:
    from pyproj.aoi import AreaOfInterest
    from pyproj.database import query_utm_crs_info

    w, s, e, n = bbox4326
    lon, lat = (w + e) / 2, (s + n) / 2
    info = query_utm_crs_info(
        datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, lat, lon, lat)
    )
    if not info:
        raise StacError(f"no UTM zone for lon {lon:.4f}, lat {lat:.4f}; pass a reference raster")
    return f"EPSG:{info[0].code}"


def target_geobox(
    bbox: Sequence[float] | None,
    bbox_crs: str,
    bbox4326: Sequence[float],
    reference: str | os.PathLike | None,
    crs: str = "utm",
    resolution: float = DEFAULT_RESOLUTION_M,
) -> Any:
    """The output grid as an ``odc.geo.geobox.GeoBox``.

    A reference raster's grid wins. Otherwise the bbox is projected to ``crs`` (``utm``:
    the bbox's own CRS if it is UTM, else the WGS 84 UTM zone of its centre) and
    covered by ``resolution`` metre pixels whose edges are multiples of ``resolution``.
    """
    import pyproj
    from odc.geo.geobox import GeoBox
    from odc.geo.geom import box

    if reference is not None:
        with open_raster(reference) as ds:
            g = Grid.of(ds)
        if not g.crs:
            raise StacError(f"reference raster {reference} has no CRS")
        return GeoBox((g.height, g.width), g.affine, g.crs)
    if bbox is None:
        raise ConfigError("give a bbox (--bbox W,S,E,N) or a reference raster (--reference)")
    if crs == "utm":
        own = pyproj.CRS.from_user_input(bbox_crs)
        crs = bbox_crs if own.utm_zone else _utm_crs(bbox4326)
    west, south, east, north = bbox
    poly = box(west, south, east, north, crs=bbox_crs).to_crs(crs)
    return GeoBox.from_bbox(poly.boundingbox, crs=crs, resolution=resolution)


def _asset_meta(items: Sequence[Any], key: str) -> tuple[float | None, str | None, str | None]:
    """(nodata, data_type, unit) declared by the first item's ``raster:bands`` for ``key``."""
    for item in items:
        asset = item.assets[key]
        bands = asset.extra_fields.get("raster:bands") or item.properties.get("raster:bands")
        if bands:
            b = bands[0]
            nd = b.get("nodata")
            return (float(nd) if nd is not None else None, b.get("data_type"), b.get("unit"))
    return None, None, None


def declared_units(collection: str, items: Sequence[Any], keys: Sequence[str]) -> str | None:
    """Units the metadata declares: ``linear``, ``db``, ``dn`` or None (unknown).

    Read from ``raster:bands[].unit`` (``dB`` or ``linear``), then ``sar:product_type``
    ``RTC`` (gamma0, linear), then integer ``data_type`` (digital numbers), then the
    collection id (:data:`KNOWN_UNITS`).
    """
    metas = [_asset_meta(items, k) for k in keys]
    units = {str(m[2]).strip().lower() for m in metas if m[2]}
    if units <= {"db"} and units:
        return "db"
    if units <= {"linear"} and units:
        return "linear"
    if str(items[0].properties.get("sar:product_type", "")).upper() == "RTC":
        return "linear"
    if any(m[1] and str(m[1]).startswith(("uint", "int")) for m in metas):
        return "dn"
    return KNOWN_UNITS.get(collection)


def open_stac_stack(
    items: Sequence[Any],
    *,
    bands: Sequence[str] = ("VV", "VH"),
    bbox: Sequence[float] | None,
    bbox_crs: str = "EPSG:4326",
    bbox4326: Sequence[float],
    orbit: Orbit = "any",
    units: str = "auto",
    reference: str | os.PathLike | None = None,
    crs: str = "utm",
    resolution: float = DEFAULT_RESOLUTION_M,
    resampling: str = "nearest",
    chunk_rows: int = 512,
    source: str = "",
    collection: str = "",
) -> StacStack:
    """Open STAC items lazily as a time series on one grid (nothing is read but a sample).

    Args:
        items: items found by :func:`~cropmap.sar.stac_search.search_items`.
        bands: polarisations, in output order.
        bbox: area in ``bbox_crs`` (ignored when ``reference`` is given).
        bbox_crs: CRS of ``bbox``.
        bbox4326: the area in lon/lat.
        orbit: acquisition grouping (see :func:`group_items`).
        units: ``auto`` (from the metadata, else guessed), ``linear`` or ``db``.
        reference: raster whose grid is the target.
        crs: target CRS when no reference (``utm`` or any EPSG code).
        resolution: target pixel size, metres.
        resampling: resampling onto the grid (``nearest`` keeps values bit for bit).
        chunk_rows: rows per Dask chunk (full-width chunks).
        source: catalogue or API, for messages.
        collection: collection id, for messages and known units.

    Raises:
        StacError: missing polarisation asset, bbox outside every item.
        UnitsError: digital numbers, or units the values contradict.
    """
    import odc.stac

    bands = tuple(b.strip().upper() for b in bands)
    keys = tuple(asset_keys(items, bands))
    gbox = target_geobox(bbox, bbox_crs, bbox4326, reference, crs, resolution)
    footprint = gbox.extent
    kept = [it for it in items if _footprint(it).to_crs(gbox.crs).intersects(footprint)]
    if not kept:
        raise StacError(
            f"none of the {len(items)} items of {collection!r} found in {source} overlaps "
            f"the target grid ({gbox.crs}, bounds {tuple(round(v) for v in gbox.boundingbox)}); "
            "check the bbox, --bbox-crs or the reference raster"
        )
    u = normalize_units(units)
    if u == "auto":
        found = declared_units(collection, kept, keys)
        if found == "dn":
            raise UnitsError(
                f"{collection!r} in {source} holds uncalibrated digital numbers (GRD DN), not "
                "sigma0; use a calibrated collection (e.g. RTC gamma0) or calibrate first "
                "(SNAP Calibrate), or pass units=linear (--units linear) if it is sigma0"
            )
        u = found or "auto"  # type: ignore[assignment]
    groups = group_items(kept, orbit)
    where = {i: g for g, idx in enumerate(groups) for i in idx}
    meta = [_asset_meta(kept, k) for k in keys]
    data = odc.stac.load(
        kept,
        bands=list(keys),
        groupby=lambda item, parsed, idx: where[idx],
        geobox=gbox,
        chunks={"time": 1, "y": max(1, chunk_rows), "x": gbox.shape[1]},
        resampling=resampling,
        preserve_original_order=True,
    )
    acqs = []
    for t, idx in enumerate(groups):
        first = kept[idx[0]]
        acqs.append(
            StacAcquisition(
                date=solar_day(first),
                index=t,
                item_ids=tuple(kept[i].id for i in idx),
                direction=orbit_state(first) if orbit != "any" else None,
                relative_orbit=relative_orbit(first) if orbit != "any" else None,
            )
        )
    grid = Grid(
        crs=gbox.crs.to_wkt(),
        transform=tuple(gbox.affine)[:6],
        width=int(gbox.shape[1]),
        height=int(gbox.shape[0]),
    )
    stack = StacStack(
        acqs, bands, grid, "linear", data, keys, tuple(m[0] for m in meta), source, collection
    )
    resolved = resolve_units(_sample(stack), u, f"{collection} in {source}")
    return StacStack(acqs, bands, grid, resolved, data, keys, stack.nodata, source, collection)


def _footprint(item: Any) -> Any:
    from odc.geo.geom import Geometry

    return Geometry(item.geometry, "EPSG:4326")


def _sample(stack: StacStack, n_acq: int = 3, px: int = 64) -> np.ndarray:
    """Valid raw values of a central ``px`` x ``px`` window of a few acquisitions."""
    g = stack.grid
    h, w = min(px, g.height), min(px, g.width)
    win = Window((g.width - w) // 2, (g.height - h) // 2, w, h)
    step = max(1, len(stack.acquisitions) // n_acq)
    values = []
    for acq in stack.acquisitions[::step][:n_acq]:
        raw = read_raw(stack, acq, win)
        for c, nd in enumerate(stack.nodata):
            v = to_db(raw[c], "db", nd)  # "db" only masks: raw values, NaN nodata
            values.append(v[np.isfinite(v)])
    return np.concatenate(values) if values else np.empty(0, np.float32)


__all__ = [
    "KNOWN_UNITS",
    "StacAcquisition",
    "StacStack",
    "group_items",
    "open_stac_stack",
    "solar_day",
    "target_geobox",
]
