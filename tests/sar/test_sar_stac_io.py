"""STAC ingestion at scale and through real transports: a local STAC API searched with
pystac-client, a large lazy mosaic in bounded memory, read-ahead, Dask worker processes,
static catalogues whose items name no collection.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio

from cropmap.sar.stac import composite_stac, open_stac
from cropmap.simulate.stac_catalog import COLLECTION

from .conftest import STAC_CAL as CAL
from .conftest import STAC_N as N
from .conftest import read_outputs as _read


def _sparse_catalogue(root: Path, side: int, days: int) -> Path:
    """Two side-by-side items per day, each ``side`` x ``side`` px of sparse float32 COGs."""
    import datetime as dt

    import pystac
    from affine import Affine
    from pyproj import Transformer

    crs = "EPSG:32652"
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    coll = pystac.Collection(
        "big", "sparse", pystac.Extent(pystac.SpatialExtent([[-180, -90, 180, 90]]),
                                       pystac.TemporalExtent([[None, None]])),
    )  # fmt: skip
    for t in range(2):
        x0 = 300000 + t * side * 10
        tr = Affine(10, 0, x0, 0, -10, 4000000)
        path = root / f"tile{t}.tif"
        with rasterio.open(
            path, "w", driver="GTiff", width=side, height=side, count=1, dtype="float32",
            crs=crs, transform=tr, nodata=-32768, tiled=True, sparse_ok=True,
        ) as dst:  # fmt: skip
            dst.write(np.full((1, 256, 256), 0.05, np.float32), window=((0, 256), (0, 256)))
        w, s, e, n = to_ll.transform_bounds(x0, 4000000 - side * 10, x0 + side * 10, 4000000)
        geom = {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}
        for d in range(days):
            when = dt.datetime(2022, 6, 2 + 6 * d, 3, tzinfo=dt.UTC)
            item = pystac.Item(f"d{d}t{t}", geom, [w, s, e, n], when, {})
            for pol in ("vv", "vh"):
                item.add_asset(pol, pystac.Asset(str(path), roles=["data"], extra_fields={
                    "raster:bands": [{"nodata": -32768, "data_type": "float32", "unit": "linear"}]
                }))  # fmt: skip
            coll.add_item(item)
    coll.normalize_hrefs(str(root / "cat"))
    coll.save(pystac.CatalogType.ABSOLUTE_PUBLISHED)
    return root / "cat" / "collection.json"


def test_memory_stays_bounded_on_a_large_lazy_mosaic(tmp_path):
    import tracemalloc

    import odc.stac  # noqa: F401  (imported before tracing: only the data should count)
    from rasterio.windows import Window

    side, days, rows = 8192, 3, 64
    cat = _sparse_catalogue(tmp_path, side, days)
    bbox = (300000, 4000000 - side * 10, 300000 + 2 * side * 10, 4000000)
    tracemalloc.start()
    try:
        stack = open_stac(cat, "big", CAL, 2022, bbox=bbox, bbox_crs="EPSG:32652", chunk_rows=rows)
        lazy_bytes = sum(v.nbytes for v in stack.data.data_vars.values())
        reader = stack.reader()
        win = Window(0, 0, stack.grid.width, rows)
        x = reader.read(stack.acquisitions[0], win, "db")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (stack.grid.width, stack.grid.height) == (2 * side, side)
    assert len(stack.acquisitions) == days
    assert lazy_bytes > 3e9  # 3 dates x 2 bands x 16384 x 8192 float32, never materialized
    assert x.shape == (2, 64, 2 * side)
    assert np.allclose(x[:, :, :256], 10 * np.log10(np.float32(0.05)))  # the written block
    assert np.isnan(x[:, :, 256:side]).all()  # sparse blocks are nodata
    chunk = rows * stack.grid.width * 4  # one band's chunk: 4.2 MB
    # the window (2 bands, raw and dB), odc's chunk buffers and the reads ahead of the
    # 2 other dates: a few chunks' worth, against a 3.2 GB mosaic
    assert peak < 16 * chunk, f"peak traced memory {peak / 1e6:.0f} MB"


def test_stac_api_search_through_pystac_client(stac_scene, tmp_path):
    """A minimal local STAC API (landing page + /search) gives the static catalogue's result."""
    import http.server
    import threading

    import pystac

    cat = pystac.Catalog.from_file(str(stac_scene["catalog"]))
    features = []
    for item in cat.get_items(recursive=True):
        item.make_asset_hrefs_absolute()
        d = item.to_dict(include_self_link=False)
        d["links"] = []
        features.append(d)
    calls: list[str] = []

    class Api(http.server.BaseHTTPRequestHandler):
        def _send(self, doc: dict) -> None:
            body = json.dumps(doc).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 - http.server's name
            base = f"http://127.0.0.1:{self.server.server_port}/"
            calls.append(self.path)
            if self.path.startswith("/search"):
                return self._send({"type": "FeatureCollection", "features": features})
            return self._send({
                "type": "Catalog", "id": "api", "stac_version": "1.0.0", "description": "test",
                "conformsTo": ["https://api.stacspec.org/v1.0.0/core",
                               "https://api.stacspec.org/v1.0.0/item-search"],
                "links": [{"rel": "self", "href": base}, {"rel": "root", "href": base},
                          *({"rel": "search", "href": base + "search", "method": m,
                             "type": "application/geo+json"} for m in ("GET", "POST"))],
            })  # fmt: skip

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))  # the search body
            self.do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/"
        out = composite_stac(
            url, COLLECTION, CAL, tmp_path / "api.tif", year=2022, bbox=stac_scene["bbox"],
            bbox_crs=stac_scene["crs"],
        )  # fmt: skip
    finally:
        server.shutdown()
    assert any(c.startswith("/search") for c in calls)  # pystac-client searched the API
    assert _read(out)[0].tobytes() == _read(stac_scene["folder"])[0].tobytes()


