"""Per-parcel zonal statistics of a map, with parcels in another CRS."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from rasterio.crs import CRS
from rasterio.transform import from_origin
from shapely.geometry import box

from cropmap.errors import DroppedParcelsWarning, RasterReadError, VectorError
from cropmap.infer.parcel_table import parcel_stats
from cropmap.io.raster import write_geotiff

ORIGIN_X, ORIGIN_Y = 500000.0, 4600000.0


def _map(tmp_path: Path) -> Path:
    """A 40 x 50 map: probability = column * 5, class = prob >= 127, a nodata square."""
    prob = np.tile((np.arange(50) * 5).astype(np.uint8), (40, 1))
    cls = (prob >= 127).astype(np.uint8)
    prob[0:10, 0:10] = 255
    cls[0:10, 0:10] = 255
    path = tmp_path / "map.tif"
    write_geotiff(
        path,
        np.stack([prob, cls]),
        crs=CRS.from_epsg(32630),
        transform=from_origin(ORIGIN_X, ORIGIN_Y, 10.0, 10.0),
        nodata=255,
        descriptions=["probability_rice", "class"],
        tags={"CLASSES": "other,rice", "TARGET": "rice", "THRESHOLD": 0.5},
    )
    return path


def _cell_box(r0: int, c0: int, r1: int, c1: int):  # type: ignore[no-untyped-def]
    """Polygon over map pixels rows r0..r1-1, cols c0..c1-1."""
    return box(ORIGIN_X + 10 * c0, ORIGIN_Y - 10 * r1, ORIGIN_X + 10 * c1, ORIGIN_Y - 10 * r0)


def test_parcel_stats_match_hand_computed(tmp_path: Path) -> None:
    mp = _map(tmp_path)
    geoms = [
        _cell_box(20, 0, 30, 10),  # cols 0..9: prob 0..45, all class 0
        _cell_box(5, 5, 15, 15),  # overlaps the nodata square: 25 of 100 pixels nodata
        _cell_box(20, 40, 25, 50),  # cols 40..49: class 1
        _cell_box(100, 100, 110, 110),  # outside the map
    ]
    parcels = gpd.GeoDataFrame(
        {"parcel_id": [11, 12, 13, 14]}, geometry=geoms, crs="EPSG:32630"
    ).to_crs("EPSG:4326")  # the map's CRS differs: reprojected internally
    src = tmp_path / "parcels.gpkg"
    parcels.to_file(src, driver="GPKG")
    out = tmp_path / "stats.gpkg"
    with pytest.warns(DroppedParcelsWarning, match="1 of 4 parcels"):
        parcel_stats(mp, src, out)
    res = gpd.read_file(out).set_index("parcel_id")
    assert res.crs.to_epsg() == 4326
    assert res.loc[11, "n_pixels"] == 100
    assert res.loc[11, "valid_fraction"] == 1.0
    assert res.loc[11, "prob_mean"] == pytest.approx(np.mean(np.arange(10) * 5) / 254, abs=1e-6)
    assert res.loc[11, "class_majority"] == 0 and res.loc[11, "class_name"] == "other"
    assert res.loc[12, "valid_fraction"] == pytest.approx(0.75)
    want = np.mean(
        np.tile(np.arange(5, 15) * 5, (10, 1))[
            ~(np.arange(10)[:, None] < 5) | (np.arange(10)[None] >= 5)
        ]
    )
    assert res.loc[12, "prob_mean"] == pytest.approx(want / 254, abs=1e-6)
    assert res.loc[13, "class_majority"] == 1 and res.loc[13, "class_threshold"] == 1
    assert res.loc[13, "class_name"] == "rice"
    assert res.loc[14, "n_pixels"] == 0 and np.isnan(res.loc[14, "prob_mean"])
    assert res.loc[14, "class_majority"] == -1


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_parcel_stats_bad_inputs(tmp_path: Path) -> None:
    mp = _map(tmp_path)
    far = gpd.GeoDataFrame({"id": [1]}, geometry=[_cell_box(500, 500, 510, 510)], crs=32630)
    far.to_file(tmp_path / "far.gpkg", driver="GPKG")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedParcelsWarning)
        with pytest.raises(VectorError, match="no parcel"):
            parcel_stats(mp, tmp_path / "far.gpkg", tmp_path / "o.gpkg")
    with pytest.raises(VectorError, match="not found"):
        parcel_stats(mp, tmp_path / "missing.gpkg", tmp_path / "o.gpkg")
    nocrs = gpd.GeoDataFrame({"id": [1]}, geometry=[_cell_box(0, 0, 5, 5)])
    nocrs.to_file(tmp_path / "nocrs.gpkg", driver="GPKG")
    with pytest.raises(VectorError, match="no CRS"):
        parcel_stats(mp, tmp_path / "nocrs.gpkg", tmp_path / "o.gpkg")
    f32 = tmp_path / "f32.tif"
    write_geotiff(
        f32, np.zeros((2, 8, 8), np.float32), crs=32630, transform=from_origin(0, 80, 10, 10)
    )
    with pytest.raises(RasterReadError, match="not a cropmap map"):
        parcel_stats(f32, tmp_path / "far.gpkg", tmp_path / "o.gpkg")
    assert not (tmp_path / "o.gpkg").exists()
