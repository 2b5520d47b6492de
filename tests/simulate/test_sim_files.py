"""Files written by the simulator: formats, CRS, dates, parcels, determinism, defects."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import geopandas as gpd
import numpy as np
import pytest
import rasterio

from cropmap.errors import ConfigError
from cropmap.sar.calendars import load_calendar
from cropmap.simulate import REGIONS, simulate_scene
from cropmap.simulate.phenology import CLASSES

EPSG = {"korea": 32652, "spain": 32631, "france": 32631, "netherlands": 32631}


def _digest(folder):
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("region", sorted(EPSG))
def test_sim_geotiffs_readable(scenes, region):
    files = sorted((scenes[region] / "s1").glob("*.tif"))
    assert len(files) >= 20
    for f in files:
        with rasterio.open(f) as ds:
            assert ds.crs.to_epsg() == EPSG[region]
            assert ds.res == (10.0, 10.0)
            assert ds.count == 2 and ds.dtypes == ("float32", "float32")
            assert ds.descriptions == ("VV", "VH")
            assert np.isnan(ds.nodata)
            assert ds.tags()["ACQUISITION_DATE"] == f.stem
            dt.date.fromisoformat(f.stem)
            x = ds.read()
        finite = x[np.isfinite(x)]
        assert finite.size > 0.5 * x.size
        assert (finite > 0).all() and np.median(finite) < 1.0  # linear sigma0


@pytest.mark.parametrize("region", sorted(EPSG))
def test_sim_dates_cover_calendar(scenes, region):
    spec = REGIONS[region]
    dates = [dt.date.fromisoformat(f.stem) for f in (scenes[region] / "s1").glob("*.tif")]
    for a, b in load_calendar(spec.calendar).ranges(2022):
        assert any(a <= d <= b for d in dates), (region, a, b)
    gaps = np.diff(sorted(d.toordinal() for d in dates))
    assert gaps.max() >= spec.gap_days  # the acquisition gap
    assert np.median(gaps) <= 7  # two orbits, 12 days each


@pytest.mark.parametrize("region", sorted(EPSG))
def test_sim_parcels_valid_disjoint(scenes, region):
    gdf = gpd.read_file(scenes[region] / "parcels.gpkg")
    assert gdf.crs.to_epsg() == EPSG[region]
    assert set(gdf["crop"]) <= set(CLASSES)
    assert gdf["parcel_id"].is_unique
    assert np.issubdtype(gdf["parcel_id"].dtype, np.integer)
    assert gdf.is_valid.all()
    assert (gdf.geom_type == "Polygon").all()
    left, right = gdf.sindex.query(gdf.geometry, predicate="intersects")
    pairs = left < right
    if pairs.any():
        inter = gdf.geometry.values[left[pairs]].intersection(gdf.geometry.values[right[pairs]])
        assert (inter.area < 1e-6).all()  # only shared edges
    # the parcels tessellate the scene
    with rasterio.open(sorted((scenes[region] / "s1").glob("*.tif"))[0]) as ds:
        assert gdf.area.sum() == pytest.approx(ds.width * ds.height * 100.0)
        b = ds.bounds
    assert gdf.total_bounds == pytest.approx([b.left, b.bottom, b.right, b.top])


def test_sim_swath_edge_strip(scenes):
    meta = json.loads((scenes["korea"] / "scene.json").read_text())
    cut = [a for a in meta["acquisitions"] if a["edge_side"] != "none"]
    whole = [a for a in meta["acquisitions"] if a["edge_side"] == "none"]
    assert cut and whole
    with rasterio.open(scenes["korea"] / "s1" / f"{cut[0]['date']}.tif") as ds:
        x = ds.read(2)
    side = x[:, -3:] if cut[0]["edge_side"] == "east" else x[:, :3]
    assert np.isnan(side).all()
    with rasterio.open(scenes["korea"] / "s1" / f"{whole[0]['date']}.tif") as ds:
        assert np.isfinite(ds.read()).all()


def test_sim_scene_json(scenes):
    meta = json.loads((scenes["spain"] / "scene.json").read_text())
    assert meta["config"]["seed"] == 0 and meta["config"]["region"] == "spain"
    assert meta["target"] == "rice" and meta["calendar"] == "spain-rice"
    files = sorted(f.stem for f in (scenes["spain"] / "s1").glob("*.tif"))
    assert [a["date"] for a in meta["acquisitions"]] == files


def test_sim_deterministic(tmp_path):
    a = simulate_scene("korea", 96, 2022, 7, tmp_path / "a")
    b = simulate_scene("korea", 96, 2022, 7, tmp_path / "b", workers=1)
    c = simulate_scene("korea", 96, 2022, 8, tmp_path / "c")
    da, db, dc = _digest(a), _digest(b), _digest(c)
    assert da == db
    common = set(da) & set(dc)  # the acquisition gap moves with the seed
    assert {"parcels.gpkg", "scene.json"} < common and len(common) > 20
    assert all(da[k] != dc[k] for k in common)


def test_sim_bad_input(tmp_path):
    with pytest.raises(ConfigError, match="korea, spain, france, netherlands"):
        simulate_scene("mars", 64, 2022, 0, tmp_path / "x")
    with pytest.raises(ConfigError, match="revisit"):
        simulate_scene("korea", 64, 2022, 0, tmp_path / "y", revisit_days=5)
    with pytest.raises(ConfigError):
        simulate_scene("korea", 4, 2022, 0, tmp_path / "z")
    assert not (tmp_path / "x").exists()


def test_sim_refuses_to_mix_scenes(tmp_path):
    simulate_scene("netherlands", 48, 2022, 1, tmp_path)
    before = sorted(p.name for p in (tmp_path / "s1").glob("*.tif"))
    simulate_scene("netherlands", 48, 2022, 1, tmp_path)  # same scene again: fine
    with pytest.raises(ConfigError, match="another scene"):
        simulate_scene("netherlands", 48, 2023, 1, tmp_path)
    assert sorted(p.name for p in (tmp_path / "s1").glob("*.tif")) == before
    simulate_scene("netherlands", 48, 2023, 1, tmp_path, overwrite=True)
    names = sorted(p.name for p in (tmp_path / "s1").glob("*.tif"))
    assert names and all(n.startswith("2023-") for n in names)
