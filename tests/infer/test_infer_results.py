"""Readable results of predict and parcels: styles, preview, hectares, the area command."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from shapely.geometry import box
from typer.testing import CliRunner

from cropmap.cli.main import app
from cropmap.errors import CrsError, VectorError

runner = CliRunner()


def test_predict_writes_styles_preview_and_area(
    model_dir: Path, tmp_path: Path, make_composite
) -> None:
    comp = make_composite(tmp_path / "comp.tif", 96, 112, seed=3, hole=False)
    out = tmp_path / "maps" / "a.tif"
    args = ["predict", str(model_dir), str(comp), "--out", str(out), "--window", "64"]
    r = runner.invoke(app, [*args, "--threads", "1", "--preview"])
    assert r.exit_code == 0, r.output
    with rasterio.open(out) as ds:
        cls, transform = ds.read(2), ds.transform
    n_rice = int((cls == 1).sum())
    assert 0 < n_rice < cls.size
    assert f"mapped rice: {n_rice * 0.01:,.2f} ha ({n_rice:,} px" in r.output
    for name in ("a.qml", "a.class.vrt", "a.png"):
        assert (tmp_path / "maps" / name).stat().st_size > 100, name
    with rasterio.open(tmp_path / "maps" / "a.class.vrt") as v:
        np.testing.assert_array_equal(v.read(1), cls)
        assert v.colormap(1)[1][1] > 100  # rice is green

    # parcels: an area column and the target's parcel area
    parcels = gpd.GeoDataFrame(
        {"crop": ["rice", "other"]},
        geometry=[box(500000, 4599500, 500300, 4599800), box(500400, 4599300, 500800, 4599700)],
        crs="EPSG:32630",
    )
    parcels.to_crs("EPSG:4326").to_file(tmp_path / "p.gpkg")
    r = runner.invoke(
        app, ["parcels", str(out), str(tmp_path / "p.gpkg"), "--out", str(tmp_path / "s.gpkg")]
    )
    assert r.exit_code == 0, r.output
    stats = gpd.read_file(tmp_path / "s.gpkg")
    np.testing.assert_allclose(stats["area_ha"], [9.0, 16.0], rtol=1e-6)
    n = int((stats["class_name"] == "rice").sum())
    ha = float(stats.loc[stats["class_name"] == "rice", "area_ha"].sum())
    assert f"rice (majority class): {n} of 2 parcels, {ha:,.2f} ha" in r.output

    # area: the parcels as a (tiny) reference sample; both strata need units
    cells = np.concatenate([np.argwhere(cls == 1)[:4], np.argwhere(cls == 0)[:4]])
    xs, ys = rasterio.transform.xy(transform, cells[:, 0], cells[:, 1])
    ref = gpd.GeoDataFrame(
        {"crop": ["rice", "other"] * 4}, geometry=gpd.points_from_xy(xs, ys), crs="EPSG:32630"
    )
    ref.to_file(tmp_path / "ref.gpkg")
    r = runner.invoke(
        app,
        [
            "area",
            str(out),
            str(tmp_path / "ref.gpkg"),
            "--column",
            "crop",
            "--target-values",
            "rice",
            "--out",
            str(tmp_path / "area.json"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "overall accuracy" in r.output and "estimated area proportions" in r.output
    d = json.loads((tmp_path / "area.json").read_text())
    assert d["error_matrix_counts"] == [[2, 2], [2, 2]]
    # sample: the drawn points lie on pixels of their map class
    r = runner.invoke(
        app, ["sample", str(out), "--per-class", "5", "--out", str(tmp_path / "s5.gpkg")]
    )
    assert r.exit_code == 0, r.output
    pts = gpd.read_file(tmp_path / "s5.gpkg")
    assert sorted(pts["map_class"]) == ["other"] * 5 + ["rice"] * 5
    idx = [rasterio.transform.rowcol(transform, p.x, p.y) for p in pts.geometry]
    assert [["other", "rice"][cls[i, j]] for i, j in idx] == list(pts["map_class"])
    # the stratified areas add up to the mapped (valid) area
    total = sum(row["area_ha"] for row in d["per_class"])
    assert abs(total - (cls != 255).sum() * 0.01) < 1e-6


def test_area_command_errors(tmp_path: Path, make_composite) -> None:
    ref = tmp_path / "r.gpkg"
    gpd.GeoDataFrame({"class": [1]}, geometry=gpd.points_from_xy([0], [0]), crs=4326).to_file(ref)
    r = runner.invoke(app, ["area", str(tmp_path / "missing.tif"), str(ref)])
    assert r.exit_code != 0
    m = tmp_path / "g.tif"
    from rasterio.transform import from_origin

    from cropmap.io.raster import write_geotiff

    write_geotiff(
        m, np.ones((2, 4, 4), np.uint8), crs="EPSG:4326", transform=from_origin(2, 41, 1e-4, 1e-4)
    )
    r = runner.invoke(app, ["area", str(m), str(ref)])
    assert isinstance(r.exception, CrsError)
    r = runner.invoke(app, ["area", str(m), str(tmp_path / "nope.gpkg")])
    assert isinstance(r.exception, CrsError | VectorError)
