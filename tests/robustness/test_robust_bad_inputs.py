"""The catalogue of bad inputs (docs/errors.md): each gives one clear line, exit 2, nothing lost.

Every case damages a private copy of a tiny simulated scene, runs the real ``cropmap``
entry point, and checks: exit status 2, a one-line message naming the thing at fault, no
traceback, and an output that existed before is left byte-for-byte intact.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine

from cropmap.io.raster import write_geotiff

EARLIER = b"an earlier result that must survive"


def _first(scene: Path, n: int = 0) -> Path:
    """The n-th acquisition inside the Korean rice season (10 May - 20 Oct)."""
    files = sorted((scene / "s1").glob("*.tif"))
    return [f for f in files if "2022-05-10" <= f.stem <= "2022-10-20"][n]


def _rewrite(path: Path, *, crs=None, transform=None, data=None, descriptions=None) -> None:
    with rasterio.open(path) as ds:
        arr = ds.read() if data is None else data
        crs = crs or ds.crs
        transform = transform or ds.transform
        descs = descriptions or list(ds.descriptions)
    path.unlink()
    write_geotiff(path, arr, crs=crs, transform=transform, nodata=float("nan"), descriptions=descs)


# -- rasters -------------------------------------------------------------------------------


def missing_folder(s: Path):
    return ["composite", s / "nope", "-o", "OUT", "-c", "korea-rice"], r"nope"


def truncated_tiff(s: Path):
    f = _first(s, 3)
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 3])
    return ["composite", s / "s1", "-o", "OUT", "-c", "korea-rice"], rf"read.*{f.name}"


def not_a_raster(s: Path):
    f = _first(s, 2)
    f.write_text("date,value\n2022-05-01,3\n")
    return ["composite", s / "s1", "-o", "OUT", "-c", "korea-rice"], rf"read.*{f.name}"


def wrong_band_count(s: Path):
    f = _first(s, 1)
    with rasterio.open(f) as ds:
        arr = ds.read(1)[None]
    _rewrite(f, data=arr, descriptions=["VV"])
    return ["composite", s / "s1", "-o", "OUT", "-c", "korea-rice"], rf"{f.name}.*VH|VH.*{f.name}"


def unknown_band_names(s: Path):
    f = _first(s, 1)
    _rewrite(f, descriptions=["HH", "HV"])
    return ["composite", s / "s1", "-o", "OUT", "-c", "korea-rice"], rf"{f.name}.*HH"


def unparseable_date(s: Path):
    f = _first(s, 4)
    _rewrite(f)  # drops the date tags the simulator writes
    f.rename(f.with_name("scene_without_date.tif"))
    return ["composite", s / "s1", "-o", "OUT", "-c", "korea-rice"], "scene_without_date.tif"


def duplicate_dates(s: Path):
    f = _first(s, 4)
    twin = f.with_name(f"S1A_IW_{f.stem.replace('-', '')}_copy.tif")
    twin.write_bytes(f.read_bytes())
    return ["composite", s / "s1", "-o", "OUT", "-c", "korea-rice"], rf"(?i)duplicate.*{f.stem}"


def linear_declared_db(s: Path):
    return ["composite", s / "s1", "-o", "OUT", "-c", "korea-rice", "--units", "db"], r"(?i)linear"


def db_declared_linear(s: Path):
    for f in sorted((s / "s1").glob("*.tif")):
        with rasterio.open(f) as ds:
            arr = (10 * np.log10(ds.read())).astype("float32")
        _rewrite(f, data=arr)
    return ["composite", s / "s1", "-o", "OUT", "-c", "korea-rice", "--units", "linear"], r"(?i)db"


def mixed_crs(s: Path):
    f = _first(s, 5)
    _rewrite(f, crs="EPSG:32651")
    return ["composite", s / "s1", "-o", "OUT", "-c", "korea-rice"], rf"{f.name}.*(?i:crs|align)"


def mixed_resolution(s: Path):
    f = _first(s, 5)
    with rasterio.open(f) as ds:
        arr = ds.read()[:, ::2, ::2].copy()
        t = ds.transform
    _rewrite(f, data=arr, transform=Affine(t.a * 2, 0, t.c, 0, t.e * 2, t.f))
    return ["composite", s / "s1", "-o", "OUT", "-c", "korea-rice"], rf"{f.name}"


def mixed_extent(s: Path):
    f = _first(s, 6)
    with rasterio.open(f) as ds:
        t = ds.transform
    _rewrite(f, transform=Affine(t.a, 0, t.c + 100, 0, t.e, t.f))
    return ["composite", s / "s1", "-o", "OUT", "-c", "korea-rice"], rf"{f.name}"


# -- calendars -----------------------------------------------------------------------------


def _calendar(s: Path, periods: list[dict]) -> Path:
    import yaml

    path = s / "calendar.yaml"
    path.write_text(yaml.safe_dump({"name": "custom", "crop": "rice", "periods": periods}))
    return path


def overlapping_periods(s: Path):
    cal = _calendar(
        s,
        [
            {"name": "a", "start": "05-01", "end": "05-31", "reducer": "min", "stage": "x"},
            {"name": "b", "start": "05-20", "end": "06-30", "reducer": "mean", "stage": "x"},
        ],
    )
    return ["composite", s / "s1", "-o", "OUT", "-c", cal], r"(?i)overlap|starts before"


def unsorted_periods(s: Path):
    cal = _calendar(
        s,
        [
            {"name": "may", "start": "05-01", "end": "05-31", "reducer": "min", "stage": "x"},
            {"name": "jul", "start": "07-01", "end": "07-31", "reducer": "mean", "stage": "x"},
            {"name": "jun", "start": "06-01", "end": "06-30", "reducer": "mean", "stage": "x"},
        ],
    )
    return ["composite", s / "s1", "-o", "OUT", "-c", cal], r"(?i)chronological order.*jun.*jul"


def unknown_reducer(s: Path):
    cal = _calendar(
        s, [{"name": "a", "start": "05-01", "end": "05-31", "reducer": "mode", "stage": "x"}]
    )
    return ["composite", s / "s1", "-o", "OUT", "-c", cal], r"mode.*median|median.*mode"


def unknown_preset(s: Path):
    return ["composite", s / "s1", "-o", "OUT", "-c", "korea-wheat"], r"korea-wheat.*korea-rice"


# -- vectors -------------------------------------------------------------------------------


def _vector(s: Path, gdf) -> Path:
    path = s / "bad.gpkg"
    gdf.to_file(path, driver="GPKG")
    return path


def empty_vector(s: Path):
    import geopandas as gpd

    gdf = gpd.read_file(s / "parcels.gpkg").iloc[:0]
    return [
        "rasterize",
        _vector(s, gdf),
        s / "composite.tif",
        "--out",
        "OUT",
    ], r"bad.gpkg.*(?i:empty|no (parcel|feature))"


def vector_without_crs(s: Path):
    import geopandas as gpd

    gdf = gpd.read_file(s / "parcels.gpkg").set_crs(None, allow_override=True)
    return ["rasterize", _vector(s, gdf), s / "composite.tif", "-o", "OUT"], r"(?i)crs"


def missing_class_column(s: Path):
    import geopandas as gpd

    gdf = gpd.read_file(s / "parcels.gpkg").rename(columns={"crop": "cultivar"})
    path = _vector(s, gdf)
    return ["rasterize", path, s / "composite.tif", "-o", "OUT"], r"crop.*cultivar"


def vector_outside_raster(s: Path):
    import geopandas as gpd

    gdf = gpd.read_file(s / "parcels.gpkg")
    gdf["geometry"] = gdf.translate(50_000, 0)
    return ["rasterize", _vector(s, gdf), s / "composite.tif", "-o", "OUT"], r"(?i)overlap|outside"


# -- writes --------------------------------------------------------------------------------


def output_folder_is_a_file(s: Path):
    blocker = s / "blocker"
    blocker.write_text("a file where a folder should be")
    out = blocker / "composite.tif"
    return ["composite", s / "s1", "-o", out, "-c", "korea-rice", "--units", "linear"], r"blocker"


CASES: list = [
    missing_folder,
    truncated_tiff,
    not_a_raster,
    wrong_band_count,
    unknown_band_names,
    unparseable_date,
    duplicate_dates,
    linear_declared_db,
    db_declared_linear,
    mixed_crs,
    mixed_resolution,
    mixed_extent,
    overlapping_periods,
    unsorted_periods,
    unknown_reducer,
    unknown_preset,
    empty_vector,
    vector_without_crs,
    missing_class_column,
    vector_outside_raster,
    output_folder_is_a_file,
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: getattr(c, "__name__", "case"))
def test_bad_input_gives_one_clear_line_and_loses_nothing(case, scene_copy, run_cli) -> None:
    import re

    args, pattern = case(scene_copy)
    out = scene_copy / "result.tif"
    if "OUT" in args:
        out.write_bytes(EARLIER)
        args = [out if a == "OUT" else a for a in args]
    code, _, err = run_cli(*args)
    lines = [ln for ln in err.strip().splitlines() if ln.startswith("error:")]
    assert code == 2, f"exit {code}, stderr: {err}"
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert re.search(pattern, lines[0]), lines[0]
    if out.exists():
        assert out.read_bytes() == EARLIER
    leftovers = [p.name for p in scene_copy.iterdir() if p.name.startswith(".result.tif")]
    assert leftovers == []


def test_debug_flag_shows_the_traceback(scene_copy, run_cli) -> None:
    with pytest.raises(Exception, match="nope"):
        run_cli(
            "--debug",
            "composite",
            scene_copy / "nope",
            "-o",
            scene_copy / "o.tif",
            "-c",
            "korea-rice",
        )


def test_period_without_acquisition_warns_and_writes_nodata(scene_copy, run_cli) -> None:
    """Removing every date of period 3 is not a crash: that period becomes nodata."""
    import datetime as dt

    for f in (scene_copy / "s1").glob("*.tif"):
        day = dt.date.fromisoformat(f.stem)
        if dt.date(2022, 6, 21) <= day <= dt.date(2022, 7, 10):
            f.unlink()
    out = scene_copy / "c.tif"
    code, _, err = run_cli(
        "composite", scene_copy / "s1", "-o", out, "-c", "korea-rice", "--units", "linear"
    )
    assert code == 0, err
    assert re.search(r"(?i)warning.*(P3|period 3|tillering|no acquisition)", err), err
    with rasterio.open(out) as ds:
        idx = ds.descriptions.index("P3_VH") + 1
        assert np.isnan(ds.read(idx)).all()
        assert np.isfinite(ds.read(idx + 2)).any()


def test_invalid_geometries_are_repaired_and_counted(scene_copy, run_cli) -> None:
    import geopandas as gpd
    from shapely.geometry import Polygon

    gdf = gpd.read_file(scene_copy / "parcels.gpkg")
    minx, miny, maxx, maxy = gdf.total_bounds
    bowtie = Polygon([(minx, miny), (minx + 50, miny + 50), (minx + 50, miny), (minx, miny + 50)])
    assert not bowtie.is_valid
    gdf.loc[0, "geometry"] = bowtie
    gdf.to_file(scene_copy / "bowtie.gpkg", driver="GPKG")
    out = scene_copy / "labels2.tif"
    code, stdout, err = run_cli(
        "rasterize", scene_copy / "bowtie.gpkg", scene_copy / "composite.tif", "--out", out
    )
    assert code == 0, err
    assert re.search(r"(?i)repaired\D*1\b|1 (invalid )?(geometr|parcel)\w* repaired", stdout + err)
    assert out.exists()


def test_cases_are_all_distinct() -> None:
    names = [getattr(c, "__name__", None) or c.values[0].__name__ for c in CASES]
    assert len(set(names)) == len(names) >= 20


def test_duplicate_dates_can_be_allowed_explicitly(scene_copy, run_cli) -> None:
    """Two orbits on one day are legitimate when the user says so."""
    duplicate_dates(scene_copy)
    out = scene_copy / "dup.tif"
    args = ["composite", scene_copy / "s1", "-o", out, "-c", "korea-rice", "--units", "linear"]
    code, _, err = run_cli(*args, "--allow-duplicate-dates")
    assert code == 0, err
    assert out.exists()
