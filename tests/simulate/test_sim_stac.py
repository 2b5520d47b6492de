"""`cropmap simulate --stac`: the scene as a static STAC catalogue shaped like the real ones."""

from __future__ import annotations

import sys

import numpy as np
import pystac
import pytest
import rasterio

from cropmap.errors import ConfigError
from cropmap.simulate.stac_catalog import COLLECTION, NODATA, write_stac_catalog


def test_simulate_stac_writes_a_catalogue(tmp_path, monkeypatch, capsys):
    from cropmap.cli.main import main

    out = tmp_path / "scene"
    args = ["simulate", "--region", "spain", "--size", "32", "--year", "2022", "--out", str(out),
            "--stac"]  # fmt: skip
    monkeypatch.setattr(sys, "argv", ["cropmap", *args])
    try:
        main()
    except SystemExit as exc:  # success may end in exit status 0 or just return
        assert exc.code in (0, None)
    assert f"collection {COLLECTION}" in capsys.readouterr().out

    cat = pystac.Catalog.from_file(str(out / "stac" / "catalog.json"))
    items = list(cat.get_items(recursive=True))
    dates = sorted(p.stem for p in (out / "s1").glob("*.tif"))
    assert len(items) == 2 * len(dates)  # two side-by-side tiles per date
    item = next(i for i in items if i.id == f"{dates[0]}_t1")
    p = item.properties
    assert p["sar:polarizations"] == ["VV", "VH"] and p["sar:instrument_mode"] == "IW"
    assert p["sat:orbit_state"] in ("ascending", "descending") and p["sat:relative_orbit"] > 0
    assert p["proj:code"].startswith("EPSG:") and p["proj:shape"] == [32, 16]
    assert item.datetime is not None and item.collection_id == COLLECTION
    for pol, band in (("vv", 1), ("vh", 2)):
        asset = item.assets[pol]
        assert asset.extra_fields["raster:bands"][0]["nodata"] == NODATA
        with rasterio.open(asset.get_absolute_href()) as ds:
            assert ds.nodata == NODATA and ds.dtypes[0] == "float32"
            assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            cog = ds.read(1)
            col0 = ds.transform.c
        with rasterio.open(out / "s1" / f"{dates[0]}.tif") as src:
            c0 = round((col0 - src.transform.c) / src.transform.a)
            orig = src.read(band)[:, c0 : c0 + 16]
        assert np.array_equal(cog[np.isfinite(orig)], orig[np.isfinite(orig)])
        assert (cog[~np.isfinite(orig)] == NODATA).all()


def test_catalogue_refuses_a_foreign_folder(tmp_path):
    (tmp_path / "s1").mkdir()
    with pytest.raises(ConfigError, match="no acquisitions in"):
        write_stac_catalog(tmp_path)
    from affine import Affine

    from cropmap.io.raster import write_geotiff

    write_geotiff(
        tmp_path / "s1" / "2022-06-01.tif", np.full((2, 4, 4), 0.05, np.float32),
        crs="EPSG:32631", transform=Affine(10, 0, 4e5, 0, -10, 4.5e6), nodata=float("nan"),
        descriptions=["VV", "VH"],
    )  # fmt: skip
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a STAC catalogue"):
        write_stac_catalog(tmp_path, other)
    assert (other / "keep.txt").exists()
