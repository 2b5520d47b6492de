"""Parcel tessellation of a scene: land-use zones, bent field rows, farm roads, polygons.

The landscape is a smooth random field (elongated along the region's orientation, so
Korean valleys become bands); its quantiles split the scene into zones. Inside a zone,
parcels are cells of a warped strip grid (rows of fields of random width, cut into
fields of random length), which gives rectangular, slightly bent fields of the
region's size. Every few rows a farm road runs along the row boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rasterio import features
from scipy import ndimage

from cropmap.simulate.phenology import CLASS_CODE
from cropmap.simulate.region_spec import RegionSpec, Zone

if TYPE_CHECKING:
    import geopandas as gpd
    from affine import Affine
    from rasterio.crs import CRS

PIXEL_M = 10.0
ROAD_WIDTH_M = 20.0
#: Pieces of parcels smaller than this (pixels) are merged into a neighbour.
MIN_PIECE_PX = 8
MAIN_ROAD_SPACING_M = 1500.0


@dataclass(frozen=True)
class Landscape:
    """A tessellated scene.

    Attributes:
        labels: ``(H, W)`` int32 cell index of every pixel (0..N-1).
        cell_class: ``(N,)`` uint8 class code (index into ``CLASSES``) per cell.
        cell_zone: ``(N,)`` uint8 zone index per cell (255 for roads).
    """

    labels: np.ndarray
    cell_class: np.ndarray
    cell_zone: np.ndarray


def _smooth_field(
    rng: np.random.Generator,
    u: np.ndarray,
    v: np.ndarray,
    sigma_u: float,
    sigma_v: float,
) -> np.ndarray:
    """Zero-mean, unit-std smooth noise sampled at coordinates ``(u, v)`` in metres."""
    step = max(min(sigma_u, sigma_v) / 3.0, PIXEL_M)
    u0, v0 = float(u.min()), float(v.min())
    nu = int((float(u.max()) - u0) / step) + 3
    nv = int((float(v.max()) - v0) / step) + 3
    pad = int(3 * max(sigma_u, sigma_v) / step) + 1
    noise = rng.standard_normal((nv + 2 * pad, nu + 2 * pad)).astype(np.float32)
    noise = ndimage.gaussian_filter(noise, (sigma_v / step, sigma_u / step), mode="wrap")
    noise = noise[pad : pad + nv, pad : pad + nu]
    noise = (noise - noise.mean()) / (noise.std() + 1e-12)
    coords = np.stack([(v - v0) / step, (u - u0) / step])
    return ndimage.map_coordinates(noise, coords, order=1, mode="nearest").astype(np.float32)


def _rotated_coords(size: int, angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (metres) rotated by ``angle_deg``: along (u) and across (v)."""
    c = (np.arange(size, dtype=np.float32) + 0.5) * PIXEL_M
    x = c[None, :]
    y = c[:, None]
    a = np.deg2rad(angle_deg)
    u = x * np.float32(np.cos(a)) + y * np.float32(np.sin(a))
    v = -x * np.float32(np.sin(a)) + y * np.float32(np.cos(a))
    return u.astype(np.float32), v.astype(np.float32)


def _lognormal(rng: np.random.Generator, mean: float, cv: float, size: int | tuple) -> np.ndarray:
    s2 = np.log1p(cv * cv)
    return rng.lognormal(np.log(mean) - s2 / 2.0, np.sqrt(s2), size)


