"""Reading parcel vectors: clear errors for missing files, CRS and columns."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

from cropmap.errors import VectorError
from cropmap.io.vector import read_vector


def test_reads_any_format_and_checks_columns(tmp_path):
    gdf = gpd.GeoDataFrame({"crop": ["rice"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:4326")
    for name in ("p.gpkg", "p.geojson", "p.shp"):
        gdf.to_file(tmp_path / name)
        got = read_vector(tmp_path / name, columns=["crop"])
        assert len(got) == 1 and got.crs.to_epsg() == 4326
    with pytest.raises(VectorError, match="'class' not in .*crop"):
        read_vector(tmp_path / "p.gpkg", columns=["class"])


@pytest.mark.filterwarnings("ignore:.crs. was not provided")
def test_missing_file_no_crs_and_empty(tmp_path):
    with pytest.raises(VectorError, match="not found"):
        read_vector(tmp_path / "nope.gpkg")
    gpd.GeoDataFrame({"crop": ["rice"]}, geometry=[box(0, 0, 1, 1)]).to_file(
        tmp_path / "nocrs.geojson"
    )
    gdf = gpd.read_file(tmp_path / "nocrs.geojson")
    if gdf.crs is None:  # GeoJSON readers may default to EPSG:4326
        with pytest.raises(VectorError, match="no CRS"):
            read_vector(tmp_path / "nocrs.geojson")
    gpd.GeoDataFrame({"crop": ["rice"]}, geometry=[box(0, 0, 1, 1)]).to_file(tmp_path / "nocrs.shp")
    with pytest.raises(VectorError, match="no CRS"):
        read_vector(tmp_path / "nocrs.shp")
    (tmp_path / "bad.gpkg").write_text("not a geopackage")
    with pytest.raises(VectorError, match="cannot read"):
        read_vector(tmp_path / "bad.gpkg")
