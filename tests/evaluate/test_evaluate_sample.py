"""Stratified random sample of map pixels: exact counts, right classes, labels on the grid."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio

from cropmap.errors import ConfigError, GridMismatchError
from cropmap.evaluate.sample import draw_ranks, pick_pixels, stratified_sample
from cropmap.io.raster import write_geotiff


def test_pick_pixels_finds_the_ranked_pixels_across_strips(tmp_path: Path, make_map) -> None:
    rng = np.random.default_rng(1)
    cls = rng.choice(np.array([0, 1, 255], np.uint8), size=(50, 30), p=[0.7, 0.25, 0.05])
    path = make_map(tmp_path / "m.tif", cls)
    counts = np.array([(cls == 0).sum(), (cls == 1).sum()])
    ranks = draw_ranks(counts, 40, seed=3)
    with rasterio.open(path) as ds:
        rows, cols, k = pick_pixels(ds, ranks, strip_rows=7)
    assert [(k == c).sum() for c in (0, 1)] == [40, 40]
    np.testing.assert_array_equal(cls[rows, cols], k)
    # the pixel of rank r in class c is the r-th class-c pixel in raster order
    for c in (0, 1):
        flat = np.flatnonzero(cls.ravel() == c)[ranks[c]]
        np.testing.assert_array_equal(np.sort(rows[k == c] * 30 + cols[k == c]), flat)


def test_sample_with_labels_fills_the_reference(tmp_path: Path, make_map) -> None:
    cls = np.zeros((40, 40), np.uint8)
    cls[:, :10] = 1
    path = make_map(tmp_path / "m.tif", cls)
    truth = np.zeros((40, 40), np.uint8)
    truth[:, :12] = 1  # the map misses two columns of rice
    truth[0] = 255
    with rasterio.open(path) as ds:
        write_geotiff(tmp_path / "labels.tif", truth, crs=ds.crs, transform=ds.transform)
    out = stratified_sample(
        path, tmp_path / "s.gpkg", per_class=500, seed=0, labels=tmp_path / "labels.tif"
    )
    gdf = gpd.read_file(out)
    # a class smaller than per_class gives all its pixels; unknown labels are left out
    assert (gdf["map_class"] == "rice").sum() == 39 * 10
    # 'other' ranks below 30 are row 0 (unknown truth): those units are left out
    row0 = int((draw_ranks(np.array([1200, 400]), 500, seed=0)[0] < 30).sum())
    assert row0 > 0 and (gdf["map_class"] == "other").sum() == 500 - row0
    with rasterio.open(path) as ds:
        rc = [ds.index(p.x, p.y) for p in gdf.geometry]
    want = np.array(["other", "rice"])[[truth[r, c] for r, c in rc]]
    np.testing.assert_array_equal(gdf["reference"], want)


def test_sample_refusals(tmp_path: Path, make_map) -> None:
    path = make_map(tmp_path / "m.tif", np.zeros((10, 10), np.uint8))
    with pytest.raises(ConfigError, match="at least 2"):
        stratified_sample(path, tmp_path / "s.gpkg", per_class=1)
    other = make_map(tmp_path / "o.tif", np.zeros((10, 12), np.uint8))
    with pytest.raises(GridMismatchError, match="not on the grid"):
        stratified_sample(path, tmp_path / "s.gpkg", labels=other)
    assert not (tmp_path / "s.gpkg").exists()