def _strip_grid(
    rng: np.random.Generator, zone: Zone, u: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cell index and road flag for coordinates of one zone.

    Returns:
        ``(cell, road)``: int64 cell index (strip * M + field) and bool farm-road flag.
    """
    vmin, vmax = float(v.min()) - 1.0, float(v.max()) + 1.0
    umin, umax = float(u.min()) - 1.0, float(u.max()) + 1.0
    w = zone.cell_width_m
    n_strips = int((vmax - vmin) / (0.6 * w)) + 3
    widths = np.clip(_lognormal(rng, w, 0.3, n_strips), 0.6 * w, 3.0 * w)
    v_edges = vmin - rng.uniform(0, w) + np.concatenate([[0.0], np.cumsum(widths)])
    n_strips = int(np.searchsorted(v_edges, vmax)) + 1
    v_edges = v_edges[: n_strips + 1]
    strip = np.clip(np.searchsorted(v_edges, v, side="right") - 1, 0, n_strips - 1)

    length = zone.cell_length_m
    m = int((umax - umin) / (0.5 * length)) + 3
    lengths = np.clip(_lognormal(rng, length, 0.45, (n_strips, m)), 0.5 * length, 3.0 * length)
    starts = umin - rng.uniform(0, length, (n_strips, 1))
    cuts = starts + np.cumsum(lengths, axis=1)  # (S, M), row-wise increasing, beyond umax
    span = (umax - umin) + 6.0 * length + 10.0
    flat = (cuts - umin + np.arange(n_strips)[:, None] * span).ravel()
    key = (u.astype(np.float64) - umin) + strip.astype(np.float64) * span
    cell = np.searchsorted(flat, key, side="right").astype(np.int64)

    road = np.zeros(u.shape, dtype=bool)
    if zone.roads_every > 0:
        half = ROAD_WIDTH_M / 2.0
        on_row = (strip % zone.roads_every) == 0
        road |= on_row & ((v - v_edges[strip]) < ROAD_WIDTH_M)  # first 20 m of the row
        road |= np.abs(np.mod(u, MAIN_ROAD_SPACING_M) - MAIN_ROAD_SPACING_M / 2) < half
    return cell, road


def tessellate(region: RegionSpec, size: int, rng: np.random.Generator) -> Landscape:
    """Draw the parcels of a ``size`` x ``size`` scene of ``region``.

    Args:
        region: the region spec (zones, sizes, class mixes, orientation).
        size: scene width and height in pixels (10 m).
        rng: random generator (the only source of randomness).

    Returns:
        The :class:`Landscape` (labels, per-cell class and zone).
    """
    u, v = _rotated_coords(size, region.orientation_deg)
    sig_a, sig_c = region.zone_sigma_m
    field = _smooth_field(rng, u, v, sig_a, sig_c)
    if region.warp_m > 0:
        u = u + region.warp_m * _smooth_field(rng, u, v, 800.0, 800.0)
        v = v + region.warp_m * _smooth_field(rng, u, v, 800.0, 800.0)
    bounds = np.quantile(field, [z.upto for z in region.zones[:-1]]) if size > 1 else []
    zone_map = np.searchsorted(np.asarray(bounds, np.float32), field, side="right").astype(np.uint8)

    keys = np.zeros((size, size), dtype=np.int64)
    road = np.zeros((size, size), dtype=bool)
    big = np.int64(1) << np.int64(40)
    for zi, zone in enumerate(region.zones):
        mask = zone_map == zi
        if not mask.any():
            continue
        if zone.cell_length_m <= 0:
            comp, _ = ndimage.label(mask)
            keys[mask] = zi * big + comp[mask]
        else:
            cell, zroad = _strip_grid(rng, zone, u[mask], v[mask])
            keys[mask] = zi * big + cell
            road[mask] = zroad
    n_zones = len(region.zones)
    if road.any():
        comp, _ = ndimage.label(road)
        keys[road] = n_zones * big + comp[road]

    uniq, inverse = np.unique(keys, return_inverse=True)
    labels = inverse.reshape(size, size).astype(np.int32)
    # merge slivers (cells cut by zone edges or cross roads) into their largest neighbour
    labels = features.sieve(labels, MIN_PIECE_PX, connectivity=4)
    kept, inverse = np.unique(labels, return_inverse=True)
    labels = inverse.reshape(size, size).astype(np.int32)
    uniq = uniq[kept]
    cell_zone_full = (uniq // big).astype(np.int64)
    cell_zone = np.where(cell_zone_full >= n_zones, 255, cell_zone_full).astype(np.uint8)

    cell_class = np.empty(len(uniq), dtype=np.uint8)
    cell_class[cell_zone == 255] = CLASS_CODE["road"]
    for zi, zone in enumerate(region.zones):
        sel = np.flatnonzero(cell_zone == zi)
        names = list(zone.mix)
        p = np.asarray([zone.mix[n] for n in names], dtype=np.float64)
        codes = np.asarray([CLASS_CODE[n] for n in names], dtype=np.uint8)
        cell_class[sel] = codes[rng.choice(len(names), size=len(sel), p=p / p.sum())]
    return Landscape(labels=labels, cell_class=cell_class, cell_zone=cell_zone)


def declared_classes(region: RegionSpec, land: Landscape, rng: np.random.Generator) -> np.ndarray:
    """Crops as declared in the parcel file: a few crop parcels are declared wrongly.

    A fraction ``region.label_noise`` of the crop parcels (not water, urban, forest,
    road) gets another crop of its zone's mix, as outdated or wrong declarations do.

    Returns:
        ``(N,)`` uint8 declared class code per cell.
    """
    static = {CLASS_CODE[c] for c in ("water", "urban", "forest", "road")}
    out = land.cell_class.copy()
    if region.label_noise <= 0:
        return out
    flip = rng.random(len(out)) < region.label_noise
    for zi, zone in enumerate(region.zones):
        crops = np.asarray(
            [CLASS_CODE[c] for c in zone.mix if CLASS_CODE[c] not in static], dtype=np.uint8
        )
        if len(crops) < 2:
            continue
        sel = np.flatnonzero(flip & (land.cell_zone == zi) & np.isin(out, crops))
        shift = rng.integers(1, len(crops), len(sel))
        pos = np.searchsorted(np.sort(crops), out[sel])
        out[sel] = np.sort(crops)[(pos + shift) % len(crops)]
    return out


def polygonize(
    labels: np.ndarray, cell_class: np.ndarray, transform: Affine, crs: CRS
) -> gpd.GeoDataFrame:
    """Vectorize the label raster into one polygon per 4-connected piece of a cell.

    Args:
        labels: ``(H, W)`` int32 cell index.
        cell_class: ``(N,)`` class code per cell.
        transform: affine transform of the grid.
        crs: CRS of the grid.

    Returns:
        GeoDataFrame with ``parcel_id`` (1..P, int64), ``crop`` (str), geometry (Polygon).
    """
    import geopandas as gpd
    import shapely

    from cropmap.simulate.phenology import CLASSES

    rings: list[np.ndarray] = []
    ring_counts: list[int] = []
    values: list[int] = []
    for geom, value in features.shapes(labels, connectivity=4, transform=transform):
        coords = geom["coordinates"]
        ring_counts.append(len(coords))
        rings.extend(np.asarray(r, dtype=np.float64) for r in coords)
        values.append(int(value))
    ring_off = np.concatenate([[0], np.cumsum([len(r) for r in rings])])
    poly_off = np.concatenate([[0], np.cumsum(ring_counts)])
    polys = shapely.from_ragged_array(
        shapely.GeometryType.POLYGON, np.concatenate(rings), (ring_off, poly_off)
    )
    values_arr = np.asarray(values, dtype=np.int64)
    # stable order: by top-left of each polygon, so ids do not depend on GDAL's traversal
    bounds = shapely.bounds(polys)
    order = np.lexsort((bounds[:, 0], -bounds[:, 3]))
    names = np.asarray(CLASSES, dtype=object)
    return gpd.GeoDataFrame(
        {
            "parcel_id": np.arange(1, len(order) + 1, dtype=np.int64),
            "crop": names[cell_class[values_arr[order]]].astype(str),
        },
        geometry=polys[order],
        crs=crs,
    )
