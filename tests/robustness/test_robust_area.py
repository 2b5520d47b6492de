"""`cropmap area` and `cropmap preview` on bad input: one line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from rasterio.transform import from_origin
from shapely.geometry import Point

from cropmap.io.raster import write_geotiff

ORIGIN = (300000.0, 4000000.0)


def _map(path: Path, crs: str = "EPSG:32652", pixel: float = 10.0) -> Path:
    cls = np.zeros((20, 20), np.uint8)
    cls[:, :5] = 1
    write_geotiff(
        path,
        np.stack([cls * 200, cls]),
        crs=crs,
        transform=from_origin(*ORIGIN, pixel, pixel),
        nodata=255,
        tags={"CLASSES": "other,rice", "TARGET": "rice"},
    )
    return path


def _ref(path: Path, values: list[str], column: str = "crop", x0: float = 15.0) -> Path:
    """Points from column ``x0 // 10`` rightwards, 4 columns apart (cols < 5 map as rice)."""
    pts = [Point(ORIGIN[0] + x0 + 40 * i, ORIGIN[1] - 15 - 10 * i) for i in range(len(values))]
    gpd.GeoDataFrame({column: values}, geometry=pts, crs="EPSG:32652").to_file(path)
    return path


CASES = {
    "geographic map": (
        lambda d: [_map(d / "g.tif", "EPSG:4326", 1e-4), _ref(d / "r.gpkg", ["rice"])],
        "geographic CRS",
    ),
    "missing column": (
        lambda d: [
            _map(d / "m.tif"),
            _ref(d / "r.gpkg", ["rice"], column="class"),
            "--column",
            "crop",
        ],
        "column 'crop' not in",
    ),
    "unknown values": (
        lambda d: [_map(d / "m.tif"), _ref(d / "r.gpkg", ["rice", "maize"]), "--column", "crop"],
        "not map classes",
    ),
    "unsampled stratum": (
        lambda d: [
            _map(d / "m.tif"),
            _ref(d / "r.gpkg", ["maize", "rice", "rice"], x0=65.0),  # all in 'other'
            "--column",
            "crop",
            "--target-values",
            "rice",
        ],
        "no reference sample unit",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_area_bad_input_one_line_exit_2(case: str, tmp_path: Path, run_cli) -> None:
    build, pattern = CASES[case]
    out = tmp_path / "area.csv"
    out.write_text("earlier result\n")
    code, _, err = run_cli("area", *build(tmp_path), "--out", out)
    assert code == 2, err
    lines = [ln for ln in err.strip().splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and pattern in lines[0], err
    assert out.read_text() == "earlier result\n"


def test_area_bad_out_suffix_writes_nothing(tmp_path: Path, run_cli) -> None:
    m = _map(tmp_path / "m.tif")
    # two units per stratum: column 0 is rice (cols < 5), the others are other
    ref = tmp_path / "r.gpkg"
    pts = [Point(ORIGIN[0] + 15 + 70 * i, ORIGIN[1] - 15 - 10 * i) for i in range(3)]
    pts.append(Point(ORIGIN[0] + 25, ORIGIN[1] - 105))
    gpd.GeoDataFrame(
        {"class": ["rice", "other", "other", "rice"]}, geometry=pts, crs=32652
    ).to_file(ref)
    code, out, err = run_cli("area", m, ref, "--out", tmp_path / "area.txt")
    assert code == 2 and "use a .csv or .json" in err
    assert not (tmp_path / "area.txt").exists()
    code, out, err = run_cli("area", m, ref, "--out", tmp_path / "area.csv")
    assert code == 0, err
    assert (tmp_path / "area.csv").read_text().startswith("class,sample_n")


def test_preview_of_a_non_map_is_refused(tmp_path: Path, run_cli) -> None:
    p = tmp_path / "x.tif"
    write_geotiff(
        p, np.zeros((3, 8, 8), np.float32), crs="EPSG:32652", transform=from_origin(0, 0, 10, 10)
    )
    code, _, err = run_cli("preview", p)
    assert code == 2 and "not a cropmap map" in err
    assert not (tmp_path / "x.png").exists()
