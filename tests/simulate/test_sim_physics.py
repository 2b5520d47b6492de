"""Backscatter physics of simulated scenes: flooding, water, speckle, bright and dark covers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy import ndimage

from cropmap.simulate import simulate_scene
from cropmap.simulate.phenology import CLASS_CODE
from cropmap.simulate.speckle import enl, gamma_speckle

from .conftest import class_raster, interior, read_db

# flooding (transplanting / water seeding) windows of each rice region
FLOOD = {
    "korea": ("05-20", "06-08"),
    "spain": ("05-05", "06-05"),
    "france": ("05-15", "06-10"),
}


def _files(scene, first="01-01", last="12-31"):
    files = sorted((scene / "s1").glob("*.tif"))
    a, b = (dt.date.fromisoformat(f"2022-{d}") for d in (first, last))
    return [f for f in files if a <= dt.date.fromisoformat(f.stem) <= b]


@pytest.mark.parametrize("region", sorted(FLOOD))
def test_sim_rice_dark_when_flooded(scenes, region):
    scene = scenes[region]
    rice = interior(class_raster(scene) == CLASS_CODE["rice"], 1)
    assert rice.sum() > 200
    files = _files(scene, *FLOOD[region])
    assert len(files) >= 2
    vh = np.stack([read_db(f, "VH")[rice] for f in files])
    assert np.nanmedian(vh) < -20.0
    # and the canopy is much brighter at its August peak
    peak = np.stack([read_db(f, "VH")[rice] for f in _files(scene, "08-01", "08-31")])
    assert -17.5 < np.nanmedian(peak) < -11.0
    assert np.nanmedian(peak) - np.nanmedian(vh) > 6.0


@pytest.mark.parametrize("region", ["korea", "spain", "france", "netherlands"])
def test_sim_water_dark_all_year(scenes, region):
    scene = scenes[region]
    water = interior(class_raster(scene) == CLASS_CODE["water"], 1)
    assert water.sum() >= 30, f"too little open water in the {region} test scene"
    for f in _files(scene):
        assert np.nanmedian(read_db(f, "VH")[water]) < -23.0, f.name


def test_sim_enl_matches_looks(tmp_path):
    """mean^2 / var of linear intensity on the largest homogeneous parcel ~ L (Lee 1981)."""
    for looks in (4.4, 9.0):
        scene = simulate_scene("spain", 192, 2022, 3, tmp_path / f"L{looks}", looks=looks)
        cls = class_raster(scene)
        lab, n = ndimage.label(cls == CLASS_CODE["water"])
        assert n > 0
        biggest = np.argmax(np.bincount(lab.ravel())[1:]) + 1
        inner = interior(lab == biggest, 2)
        assert inner.sum() > 300
        f = _files(scene)[10]
        lin = 10.0 ** (read_db(f, "VV")[inner] / 10.0)
        assert abs(enl(lin) - looks) / looks < 0.15, (looks, enl(lin))


def test_sim_gamma_speckle_moments():
    x = gamma_speckle(np.random.default_rng(0), (400_000,), 4.4)
    assert x.dtype == np.float32
    assert abs(x.mean() - 1.0) < 0.01
    assert abs(x.var() - 1 / 4.4) < 0.01


def test_sim_cover_levels(scenes):
    """Urban is bright (VV about 0..+5 dB), forest VH about -12..-14, roads dark."""
    scene = scenes["korea"]
    cls = class_raster(scene)
    f = _files(scene, "07-01", "07-31")[0]
    vv, vh = read_db(f, "VV"), read_db(f, "VH")
    forest = interior(cls == CLASS_CODE["forest"], 2)
    urban = interior(cls == CLASS_CODE["urban"], 1)
    assert -15.5 < np.nanmedian(vh[forest]) < -11.5
    assert -3.0 < np.nanmedian(vv[urban]) < 6.0
    assert np.nanmedian(vv[urban]) > np.nanmedian(vv[forest]) + 5.0


def test_sim_barley_season_netherlands(scenes):
    """Dutch barley: VH rises from bare soil to a June canopy, drops after the harvest."""
    scene = scenes["netherlands"]
    barley = interior(class_raster(scene) == CLASS_CODE["barley"], 1)
    assert barley.sum() > 100

    def med(a, b):
        return np.nanmedian(np.stack([read_db(f, "VH")[barley] for f in _files(scene, a, b)]))

    march, june, sept = med("03-01", "03-31"), med("06-01", "06-30"), med("09-01", "09-30")
    assert june > march + 1.5
    assert june > sept + 1.5
