"""CLI: predict (composite and S1 folder), export, parcels; help shows examples."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from shapely.geometry import box
from typer.testing import CliRunner

from cropmap.cli.main import app
from cropmap.io.raster import write_geotiff

runner = CliRunner()
DATES = [
    dt.date(2021, m, d)
    for m, d in [(5, 20), (6, 10), (7, 1), (7, 20), (8, 10), (9, 1), (9, 20), (10, 10)]
]  # one per korea-rice period


def _s1_folder(tmp_path: Path, arr_db: np.ndarray) -> Path:
    """One linear-sigma0 GeoTIFF per date (VV, VH described), from ``(T, 2, H, W)`` dB."""
    with rasterio.open(tmp_path / "comp.tif") as src:
        crs, transform = src.crs, src.transform
    folder = tmp_path / "s1"
    folder.mkdir()
    for t, date in enumerate(DATES):
        write_geotiff(
            folder / f"{date.isoformat()}.tif",
            (10.0 ** (arr_db[t] / 10.0)).astype(np.float32),
            crs=crs,
            transform=transform,
            nodata=float("nan"),
            descriptions=["VV", "VH"],
        )
    return folder


@pytest.mark.parametrize("command", ["predict", "export", "parcels"])
def test_help_shows_an_example(command: str) -> None:
    r = runner.invoke(app, [command, "--help"])
    assert r.exit_code == 0
    assert f"cropmap {command}" in r.output


def test_predict_composite_and_folder_then_parcels(
    model_dir: Path, tmp_path: Path, make_composite
) -> None:
    comp = make_composite(tmp_path / "comp.tif", 96, 112, seed=7, hole=False)
    with rasterio.open(comp) as src:
        arr = src.read().reshape(8, 2, 96, 112)
    folder = _s1_folder(tmp_path, arr)
    common = [
        "--window",
        "64",
        "--threads",
        "1",
        "--precision",
        "fp32",
    ]  # int8 calibrates per input
    r = runner.invoke(
        app, ["predict", str(model_dir), str(comp), "--out", str(tmp_path / "a.tif"), *common]
    )
    assert r.exit_code == 0, r.output
    assert "wrote" in r.output
    r = runner.invoke(
        app,
        [
            "predict",
            str(model_dir),
            str(folder),
            "--out",
            str(tmp_path / "b.tif"),
            "--calendar",
            "korea-rice",
            "--year",
            "2021",
            "--units",
            "linear",
            *common,
        ],
    )
    assert r.exit_code == 0, r.output
    with rasterio.open(tmp_path / "a.tif") as da, rasterio.open(tmp_path / "b.tif") as db:
        a, b = da.read(), db.read()
    assert np.abs(a.astype(int) - b).max() <= 1  # dB -> linear -> dB round trip
    parcels = gpd.GeoDataFrame(
        {"parcel_id": [1, 2]},
        geometry=[box(500000, 4599500, 500300, 4599800), box(500400, 4599300, 500800, 4599700)],
        crs="EPSG:32630",
    )
    parcels.to_file(tmp_path / "p.gpkg", driver="GPKG")
    r = runner.invoke(
        app,
        [
            "parcels",
            str(tmp_path / "a.tif"),
            str(tmp_path / "p.gpkg"),
            "--out",
            str(tmp_path / "stats.gpkg"),
        ],
    )
    assert r.exit_code == 0, r.output
    stats = gpd.read_file(tmp_path / "stats.gpkg")
    assert list(stats["n_pixels"]) == [900, 1600]
    assert stats["prob_mean"].between(0, 1).all()


def test_predict_errors_are_one_line(model_dir: Path, tmp_path: Path, make_composite) -> None:
    comp = make_composite(tmp_path / "comp.tif", 32, 32, hole=False)
    r = runner.invoke(
        app,
        [
            "predict",
            str(model_dir),
            str(comp),
            "--out",
            str(tmp_path / "x.tif"),
            "--engine",
            "onnx",
            "--onnx",
            str(tmp_path / "missing.onnx"),  # named by hand: not exported on the fly
        ],
    )
    assert r.exit_code != 0
    assert "cropmap export" in str(r.exception) + r.output


def test_map_commands_without_a_network_do_not_load_torch() -> None:
    """`cropmap parcels`, `preview`, `sample` and `area` read maps only: no torch (1.3 s)."""
    import subprocess
    import sys

    modules = ["cropmap.infer", "cropmap.infer.parcel_table", "cropmap.evaluate.mapped"]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(sorted({'torch', 'onnxruntime', 'dask'} & {m.split('.')[0] for m in sys.modules}))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]", res.stdout
