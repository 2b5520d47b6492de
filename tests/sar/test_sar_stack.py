"""Reading time series: dates, bands, units, stacks, grid checks and alignment."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pytest
from affine import Affine

from cropmap.errors import (
    DateParseError,
    GridMismatchError,
    RasterReadError,
    UnitsError,
    UnitsGuessWarning,
)
from cropmap.io.raster import write_geotiff
from cropmap.sar import composite_folder, load_calendar, open_stack, read_composite
from cropmap.sar.dates import date_from_name, date_from_tags
from cropmap.sar.db import guess_units


def test_dates_from_names_and_tags():
    assert date_from_name("2021-06-03") == dt.date(2021, 6, 3)
    name = "S1A_IW_GRDH_1SDV_20210603T092512_20210603T092537_038183_0481A5"
    assert date_from_name(name) == dt.date(2021, 6, 3)
    assert date_from_name("scene_2021_13_40") is None
    assert date_from_tags({"TIFFTAG_DATETIME": "2021:07:09 09:25:12"}) == dt.date(2021, 7, 9)
    assert date_from_tags({"acquisition_date": "2021-08-01"}) == dt.date(2021, 8, 1)


def test_date_from_tiff_tag_and_missing_date(tmp_path, s1_writer):
    folder = tmp_path / "s1"
    folder.mkdir()
    v = np.full((3, 3), 0.05, np.float32)
    s1_writer(
        folder, None, v, v, name="scene_a.tif", tags={"TIFFTAG_DATETIME": "2021:06:10 10:00:00"}
    )
    stack = open_stack(folder, units="linear")
    assert stack.dates == [dt.date(2021, 6, 10)]
    s1_writer(folder, None, v, v, name="scene_b.tif")
    with pytest.raises(DateParseError, match="scene_b.tif"):
        open_stack(folder, units="linear")


def test_unit_detection(tmp_path, s1_writer):
    rng = np.random.default_rng(0)
    lin = rng.uniform(0.001, 0.3, 1000)
    assert guess_units(lin) == "linear"
    assert guess_units(10 * np.log10(lin)) == "db"
    with pytest.raises(UnitsError):
        guess_units(np.full(100, 300.0))
    folder = tmp_path / "s1"
    folder.mkdir()
    v = rng.uniform(0.001, 0.3, (4, 4)).astype(np.float32)
    s1_writer(folder, dt.date(2021, 6, 1), v, v)
    with pytest.warns(UnitsGuessWarning, match="guessed linear"):
        assert open_stack(folder).units == "linear"
    with pytest.raises(UnitsError, match="declared dB"):
        open_stack(folder, units="db")
    with pytest.raises(UnitsError, match="unknown units"):
        open_stack(folder, units="decibel")


def test_bands_by_description_or_given_names(tmp_path, s1_writer):
    folder = tmp_path / "s1"
    folder.mkdir()
    vv = np.full((3, 3), -8.0, np.float32)
    vh = np.full((3, 3), -15.0, np.float32)
    s1_writer(folder, dt.date(2021, 6, 1), vh, vv, descriptions=("Sigma0_VH_db", "Sigma0_VV_db"))
    stack = open_stack(folder, units="db")
    assert [s.index for s in stack.acquisitions[0].sources] == [2, 1]
    folder2 = tmp_path / "s2"
    folder2.mkdir()
    s1_writer(folder2, dt.date(2021, 6, 1), vv, vh, descriptions=None)
    with pytest.raises(RasterReadError, match="band 'VV' not found .*--file-bands"):
        open_stack(folder2, units="db")
    stack = open_stack(folder2, units="db", file_bands=["vh", "vv"])
    assert [s.index for s in stack.acquisitions[0].sources] == [2, 1]


def test_single_polarisation_files_are_paired_by_date(tmp_path):
    folder = tmp_path / "s1"
    folder.mkdir()
    t = Affine(10, 0, 0, 0, -10, 100)
    for pol, val in (("VV", -8.0), ("VH", -15.0)):
        write_geotiff(
            folder / f"2021-06-01_{pol}.tif",
            np.full((1, 3, 3), val, np.float32),
            crs="EPSG:32631",
            transform=t,
            nodata=float("nan"),
        )
    stack = open_stack(folder, units="db")
    assert len(stack.acquisitions) == 1
    assert [s.path.name for s in stack.acquisitions[0].sources] == [
        "2021-06-01_VV.tif",
        "2021-06-01_VH.tif",
    ]


def test_grid_mismatch_names_the_file_and_align_fixes_it(tmp_path, s1_writer):
    folder = tmp_path / "s1"
    folder.mkdir()
    v = np.arange(64, dtype=np.float32).reshape(8, 8) * 0.01 + 0.01
    s1_writer(folder, dt.date(2021, 6, 1), v, v)
    shifted = Affine(10.0, 0.0, 500020.0, 0.0, -10.0, 4000000.0)  # 2 pixels east
    s1_writer(folder, dt.date(2021, 6, 13), v, v, transform=shifted)
    with pytest.raises(GridMismatchError, match=r"2021-06-13\.tif is not on the grid"):
        open_stack(folder, units="linear")
    cal = {
        "name": "one",
        "periods": [{"name": "J", "start": "06-01", "end": "06-30", "reducer": "max"}],
    }
    out = composite_folder(
        folder, load_calendar(cal), tmp_path / "c.tif", units="linear", align=True, average="db"
    )
    x = read_composite(out)
    db = 10 * np.log10(v)
    # columns 2.. of the shifted file land on columns 0..5 of the first one: max = shifted
    np.testing.assert_allclose(x[0, 0, :, 2:], np.maximum(db[:, 2:], db[:, :-2]), atol=1e-5)


def test_stack_with_dates_sidecar(tmp_path, s1_db):
    folder, values = s1_db
    days = sorted(values)
    arr = np.concatenate([values[d] for d in days])  # date-major: d1 VV, d1 VH, d2 VV...
    stack_path = tmp_path / "stack.tif"
    descs = [b for _ in days for b in ("VV", "VH")]
    write_geotiff(
        stack_path,
        arr,
        crs="EPSG:32652",
        transform=Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 4000000.0),
        nodata=float("nan"),
        descriptions=descs,
    )
    with pytest.raises(DateParseError, match=r"stack\.dates\.txt"):
        open_stack(stack_path, units="db")
    (tmp_path / "stack.dates.txt").write_text("\n".join(d.isoformat() for d in days) + "\n")
    cal = load_calendar("korea-rice")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = read_composite(composite_folder(stack_path, cal, tmp_path / "a.tif", units="db"))
        b = read_composite(composite_folder(folder, cal, tmp_path / "b.tif", units="db"))
    np.testing.assert_array_equal(a, b)
    (tmp_path / "stack.dates.txt").write_text("2021-06-01\n2021-06-02\n2021-06-03\n")
    with pytest.raises(DateParseError, match="not a multiple"):
        open_stack(stack_path, units="db")


def test_stack_dates_from_band_descriptions(tmp_path):
    arr = np.stack([np.full((3, 3), v, np.float32) for v in (-8, -15, -9, -16)])
    path = tmp_path / "stack.tif"
    write_geotiff(
        path,
        arr,
        crs="EPSG:32631",
        transform=Affine(10, 0, 0, 0, -10, 30),
        nodata=float("nan"),
        descriptions=["2021-06-01_VV", "2021-06-01_VH", "2021-06-13_VV", "2021-06-13_VH"],
    )
    stack = open_stack(path, units="db", bands=["VH"])
    assert stack.dates == [dt.date(2021, 6, 1), dt.date(2021, 6, 13)]
    assert [a.sources[0].index for a in stack.acquisitions] == [2, 4]
