"""Area estimate from files: a map, reference points or parcels in another CRS, outputs."""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from rasterio.transform import from_origin, xy
from shapely.geometry import Point, box

from cropmap.errors import ConfigError, CrsError, DroppedParcelsWarning, VectorError
from cropmap.evaluate.area import stratified_estimate
from cropmap.evaluate.area_io import estimate_area, format_table, write_estimate

TRANSFORM = from_origin(300000.0, 4000000.0, 10.0, 10.0)


def _scene(tmp_path: Path, make_map) -> tuple[Path, np.ndarray]:
    """60 x 80 map: rice in the left quarter, nodata in the top-right corner."""
    cls = np.zeros((60, 80), np.uint8)
    cls[:, :20] = 1
    cls[:5, 70:] = 255
    return make_map(tmp_path / "map.tif", cls), cls


def _points(cls: np.ndarray, cells: list[tuple[int, int]], labels: list[str]) -> gpd.GeoDataFrame:
    pts = [Point(*xy(TRANSFORM, r, c)) for r, c in cells]
    gdf = gpd.GeoDataFrame({"ref": labels}, geometry=pts, crs="EPSG:32652")
    return gdf.to_crs("EPSG:4326")  # the reader reprojects


def test_points_in_another_crs_give_the_hand_counted_matrix(tmp_path: Path, make_map) -> None:
    path, cls = _scene(tmp_path, make_map)
    # stratum rice (cols < 20): 4 rice, 1 other; stratum other: 6 other, 2 rice
    cells = [(5, 2), (10, 5), (30, 10), (50, 15), (40, 19)]
    cells += [(5, 30), (10, 40), (20, 50), (30, 60), (40, 70), (50, 75), (55, 25), (25, 35)]
    labels = ["rice", "rice", "Paddy", "rice", "maize"] + ["maize"] * 6 + ["rice", "paddy"]
    ref = tmp_path / "ref.gpkg"
    _points(cls, cells, labels).to_file(ref)
    e = estimate_area(path, ref, column="ref", target_values=["rice", "paddy"])
    np.testing.assert_array_equal(e.counts, [[6, 2], [1, 4]])
    mapped = np.array([(cls == 0).sum(), (cls == 1).sum()])
    want = stratified_estimate(np.array([[6, 2], [1, 4]]), mapped, pixel_area_ha=0.01)
    np.testing.assert_allclose(e.area_ha, want.area_ha)
    np.testing.assert_allclose(e.area_ci_ha, want.area_ci_ha)
    assert e.classes == ("other", "rice")
    text = format_table(e)
    assert "overall accuracy" in text and "rice" in text


def test_parcels_use_their_representative_point_and_class_names(tmp_path: Path, make_map) -> None:
    path, _ = _scene(tmp_path, make_map)
    x0, y0 = 300000.0, 4000000.0
    polys = [
        box(x0 + 10, y0 - 100, x0 + 60, y0 - 50),  # inside rice (cols 1-5)
        box(x0 + 20, y0 - 300, x0 + 90, y0 - 250),  # rice
        box(x0 + 300, y0 - 300, x0 + 400, y0 - 250),  # other
        box(x0 + 500, y0 - 500, x0 + 600, y0 - 450),  # other
        box(x0 + 750, y0 - 30, x0 + 790, y0 - 10),  # nodata corner: dropped
        box(x0 - 900, y0 + 100, x0 - 800, y0 + 200),  # outside the map: dropped
    ]
    ref = tmp_path / "parcels.gpkg"
    gdf = gpd.GeoDataFrame(
        {"class": ["rice", "other", "other", "1", "rice", "rice"]}, geometry=polys, crs="EPSG:32652"
    )
    gdf.to_file(ref)
    with pytest.warns(DroppedParcelsWarning, match="2 of 6 reference units"):
        e = estimate_area(path, ref)
    np.testing.assert_array_equal(e.counts, [[1, 1], [1, 1]])


def test_bad_references_say_what_is_wrong(tmp_path: Path, make_map) -> None:
    path, cls = _scene(tmp_path, make_map)
    ref = tmp_path / "ref.gpkg"
    _points(cls, [(5, 2), (5, 30)], ["rice", "wheat"]).to_file(ref)
    with pytest.raises(VectorError, match="column 'crop' not in"):
        estimate_area(path, ref, column="crop")
    with pytest.raises(ConfigError, match=r"value\(s\) \['wheat'\].*--target-values"):
        estimate_area(path, ref, column="ref")
    far = tmp_path / "far.gpkg"
    gpd.GeoDataFrame({"class": ["rice"]}, geometry=[Point(0, 0)], crs="EPSG:32652").to_file(far)
    with pytest.raises(VectorError, match="no sample unit"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimate_area(path, far)
    one = tmp_path / "one.gpkg"
    _points(cls, [(5, 30), (6, 30)], ["other", "other"]).to_file(one)
    with pytest.raises(ConfigError, match=r"map class\(es\) \[1\]"):
        estimate_area(path, one, column="ref")


def test_geographic_map_is_refused(tmp_path: Path, make_map) -> None:
    g = make_map(tmp_path / "g.tif", np.ones((8, 8), np.uint8), crs="EPSG:4326", pixel_m=1e-4)
    ref = tmp_path / "r.gpkg"
    gpd.GeoDataFrame({"class": [1]}, geometry=[Point(300000, 4000000)], crs="EPSG:32652").to_file(
        ref
    )
    with pytest.raises(CrsError, match="geographic"):
        estimate_area(g, ref)


def test_outputs_csv_and_json(tmp_path: Path) -> None:
    e = stratified_estimate(
        np.array([[18, 2], [2, 8]]),
        np.array([9000, 1000]),
        pixel_area_ha=0.01,
        classes=["other", "rice"],
    )
    rows = list(csv.DictReader(write_estimate(e, tmp_path / "a.csv").read_text().splitlines()))
    assert [r["class"] for r in rows] == ["other", "rice"]
    assert float(rows[1]["area_ha"]) == pytest.approx(17.0)
    assert float(rows[1]["p_ref_rice"]) == pytest.approx(0.08)
    assert float(rows[0]["overall_accuracy"]) == pytest.approx(0.89)
    d = json.loads(write_estimate(e, tmp_path / "a.json").read_text())
    assert d["per_class"][1]["area_ci95_ha"] == pytest.approx(12.4185, abs=1e-3)
    with pytest.raises(ConfigError, match=r"\.csv or \.json"):
        write_estimate(e, tmp_path / "a.txt")
    assert not (tmp_path / "a.txt").exists()
