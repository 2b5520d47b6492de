"""Compositing from a static STAC catalogue (pystac + odc-stac), offline, on real formats.

The catalogue is written from a tiny simulated scene (vv/vh COG assets, -32768 nodata,
sar:/sat:/proj:/raster: fields, two side-by-side items per date), so the STAC path can
be compared with the folder path on the very same values.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio

from cropmap.errors import ConfigError, StacError, UnitsError
from cropmap.sar import composite_folder
from cropmap.sar.stac import composite_stac, open_stac
from cropmap.simulate import simulate_scene
from cropmap.simulate.stac_catalog import COLLECTION, write_stac_catalog

N = 64  # scene side, pixels (10 m)
#: June-July 2022 in four periods, one reducer of each kind (few dates: fast tests).
CAL = {
    "name": "stac-test",
    "periods": [
        {"name": "A", "start": "06-01", "end": "06-15", "reducer": "min", "stage": "s1"},
        {"name": "B", "start": "06-16", "end": "06-30", "reducer": "mean", "stage": "s1"},
        {"name": "C", "start": "07-01", "end": "07-15", "reducer": "max", "stage": "s2"},
        {"name": "D", "start": "07-16", "end": "07-31", "reducer": "median", "stage": "s2"},
    ],
}


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> dict:
    """A 64 x 64 px Korean scene, its folder composite and its STAC catalogue (2 tiles)."""
    root = tmp_path_factory.mktemp("stac")
    path = simulate_scene("korea", N, 2022, 0, root / "scene", workers=1)
    meta = json.loads((path / "scene.json").read_text())
    meta["acquisitions"] = [a for a in meta["acquisitions"] if "2022-06" <= a["date"] < "2022-08"]
    for f in (path / "s1").glob("*.tif"):  # keep the calendar's dates only
        if not "2022-06" <= f.stem < "2022-08":
            f.unlink()
    x0, y0 = meta["transform"][2], meta["transform"][5]
    folder = composite_folder(path / "s1", CAL, root / "folder.tif", year=2022)
    return {
        "root": root,
        "dir": path,
        "meta": meta,
        "bbox": (x0, y0 - 10 * N, x0 + 10 * N, y0),  # the scene, in its UTM CRS
        "crs": meta["crs"],
        "catalog": write_stac_catalog(path, tiles=2),
        "folder": folder,
    }


def _read(path: Path) -> tuple[np.ndarray, np.ndarray, dict]:
    with rasterio.open(path) as ds:
        values, tags = ds.read(), ds.tags()
    with rasterio.open(path.with_name(path.stem + ".count.tif")) as ds:
        return values, ds.read(), tags


def test_stac_equals_folder_bit_for_bit(scene, tmp_path):
    out = composite_stac(
        scene["catalog"],
        COLLECTION,
        CAL,
        tmp_path / "stac.tif",
        year=2022,
        bbox=scene["bbox"],
        bbox_crs=scene["crs"],
    )
    a, ac, atags = _read(scene["folder"])
    b, bc, btags = _read(out)
    assert a.tobytes() == b.tobytes()  # NaN nodata included
    assert ac.tobytes() == bc.tobytes()
    assert np.isfinite(a).mean() > 0.5
    for key in ("PERIODS", "BANDS", "UNITS", "SOURCE_UNITS", "PERIOD_DATES", "CALENDAR"):
        assert atags[key] == btags[key]
    with rasterio.open(scene["folder"]) as fa, rasterio.open(out) as fb:
        assert (fa.crs, fa.transform, fa.descriptions) == (fb.crs, fb.transform, fb.descriptions)
    items = json.loads(btags["STAC_ITEMS"])
    assert all(len(ids) == 2 for ids in items.values())  # both tiles of every date mosaicked


@pytest.mark.parametrize("overlap", [0, 5])
def test_bbox_crossing_two_items_mosaics(scene, tmp_path, overlap):
    cat = write_stac_catalog(scene["dir"], tmp_path / f"cat{overlap}", tiles=2, overlap_px=overlap)
    x0, y0 = scene["meta"]["transform"][2], scene["meta"]["transform"][5]
    # columns 16..48 and rows 8..40: the tile edge (column 32) runs through the middle
    bbox = (x0 + 160, y0 - 400, x0 + 480, y0 - 80)
    out = composite_stac(
        cat, COLLECTION, CAL, tmp_path / "part.tif", year=2022, bbox=bbox,
        bbox_crs=scene["crs"],
    )  # fmt: skip
    full, full_count, _ = _read(scene["folder"])
    part, part_count, tags = _read(out)
    assert part.shape[1:] == (32, 32)
    assert part.tobytes() == full[:, 8:40, 16:48].tobytes()
    assert part_count.tobytes() == full_count[:, 8:40, 16:48].tobytes()
    assert {i[-2:] for ids in json.loads(tags["STAC_ITEMS"]).values() for i in ids} == {
        "t0",
        "t1",
    }


def test_orbit_selection_matches_folder_of_that_orbit(scene, tmp_path):
    acqs = scene["meta"]["acquisitions"]
    asc = [a["date"] for a in acqs if a["direction"] == "ascending"]
    assert 0 < len(asc) < len(acqs)
    sub = tmp_path / "asc"
    sub.mkdir()
    for d in asc:
        shutil.copy(scene["dir"] / "s1" / f"{d}.tif", sub)
    folder = composite_folder(sub, CAL, tmp_path / "f.tif", year=2022)
    stack = open_stac(
        scene["catalog"], COLLECTION, CAL, 2022, bbox=scene["bbox"],
        bbox_crs=scene["crs"], orbit="ascending",
    )  # fmt: skip
    assert [a.date.isoformat() for a in stack.acquisitions] == asc
    assert {a.direction for a in stack.acquisitions} == {"ascending"}
    assert all(a.relative_orbit for a in stack.acquisitions)
    out = composite_stac(
        scene["catalog"], COLLECTION, CAL, tmp_path / "s.tif", year=2022,
        bbox=scene["bbox"], bbox_crs=scene["crs"], orbit="ascending",
    )  # fmt: skip
    assert _read(out)[0].tobytes() == _read(folder)[0].tobytes()
    both = open_stac(
        scene["catalog"], COLLECTION, CAL, 2022, bbox=scene["bbox"],
        bbox_crs=scene["crs"], orbit="both",
    )  # fmt: skip
    assert len(both.acquisitions) == len(open_stac(
        scene["catalog"], COLLECTION, CAL, 2022, bbox=scene["bbox"],
        bbox_crs=scene["crs"],
    ).acquisitions)  # fmt: skip
    assert {a.direction for a in both.acquisitions} == {"ascending", "descending"}


def test_lonlat_bbox_gives_utm_10m_grid(scene):
    from pyproj import Transformer

    w, s, e, n = scene["bbox"]
    t = Transformer.from_crs(scene["crs"], "EPSG:4326", always_xy=True)
    ll = t.transform_bounds(w + 100, s + 100, e - 100, n - 100)
    stack = open_stac(scene["catalog"], COLLECTION, CAL, 2022, bbox=ll)
    g = stack.grid
    assert rasterio.crs.CRS.from_wkt(g.crs) == rasterio.crs.CRS.from_string(scene["crs"])
    assert (g.transform[0], g.transform[4]) == (10.0, -10.0)
    assert g.transform[2] % 10 == 0 and g.transform[5] % 10 == 0  # edges on the 10 m grid
    assert 40 <= g.width <= 46 and 40 <= g.height <= 46


def test_reference_raster_sets_grid_and_bbox(scene, tmp_path):
    stack = open_stac(scene["catalog"], COLLECTION, CAL, 2022, reference=scene["folder"])
    with rasterio.open(scene["folder"]) as ds:
        assert (stack.grid.width, stack.grid.height) == (ds.width, ds.height)
        assert stack.grid.transform == tuple(ds.transform)[:6]


def test_missing_polarisation_is_one_clear_error(scene, tmp_path):
    cat = tmp_path / "cat"
    shutil.copytree(scene["catalog"].parent, cat)
    item_json = next(cat.rglob("2022-06-*_t1.json"))
    doc = json.loads(item_json.read_text())
    del doc["assets"]["vh"]
    item_json.write_text(json.dumps(doc))
    with pytest.raises(StacError, match=rf"item {doc['id']} has no VH asset \(data assets: vv\)"):
        open_stac(cat / "catalog.json", COLLECTION, CAL, 2022, reference=scene["folder"])
    # choosing only VV works
    stack = open_stac(
        cat / "catalog.json", COLLECTION, CAL, 2022, reference=scene["folder"],
        bands=["VV"],
    )  # fmt: skip
    assert stack.bands == ("VV",)


def test_empty_search_and_outside_bbox_are_clear_errors(scene):
    with pytest.raises(StacError, match="no item in collection 'cropmap-sim-s1'.*2015-06-01"):
        open_stac(scene["catalog"], COLLECTION, CAL, 2015, reference=scene["folder"])
    with pytest.raises(StacError, match="no item in collection"):
        open_stac(scene["catalog"], COLLECTION, CAL, 2022, bbox=(2.0, 41.0, 2.1, 41.1))
    with pytest.raises(StacError, match="collection 'sentinel-1-rtc' not in .*cropmap-sim-s1"):
        open_stac(scene["catalog"], "sentinel-1-rtc", CAL, 2022, bbox=(0, 0, 1, 1))
    with pytest.raises(ConfigError, match="bbox must be four numbers"):
        open_stac(scene["catalog"], COLLECTION, CAL, 2022, bbox="1,2,3")


def test_orbit_without_matching_items(scene):
    cat = scene["catalog"]
    with pytest.raises(ConfigError, match="unknown orbit 'north'"):
        open_stac(cat, COLLECTION, CAL, 2022, reference=scene["folder"], orbit="north")


def test_signing_hook_sees_every_item(scene):
    seen: list[str] = []

    def sign(item):
        seen.append(item.id)
        return item

    stack = open_stac(scene["catalog"], COLLECTION, CAL, 2022, reference=scene["folder"], sign=sign)
    assert sorted(seen) == sorted(i for a in stack.acquisitions for i in a.item_ids)
    with pytest.raises(ConfigError, match="signer 'no_such_module:sign' needs"):
        open_stac(scene["catalog"], COLLECTION, CAL, 2022, bbox=(0, 0, 1, 1),
                  sign="no_such_module:sign")  # fmt: skip


def test_digital_numbers_are_refused(scene, tmp_path):
    cat = tmp_path / "dn"
    shutil.copytree(scene["catalog"].parent, cat)
    for item_json in cat.rglob("*_t*.json"):
        doc = json.loads(item_json.read_text())
        for asset in doc["assets"].values():
            for b in asset["raster:bands"]:
                b.pop("unit", None)
                b["data_type"], b["nodata"] = "uint16", 0
        item_json.write_text(json.dumps(doc))
    with pytest.raises(UnitsError, match="uncalibrated digital numbers"):
        open_stac(cat / "catalog.json", COLLECTION, CAL, 2022, reference=scene["folder"])


def test_cli_stac_error_exits_2(scene, tmp_path, monkeypatch, capsys):
    import sys

    from cropmap.cli.main import main

    args = ["composite", "--stac", str(scene["catalog"]), "--collection", COLLECTION,
            "--bbox", "2.0,41.0,2.1,41.1", "--year", "2022", "--calendar", "korea-rice",
            "--out", str(tmp_path / "x.tif")]  # fmt: skip
    monkeypatch.setattr(sys, "argv", ["cropmap", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no item in collection" in errors[0]
    assert not (tmp_path / "x.tif").exists()


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


def test_stac_api_search_through_pystac_client(scene, tmp_path):
    """A minimal local STAC API (landing page + /search) gives the static catalogue's result."""
    import http.server
    import threading

    import pystac

    cat = pystac.Catalog.from_file(str(scene["catalog"]))
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
            url, COLLECTION, CAL, tmp_path / "api.tif", year=2022, bbox=scene["bbox"],
            bbox_crs=scene["crs"],
        )  # fmt: skip
    finally:
        server.shutdown()
    assert any(c.startswith("/search") for c in calls)  # pystac-client searched the API
    assert _read(out)[0].tobytes() == _read(scene["folder"])[0].tobytes()