def test_read_ahead_reads_the_next_dates_of_the_window_and_drops_stale_ones(stac_scene):
    from rasterio.windows import Window

    from cropmap.sar.stac_reader import StacReader

    stack = open_stac(stac_scene["catalog"], COLLECTION, CAL, 2022, reference=stac_scene["folder"])
    top, bottom = Window(0, 0, N, 32), Window(0, 32, N, 32)
    with StacReader(stack, read_ahead=2) as ahead, StacReader(stack, read_ahead=0) as plain:
        a0 = ahead.read(stack.acquisitions[0], top)
        assert sorted(k[0] for k in ahead._pending) == [1, 2]
        a1 = ahead.read(stack.acquisitions[1], top, "linear")  # served by the read ahead
        assert sorted(k[0] for k in ahead._pending) == [2, 3]
        ahead.read(stack.acquisitions[0], bottom)
        assert {k[2] for k in ahead._pending} == {32}  # the top window's reads were dropped
        assert a0.tobytes() == plain.read(stack.acquisitions[0], top).tobytes()
        assert a1.tobytes() == plain.read(stack.acquisitions[1], top, "linear").tobytes()


@pytest.mark.slow
def test_stac_on_dask_worker_processes_is_identical(stac_scene, tmp_path):
    """The lazy stack travels to Dask worker processes, which read their windows."""
    out = composite_stac(
        stac_scene["catalog"], COLLECTION, CAL, tmp_path / "dask.tif", year=2022,
        reference=stac_scene["folder"], block_rows=16, dask_workers=2,
    )  # fmt: skip
    assert _read(out)[0].tobytes() == _read(stac_scene["folder"])[0].tobytes()
    assert _read(out)[1].tobytes() == _read(stac_scene["folder"])[1].tobytes()


def test_static_catalogue_without_collection_ids(stac_scene, tmp_path):
    """Items naming no collection are found when no collection is asked for."""
    cat = tmp_path / "nocoll"
    shutil.copytree(stac_scene["catalog"].parent, cat)
    for item_json in cat.rglob("*_t*.json"):
        doc = json.loads(item_json.read_text())
        doc.pop("collection", None)
        doc["links"] = [ln for ln in doc["links"] if ln["rel"] != "collection"]
        item_json.write_text(json.dumps(doc))
    out = composite_stac(
        cat / "catalog.json",
        None,
        CAL,
        tmp_path / "n.tif",
        year=2022,
        reference=stac_scene["folder"],
    )
    assert _read(out)[0].tobytes() == _read(stac_scene["folder"])[0].tobytes()


def test_unreachable_api_is_one_clear_error(tmp_path):
    from cropmap.errors import StacError

    with pytest.raises(StacError, match=r"cannot open STAC API http://127\.0\.0\.1:9/"):
        composite_stac(
            "http://127.0.0.1:9/", "sentinel-1-rtc", CAL, tmp_path / "x.tif", year=2022,
            bbox=(0.6, 40.6, 0.9, 40.8),
        )  # fmt: skip
    assert not (tmp_path / "x.tif").exists()
