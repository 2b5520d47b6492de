"""Compositing from a static STAC catalogue (pystac + odc-stac), offline, on real formats.

The catalogue is written from a tiny simulated scene (vv/vh COG assets, -32768 nodata,
sar:/sat:/proj:/raster: fields, two side-by-side items per date), so the STAC path can
be compared with the folder path on the very same values.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import rasterio

from cropmap.errors import ConfigError, StacError, UnitsError
from cropmap.sar import composite_folder
from cropmap.sar.stac import composite_stac, open_stac
from cropmap.simulate.stac_catalog import COLLECTION, write_stac_catalog

from .conftest import STAC_CAL as CAL
from .conftest import read_outputs as _read


def test_stac_equals_folder_bit_for_bit(stac_scene, tmp_path):
    out = composite_stac(
        stac_scene["catalog"],
        COLLECTION,
        CAL,
        tmp_path / "stac.tif",
        year=2022,
        bbox=stac_scene["bbox"],
        bbox_crs=stac_scene["crs"],
    )
    a, ac, atags = _read(stac_scene["folder"])
    b, bc, btags = _read(out)
    assert a.tobytes() == b.tobytes()  # NaN nodata included
    assert ac.tobytes() == bc.tobytes()
    assert np.isfinite(a).mean() > 0.5
    for key in ("PERIODS", "BANDS", "UNITS", "SOURCE_UNITS", "PERIOD_DATES", "CALENDAR"):
        assert atags[key] == btags[key]
    with rasterio.open(stac_scene["folder"]) as fa, rasterio.open(out) as fb:
        assert (fa.crs, fa.transform, fa.descriptions) == (fb.crs, fb.transform, fb.descriptions)
    items = json.loads(btags["STAC_ITEMS"])
    assert all(len(ids) == 2 for ids in items.values())  # both tiles of every date mosaicked


@pytest.mark.parametrize("overlap", [0, 5])
def test_bbox_crossing_two_items_mosaics(stac_scene, tmp_path, overlap):
    cat = write_stac_catalog(
        stac_scene["dir"], tmp_path / f"cat{overlap}", tiles=2, overlap_px=overlap
    )
    x0, y0 = stac_scene["meta"]["transform"][2], stac_scene["meta"]["transform"][5]
    # columns 16..48 and rows 8..40: the tile edge (column 32) runs through the middle
    bbox = (x0 + 160, y0 - 400, x0 + 480, y0 - 80)
    out = composite_stac(
        cat, COLLECTION, CAL, tmp_path / "part.tif", year=2022, bbox=bbox,
        bbox_crs=stac_scene["crs"],
    )  # fmt: skip
    full, full_count, _ = _read(stac_scene["folder"])
    part, part_count, tags = _read(out)
    assert part.shape[1:] == (32, 32)
    assert part.tobytes() == full[:, 8:40, 16:48].tobytes()
    assert part_count.tobytes() == full_count[:, 8:40, 16:48].tobytes()
    assert {i[-2:] for ids in json.loads(tags["STAC_ITEMS"]).values() for i in ids} == {
        "t0",
        "t1",
    }


def test_orbit_selection_matches_folder_of_that_orbit(stac_scene, tmp_path):
    acqs = stac_scene["meta"]["acquisitions"]
    asc = [a["date"] for a in acqs if a["direction"] == "ascending"]
    assert 0 < len(asc) < len(acqs)
    sub = tmp_path / "asc"
    sub.mkdir()
    for d in asc:
        shutil.copy(stac_scene["dir"] / "s1" / f"{d}.tif", sub)
    folder = composite_folder(sub, CAL, tmp_path / "f.tif", year=2022)
    stack = open_stac(
        stac_scene["catalog"], COLLECTION, CAL, 2022, bbox=stac_scene["bbox"],
        bbox_crs=stac_scene["crs"], orbit="ascending",
    )  # fmt: skip
    assert [a.date.isoformat() for a in stack.acquisitions] == asc
    assert {a.direction for a in stack.acquisitions} == {"ascending"}
    assert all(a.relative_orbit for a in stack.acquisitions)
    out = composite_stac(
        stac_scene["catalog"], COLLECTION, CAL, tmp_path / "s.tif", year=2022,
        bbox=stac_scene["bbox"], bbox_crs=stac_scene["crs"], orbit="ascending",
    )  # fmt: skip
    assert _read(out)[0].tobytes() == _read(folder)[0].tobytes()
    both = open_stac(
        stac_scene["catalog"], COLLECTION, CAL, 2022, bbox=stac_scene["bbox"],
        bbox_crs=stac_scene["crs"], orbit="both",
    )  # fmt: skip
    assert len(both.acquisitions) == len(open_stac(
        stac_scene["catalog"], COLLECTION, CAL, 2022, bbox=stac_scene["bbox"],
        bbox_crs=stac_scene["crs"],
    ).acquisitions)  # fmt: skip
    assert {a.direction for a in both.acquisitions} == {"ascending", "descending"}


def test_lonlat_bbox_gives_utm_10m_grid(stac_scene):
    from pyproj import Transformer

    w, s, e, n = stac_scene["bbox"]
    t = Transformer.from_crs(stac_scene["crs"], "EPSG:4326", always_xy=True)
    ll = t.transform_bounds(w + 100, s + 100, e - 100, n - 100)
    stack = open_stac(stac_scene["catalog"], COLLECTION, CAL, 2022, bbox=ll)
    g = stack.grid
    assert rasterio.crs.CRS.from_wkt(g.crs) == rasterio.crs.CRS.from_string(stac_scene["crs"])
    assert (g.transform[0], g.transform[4]) == (10.0, -10.0)
    assert g.transform[2] % 10 == 0 and g.transform[5] % 10 == 0  # edges on the 10 m grid
    assert 40 <= g.width <= 46 and 40 <= g.height <= 46


def test_reference_raster_sets_grid_and_bbox(stac_scene, tmp_path):
    stack = open_stac(stac_scene["catalog"], COLLECTION, CAL, 2022, reference=stac_scene["folder"])
    with rasterio.open(stac_scene["folder"]) as ds:
        assert (stack.grid.width, stack.grid.height) == (ds.width, ds.height)
        assert stack.grid.transform == tuple(ds.transform)[:6]


def test_missing_polarisation_is_one_clear_error(stac_scene, tmp_path):
    cat = tmp_path / "cat"
    shutil.copytree(stac_scene["catalog"].parent, cat)
    item_json = next(cat.rglob("2022-06-*_t1.json"))
    doc = json.loads(item_json.read_text())
    del doc["assets"]["vh"]
    item_json.write_text(json.dumps(doc))
    with pytest.raises(StacError, match=rf"item {doc['id']} has no VH asset \(data assets: vv\)"):
        open_stac(cat / "catalog.json", COLLECTION, CAL, 2022, reference=stac_scene["folder"])
    # choosing only VV works
    stack = open_stac(
        cat / "catalog.json", COLLECTION, CAL, 2022, reference=stac_scene["folder"],
        bands=["VV"],
    )  # fmt: skip
    assert stack.bands == ("VV",)


def test_empty_search_and_outside_bbox_are_clear_errors(stac_scene):
    with pytest.raises(StacError, match="no item in collection 'cropmap-sim-s1'.*2015-06-01"):
        open_stac(stac_scene["catalog"], COLLECTION, CAL, 2015, reference=stac_scene["folder"])
    with pytest.raises(StacError, match="no item in collection"):
        open_stac(stac_scene["catalog"], COLLECTION, CAL, 2022, bbox=(2.0, 41.0, 2.1, 41.1))
    with pytest.raises(StacError, match="collection 'sentinel-1-rtc' not in .*cropmap-sim-s1"):
        open_stac(stac_scene["catalog"], "sentinel-1-rtc", CAL, 2022, bbox=(0, 0, 1, 1))
    with pytest.raises(ConfigError, match="bbox must be four numbers"):
        open_stac(stac_scene["catalog"], COLLECTION, CAL, 2022, bbox="1,2,3")


def test_orbit_without_matching_items(stac_scene):
    cat = stac_scene["catalog"]
    with pytest.raises(ConfigError, match="unknown orbit 'north'"):
        open_stac(cat, COLLECTION, CAL, 2022, reference=stac_scene["folder"], orbit="north")


def test_signing_hook_sees_every_item(stac_scene):
    seen: list[str] = []

    def sign(item):
        seen.append(item.id)
        return item

    stack = open_stac(
        stac_scene["catalog"], COLLECTION, CAL, 2022, reference=stac_scene["folder"], sign=sign
    )
    assert sorted(seen) == sorted(i for a in stack.acquisitions for i in a.item_ids)
    with pytest.raises(ConfigError, match="signer 'no_such_module:sign' needs"):
        open_stac(stac_scene["catalog"], COLLECTION, CAL, 2022, bbox=(0, 0, 1, 1),
                  sign="no_such_module:sign")  # fmt: skip


def test_digital_numbers_are_refused(stac_scene, tmp_path):
    cat = tmp_path / "dn"
    shutil.copytree(stac_scene["catalog"].parent, cat)
    for item_json in cat.rglob("*_t*.json"):
        doc = json.loads(item_json.read_text())
        for asset in doc["assets"].values():
            for b in asset["raster:bands"]:
                b.pop("unit", None)
                b["data_type"], b["nodata"] = "uint16", 0
        item_json.write_text(json.dumps(doc))
    with pytest.raises(UnitsError, match="uncalibrated digital numbers"):
        open_stac(cat / "catalog.json", COLLECTION, CAL, 2022, reference=stac_scene["folder"])


def test_cli_stac_error_exits_2(stac_scene, tmp_path, monkeypatch, capsys):
    import sys

    from cropmap.cli.main import main

    args = ["composite", "--stac", str(stac_scene["catalog"]), "--collection", COLLECTION,
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