def test_read_ahead_reads_the_next_dates_of_the_window_and_drops_stale_ones(scene):
    from rasterio.windows import Window

    from cropmap.sar.stac_reader import StacReader

    stack = open_stac(scene["catalog"], COLLECTION, CAL, 2022, reference=scene["folder"])
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
def test_stac_on_dask_worker_processes_is_identical(scene, tmp_path):
    """The lazy stack travels to Dask worker processes, which read their windows."""
    out = composite_stac(
        scene["catalog"], COLLECTION, CAL, tmp_path / "dask.tif", year=2022,
        reference=scene["folder"], block_rows=16, dask_workers=2,
    )  # fmt: skip
    assert _read(out)[0].tobytes() == _read(scene["folder"])[0].tobytes()
    assert _read(out)[1].tobytes() == _read(scene["folder"])[1].tobytes()


def test_static_catalogue_without_collection_ids(scene, tmp_path):
    """Items naming no collection are found when no collection is asked for."""
    cat = tmp_path / "nocoll"
    shutil.copytree(scene["catalog"].parent, cat)
    for item_json in cat.rglob("*_t*.json"):
        doc = json.loads(item_json.read_text())
        doc.pop("collection", None)
        doc["links"] = [ln for ln in doc["links"] if ln["rel"] != "collection"]
        item_json.write_text(json.dumps(doc))
    out = composite_stac(
        cat / "catalog.json", None, CAL, tmp_path / "n.tif", year=2022, reference=scene["folder"]
    )
    assert _read(out)[0].tobytes() == _read(scene["folder"])[0].tobytes()
