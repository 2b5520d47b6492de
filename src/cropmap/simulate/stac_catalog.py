"""A simulated scene as a static STAC catalogue, shaped like the public Sentinel-1 ones.

:func:`write_stac_catalog` turns ``SCENE/s1/<date>.tif`` (from
:func:`~cropmap.simulate.simulate_scene`) into ``SCENE/stac/catalog.json``: one
collection, one item per date and tile, each with ``vv`` and ``vh`` Cloud-Optimized
GeoTIFF assets (float32 linear sigma0, nodata -32768 as in the Planetary Computer RTC
collection), and the ``sar:``, ``sat:``, ``proj:`` and ``raster:`` extension fields that
real catalogues carry. Tiles split each date into side-by-side items, so a bbox over
the scene crosses several items that must be mosaicked.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from cropmap.errors import ConfigError
from cropmap.io.atomic import atomic_path
from cropmap.io.raster import open_raster, read_checked
from cropmap.sar.dates import acquisition_date

#: Collection id of simulated scenes.
COLLECTION = "cropmap-sim-s1"

#: Nodata of the written assets (the value of the real RTC collection).
NODATA = -32768.0

__all__ = ["COLLECTION", "NODATA", "write_stac_catalog"]


def _utc_time(day: dt.date, lon: float) -> dt.datetime:
    """Noon local solar time of ``day`` at longitude ``lon``, in UTC."""
    noon = dt.datetime.combine(day, dt.time(12, 0), dt.UTC)
    return noon - dt.timedelta(hours=lon / 15.0)


def _write_cog(path: Path, band: np.ndarray, profile: dict[str, Any]) -> None:
    import rasterio

    with atomic_path(path, suffix=".tif") as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(band, 1)


def _tile_cols(width: int, tiles: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, width, tiles + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def write_stac_catalog(
    scene_dir: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    *,
    tiles: int = 2,
    overlap_px: int = 0,
    collection: str = COLLECTION,
) -> Path:
    """Write a simulated scene's acquisitions as a static STAC catalogue.

    Args:
        scene_dir: folder written by :func:`~cropmap.simulate.simulate_scene`.
        out_dir: catalogue folder (default ``scene_dir/stac``); an earlier catalogue
            there is replaced, any other non-empty folder refused.
        tiles: items per date, side by side west to east.
        overlap_px: columns each tile reaches into its eastern neighbour (same values).
        collection: collection id.

    Returns:
        Path of ``catalog.json``.

    Raises:
        ConfigError: no acquisitions in ``scene_dir/s1`` or a bad ``tiles``.
    """
    import pystac
    from pyproj import Transformer
    from pystac.extensions.projection import ProjectionExtension
    from pystac.extensions.raster import DataType, RasterBand, RasterExtension
    from pystac.extensions.sar import FrequencyBand, Polarization, SarExtension
    from pystac.extensions.sat import OrbitState, SatExtension
    from rasterio.windows import Window
    from rasterio.windows import transform as window_transform

    scene = Path(scene_dir)
    files = sorted((scene / "s1").glob("*.tif"))
    if not files:
        raise ConfigError(f"no acquisitions in {scene / 's1'}; run cropmap simulate first")
    if tiles < 1:
        raise ConfigError(f"tiles must be >= 1, got {tiles}")
    out = Path(out_dir) if out_dir is not None else scene / "stac"
    if out.exists():
        if not (out / "catalog.json").is_file() and any(out.iterdir()):
            raise ConfigError(f"{out} exists and is not a STAC catalogue; give an empty folder")
        shutil.rmtree(out)  # an earlier catalogue of this scene
    coll_dir = out / collection
    cat = pystac.Catalog("cropmap-sim", f"Simulated Sentinel-1 scene {scene.name}")
    items = []
    for path in files:
        with open_raster(path) as ds:
            tags = ds.tags()
            day = acquisition_date(path, tags)
            crs = ds.crs
            to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
            data = read_checked(ds, [1, 2]).astype(np.float32)
            for t, (c0, c1) in enumerate(_tile_cols(ds.width, tiles)):
                c1 = min(ds.width, c1 + overlap_px)
                win = Window(c0, 0, c1 - c0, ds.height)
                tr = window_transform(win, ds.transform)
                item_id = f"{day.isoformat()}_t{t}"
                w, s, e, n = to_ll.transform_bounds(
                    tr.c, tr.f + tr.e * ds.height, tr.c + tr.a * (c1 - c0), tr.f, densify_pts=21
                )
                geom = {
                    "type": "Polygon",
                    "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
                }
                item = pystac.Item(
                    item_id, geom, [w, s, e, n], _utc_time(day, (w + e) / 2), {"platform": "sim"}
                )
                profile = {
                    "driver": "COG",
                    "width": c1 - c0,
                    "height": ds.height,
                    "count": 1,
                    "dtype": "float32",
                    "crs": crs,
                    "transform": tr,
                    "nodata": NODATA,
                    "compress": "deflate",
                    "blocksize": 256,
                }
                for b, pol in enumerate(("vv", "vh")):
                    band = data[b, :, c0:c1].copy()
                    band[~np.isfinite(band)] = NODATA
                    href = coll_dir / item_id / f"{pol}.tif"
                    href.parent.mkdir(parents=True, exist_ok=True)
                    _write_cog(href, band, profile)
                    asset = pystac.Asset(
                        str(href.resolve()),
                        title=f"{pol.upper()}: linear sigma0",
                        media_type=pystac.MediaType.COG,
                        roles=["data"],
                    )
                    item.add_asset(pol, asset)
                    RasterExtension.ext(asset, add_if_missing=True).bands = [
                        RasterBand.create(nodata=NODATA, data_type=DataType.FLOAT32, unit="linear")
                    ]
                ProjectionExtension.ext(item, add_if_missing=True).apply(
                    code=crs.to_string(), transform=list(tr)[:6], shape=[ds.height, c1 - c0]
                )
                SarExtension.ext(item, add_if_missing=True).apply(
                    instrument_mode="IW",
                    frequency_band=FrequencyBand.C,
                    polarizations=[Polarization.VV, Polarization.VH],
                    product_type="GRD",
                )
                direction = str(tags.get("PASS", "ascending")).lower()
                SatExtension.ext(item, add_if_missing=True).apply(
                    orbit_state=OrbitState(direction),
                    relative_orbit=int(tags.get("RELATIVE_ORBIT", 0)),
                )
                items.append(item)
    bboxes = np.array([i.bbox for i in items])
    times = sorted(i.datetime for i in items if i.datetime is not None)
    coll = pystac.Collection(
        collection,
        "Simulated Sentinel-1 IW GRD backscatter (linear sigma0), written by cropmap",
        pystac.Extent(
            pystac.SpatialExtent([[*bboxes[:, :2].min(0), *bboxes[:, 2:].max(0)]]),
            pystac.TemporalExtent([[times[0], times[-1]]]),
        ),
        license="CC0-1.0",
    )
    for item in items:
        coll.add_item(item)
    cat.add_child(coll)
    cat.normalize_hrefs(str(out))
    cat.save(pystac.CatalogType.SELF_CONTAINED)
    return out / "catalog.json"
