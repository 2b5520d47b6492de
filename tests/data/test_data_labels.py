"""Rasterizing parcels: reprojection from another CRS, mapping, dropped parcels."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from shapely.geometry import Polygon, box

from cropmap.data import rasterize_parcels
from cropmap.errors import DroppedParcelsWarning, VectorError


def _grid_box(comp, r0, r1, c0, c1):
    with rasterio.open(comp) as ds:
        t = ds.transform
    x0, y0 = t * (c0, r0)
    x1, y1 = t * (c1, r1)
    return box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def test_parcels_in_wgs84_land_on_the_right_pixels(scene, tmp_path):
    comp, _, _, _ = scene
    # parcels built on the UTM grid (pixel rows 5-15, cols 10-20 etc.), stored in EPSG:4326
    utm = gpd.GeoDataFrame(
        {"crop": ["Rice", "maize", None]},
        geometry=[
            _grid_box(comp, 5, 15, 10, 20),
            _grid_box(comp, 20, 30, 30, 40),
            _grid_box(comp, 30, 38, 2, 6),
        ],
        crs="EPSG:32631",
    )
    vec = tmp_path / "parcels.gpkg"
    utm.to_crs("EPSG:4326").to_file(vec)
    report = rasterize_parcels(vec, comp, tmp_path / "lab.tif", mapping={"rice": 1})
    with rasterio.open(tmp_path / "lab.tif") as ds:
        lab = ds.read(1)
        assert ds.nodata == 255 and ds.dtypes[0] == "uint8"
    # interior pixels exact; the 4326 round trip may move edges by under a pixel
    assert (lab[6:14, 11:19] == 1).all()
    assert (lab[21:29, 31:39] == 0).all()
    assert (lab[31:37, 3:5] == 255).all()
    assert lab[0:4, :].max() == 0  # background
    assert abs(int((lab == 1).sum()) - 100) <= 25
    assert report.n_burned == 3 and report.dropped_outside == 0


def test_dropped_parcels_are_reported(scene, tmp_path):
    comp, _, _, _ = scene
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])  # self-intersecting
    with rasterio.open(comp) as ds:
        t = ds.transform
    x0, y0 = t * (0, 0)
    far = box(x0 + 1e6, y0, x0 + 1e6 + 100, y0 + 100)
    gdf = gpd.GeoDataFrame(
        {"crop": ["rice", "rice", "rice"]},
        geometry=[_grid_box(comp, 1, 5, 1, 5), far, bowtie],
        crs="EPSG:32631",
    )
    gdf.to_file(tmp_path / "p.gpkg")
    with pytest.warns(DroppedParcelsWarning):
        report = rasterize_parcels(tmp_path / "p.gpkg", comp, tmp_path / "lab.tif")
    assert report.dropped_outside == 2  # far away, and the repaired bowtie near (0, 0)
    assert report.repaired_invalid == 1
    assert report.n_burned == 1


def test_missing_class_column_lists_columns(scene, tmp_path):
    comp, _, _, _ = scene
    gdf = gpd.GeoDataFrame(
        {"kind": ["rice"]}, geometry=[_grid_box(comp, 1, 5, 1, 5)], crs="EPSG:32631"
    )
    gdf.to_file(tmp_path / "p.gpkg")
    with pytest.raises(VectorError, match="'crop' not in .*kind"):
        rasterize_parcels(tmp_path / "p.gpkg", comp, tmp_path / "lab.tif")
    assert not (tmp_path / "lab.tif").exists()
    assert np.isfinite(1.0)


def test_target_absent_from_parcels_fails_and_keeps_earlier_labels(scene, tmp_path):
    from typer.testing import CliRunner

    from cropmap.cli.main import app
    from cropmap.errors import EmptyInputError

    comp, _, _, _ = scene
    gdf = gpd.GeoDataFrame(
        {"crop": ["maize", "Wheat"]},
        geometry=[_grid_box(comp, 1, 5, 1, 5), _grid_box(comp, 6, 9, 6, 9)],
        crs="EPSG:32631",
    )
    gdf.to_file(tmp_path / "p.gpkg")
    out = tmp_path / "lab.tif"
    rasterize_parcels(tmp_path / "p.gpkg", comp, out, mapping={"maize": 1})
    before = out.read_bytes()
    with pytest.raises(EmptyInputError, match=r"target class rice is in no parcel .*maize, Wheat"):
        rasterize_parcels(tmp_path / "p.gpkg", comp, out)
    assert out.read_bytes() == before
    r = CliRunner().invoke(app, ["rasterize", str(tmp_path / "p.gpkg"), str(comp), str(out)])
    assert isinstance(r.exception, EmptyInputError)  # main() turns it into exit 2
    assert out.read_bytes() == before


def test_target_parcels_all_outside_the_grid_fail(scene, tmp_path):
    from cropmap.errors import EmptyInputError

    comp, _, _, _ = scene
    with rasterio.open(comp) as ds:
        x0, y0 = ds.transform * (0, 0)
    gdf = gpd.GeoDataFrame(
        {"crop": ["maize", "rice"]},
        geometry=[_grid_box(comp, 1, 5, 1, 5), box(x0 + 1e6, y0, x0 + 1e6 + 50, y0 + 50)],
        crs="EPSG:32631",
    )
    gdf.to_file(tmp_path / "p.gpkg")
    with pytest.raises(EmptyInputError, match="class rice .* outside"):
        rasterize_parcels(tmp_path / "p.gpkg", comp, tmp_path / "lab.tif")
    assert not (tmp_path / "lab.tif").exists()
