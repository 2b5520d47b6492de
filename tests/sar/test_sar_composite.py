"""Compositing: known reducers, nodata never averaged, layout and count file."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pytest
import rasterio

from cropmap.errors import ConfigError, EmptyInputError, EmptyPeriodWarning
from cropmap.sar import (
    composite_folder,
    composite_layout,
    count_path,
    load_calendar,
    read_composite,
)


@pytest.fixture
def composite(tiny_calendar):
    """Composite a folder with the shared tiny calendar (dB inputs unless told)."""

    def run(folder, out, **kw):
        kw.setdefault("units", "db")
        return composite_folder(folder, load_calendar(tiny_calendar), out, **kw)

    return run


def test_min_max_median_of_known_values(s1_db, tmp_path, composite):
    folder, values = s1_db
    out = composite(folder, tmp_path / "c.tif", block_rows=4)
    x = read_composite(out)
    assert x.shape == (4, 2, 6, 5) and x.dtype == np.float32
    may = np.stack([v for d, v in values.items() if d.month == 5])
    jul = np.stack([v for d, v in values.items() if d.month == 7])
    aug = np.stack([v for d, v in values.items() if d.month == 8])
    np.testing.assert_allclose(x[0], may.min(axis=0), rtol=0, atol=1e-5)
    np.testing.assert_allclose(x[2], jul.max(axis=0), rtol=0, atol=1e-5)
    np.testing.assert_allclose(x[3], np.median(aug, axis=0), rtol=0, atol=1e-5)


def test_mean_in_linear_and_db(s1_db, tmp_path, composite):
    folder, values = s1_db
    jun = np.stack([v for d, v in values.items() if d.month == 6])
    lin = read_composite(composite(folder, tmp_path / "a.tif"))[1]
    expect_lin = 10 * np.log10(np.mean(10 ** (jun / 10), axis=0))
    np.testing.assert_allclose(lin, expect_lin, atol=1e-4)
    db = read_composite(composite(folder, tmp_path / "b.tif", average="db"))[1]
    np.testing.assert_allclose(db, jun.mean(axis=0), atol=1e-4)


@pytest.mark.parametrize("nodata_value", [np.nan, 0.0, -32768.0, -9999.0])
def test_nodata_never_enters_a_mean(tmp_path, s1_writer, nodata_value, composite):
    folder = tmp_path / "s1"
    folder.mkdir()
    good = np.full((4, 4), -10.0, np.float32)
    bad = good.copy()
    bad[1, 2] = nodata_value
    declared = -9999.0 if nodata_value == -9999.0 else None
    s1_writer(folder, dt.date(2021, 6, 3), good, good - 5, nodata=declared)
    s1_writer(
        folder, dt.date(2021, 6, 15), bad, bad - 5 if nodata_value != 0 else bad, nodata=declared
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyPeriodWarning)
        out = composite(folder, tmp_path / "c.tif", average="db")
    x = read_composite(out)
    assert x[1, 0, 1, 2] == pytest.approx(-10.0, abs=1e-5)  # only the valid date
    with rasterio.open(count_path(out)) as ds:
        count = ds.read(2)
    assert count[1, 2] == 1 and count[0, 0] == 2


def test_empty_period_is_nodata_with_warning(s1_db, tmp_path, composite):
    folder, _ = s1_db
    for p in folder.glob("2021-07-*.tif"):
        p.unlink()
    with pytest.warns(EmptyPeriodWarning, match="period C"):
        out = composite(folder, tmp_path / "c.tif")
    x = read_composite(out)
    assert np.isnan(x[2]).all() and np.isfinite(x[1]).all()
    with rasterio.open(count_path(out)) as ds:
        assert ds.read(3).max() == 0 and ds.dtypes[0] == "uint16"
    with rasterio.open(out) as ds:
        assert ds.tags()["EMPTY_PERIODS"] == "1"
        assert ds.tags()["EMPTY_PERIOD_NAMES"] == "C"


def test_full_input_records_no_empty_period(s1_db, tmp_path, composite):
    folder, _ = s1_db
    with rasterio.open(composite(folder, tmp_path / "c.tif")) as ds:
        assert ds.tags()["EMPTY_PERIODS"] == "0"
        assert ds.tags().get("EMPTY_PERIOD_NAMES", "") == ""  # GDAL drops empty tags


def test_wrong_year_fails_without_touching_the_earlier_composite(s1_db, tmp_path, composite):
    folder, _ = s1_db
    out = composite(folder, tmp_path / "c.tif")
    before = (out.read_bytes(), count_path(out).read_bytes())
    with pytest.raises(EmptyInputError, match=r"season year 2020 .*pass --year 2021"):
        composite(folder, out, year=2020)
    assert (out.read_bytes(), count_path(out).read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.count.tif", "c.tif", "s1"]


def test_unreachable_scheduler_is_one_clear_line(s1_db, tmp_path, composite, short_connect_timeout):
    folder, _ = s1_db
    with pytest.raises(ConfigError, match="cannot reach Dask scheduler") as err:
        composite(folder, tmp_path / "c.tif", scheduler="tcp://127.0.0.1:9")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "c.tif").exists()


def test_layout_and_band_order(s1_db, tmp_path, composite):
    folder, values = s1_db
    out = composite(folder, tmp_path / "c.tif", bands=("VH", "VV"))
    periods, bands = composite_layout(out)
    assert periods == ["A", "B", "C", "D"] and bands == ["VH", "VV"]
    with rasterio.open(out) as ds:
        assert ds.descriptions[:3] == ("A_VH", "A_VV", "B_VH")
        assert ds.tags()["UNITS"] == "dB"
        assert np.isnan(ds.nodata)
    only_vv = read_composite(out, bands=["VV"], window=((1, 3), (0, 2)))
    full = read_composite(out)
    np.testing.assert_array_equal(only_vv[:, 0], full[:, 1, 1:3, 0:2])


def test_linear_input_is_converted_to_db(s1_db, s1_writer, tmp_path, composite):
    folder, values = s1_db
    lin_folder = tmp_path / "lin"
    lin_folder.mkdir()
    for d, v in values.items():
        s1_writer(lin_folder, d, 10 ** (v[0] / 10), 10 ** (v[1] / 10))
    a = read_composite(composite(folder, tmp_path / "a.tif"))
    b = read_composite(composite(lin_folder, tmp_path / "b.tif", units="linear"))
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_composite_written_into_the_input_folder_is_not_an_acquisition(s1_db, composite):
    folder, _ = s1_db
    first = read_composite(composite(folder, folder / "composite_2021-09-01.tif"))
    again = read_composite(composite(folder, folder / "composite_2021-09-01.tif"))
    np.testing.assert_array_equal(first, again)


def test_threads_give_the_single_thread_output(s1_db, tmp_path, composite):
    folder, _ = s1_db
    one = composite(folder, tmp_path / "a.tif", block_rows=1, threads=1)
    three = composite(folder, tmp_path / "b.tif", block_rows=1, threads=3)
    np.testing.assert_array_equal(read_composite(one), read_composite(three))
    with rasterio.open(count_path(one)) as a, rasterio.open(count_path(three)) as b:
        np.testing.assert_array_equal(a.read(), b.read())
    with pytest.raises(ConfigError, match="threads"):
        composite(folder, tmp_path / "c.tif", threads=0)
    assert not (tmp_path / "c.tif").exists()


def test_windows_shrink_with_the_windows_held_at_once(s1_db, tiny_calendar):
    from cropmap.sar import open_stack, plan_composite
    from cropmap.sar.block import BLOCK_BUDGET_BYTES, block_rows_for

    folder, _ = s1_db
    plan = plan_composite(open_stack(folder, units="db"), load_calendar(tiny_calendar))
    per_row = BLOCK_BUDGET_BYTES // block_rows_for(plan, 10**9)
    assert block_rows_for(plan, 10**9, in_flight=4) == BLOCK_BUDGET_BYTES // (4 * per_row)
    assert block_rows_for(plan, 7, in_flight=4) == 7


def test_shrunk_windows_keep_whole_tile_rows(tmp_path, tiny_calendar):
    from cropmap.sar import open_stack, plan_composite
    from cropmap.sar.block import block_rows_for
    from cropmap.sar.synthetic import series_dates, write_s1_series

    write_s1_series(tmp_path / "s1", series_dates(dt.date(2021, 5, 3), 4, 30), height=600, width=8)
    plan = plan_composite(open_stack(tmp_path / "s1", units="linear"), load_calendar(tiny_calendar))
    assert block_rows_for(plan, 512, in_flight=1, align=256) == 512  # within budget
    assert block_rows_for(plan, 512, in_flight=10**7) < 256  # shrunk past a tile row
    assert block_rows_for(plan, 512, in_flight=10**7, align=256) == 256
