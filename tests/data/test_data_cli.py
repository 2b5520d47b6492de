"""The data CLI: composite -> rasterize -> patches, and one-line errors."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box
from typer.testing import CliRunner

from cropmap.cli.main import app
from cropmap.sar.synthetic import DEFAULT_TRANSFORM, series_dates, write_s1_series


@pytest.mark.slow
def test_cli_chain(tmp_path):
    s1 = tmp_path / "s1"
    write_s1_series(s1, series_dates(dt.date(2021, 5, 1), 26, 6), height=40, width=40)
    x0, y0 = DEFAULT_TRANSFORM * (0, 0)
    parcels = gpd.GeoDataFrame(
        {"crop": ["rice", "maize"]},
        geometry=[box(x0, y0 - 200, x0 + 200, y0), box(x0 + 200, y0 - 400, x0 + 400, y0 - 200)],
        crs="EPSG:32631",
    )
    parcels.to_file(tmp_path / "p.gpkg")
    run = CliRunner().invoke
    r = run(
        app,
        [
            "composite",
            str(s1),
            "-o",
            str(tmp_path / "c.tif"),
            "-c",
            "spain-rice",
            "--units",
            "linear",
        ],
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "c.count.tif").exists()
    r = run(
        app,
        [
            "rasterize",
            str(tmp_path / "p.gpkg"),
            str(tmp_path / "c.tif"),
            "-o",
            str(tmp_path / "l.tif"),
        ],
    )
    assert r.exit_code == 0 and "2/2 parcels" in r.output, r.output
    r = run(
        app,
        [
            "patches",
            str(tmp_path / "c.tif"),
            str(tmp_path / "l.tif"),
            "--out",
            str(tmp_path / "store"),
            "--size",
            "20",
            "--split",
            "random",
            "--fractions",
            "0.5,0.5,0",
        ],
    )
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "store" / "manifest.json").read_text())
    assert len(m["patches"]) == 4 and m["calendar"]["name"] == "spain-rice"
    assert np.isfinite(m["norm"]["mean"]["VH"])


def test_cli_help_shows_examples():
    for cmd in ("composite", "rasterize", "patches"):
        r = CliRunner().invoke(app, [cmd, "--help"])
        assert r.exit_code == 0 and "Example: cropmap " + cmd in r.output


def test_cli_composite_threads_and_compress(tmp_path):
    import rasterio

    s1 = tmp_path / "s1"
    write_s1_series(s1, series_dates(dt.date(2021, 5, 1), 26, 6), height=24, width=20)
    base = ["composite", str(s1), "-c", "spain-rice", "--units", "linear", "--block-rows", "5"]
    run = CliRunner().invoke
    r = run(app, [*base, "--out", str(tmp_path / "a.tif"), "--threads", "1"])
    assert r.exit_code == 0, r.output
    r = run(app, [*base, "--out", str(tmp_path / "b.tif"), "--threads", "3", "--compress", "none"])
    assert r.exit_code == 0, r.output
    with rasterio.open(tmp_path / "a.tif") as a, rasterio.open(tmp_path / "b.tif") as b:
        assert a.compression is not None and b.compression is None
        np.testing.assert_array_equal(a.read(), b.read())
    r = run(app, [*base, "--out", str(tmp_path / "c.tif"), "--compress", "lz77"])
    assert r.exit_code == 2 and not (tmp_path / "c.tif").exists()
