"""Property-based tests: reducers against plain numpy with random nodata; calendar parsing."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cropmap.errors import CalendarError
from cropmap.sar.calendars import load_calendar
from cropmap.sar.reducers import reduce_stack

# dB values in Sentinel-1's range, with NaN as nodata
db_values = st.one_of(st.floats(-35.0, 5.0, width=32), st.just(float("nan")))


def _reference(stack: np.ndarray, name: str, average: str) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if name == "min":
            return np.nanmin(stack, axis=0)
        if name == "max":
            return np.nanmax(stack, axis=0)
        if name == "median":
            return np.nanmedian(stack, axis=0)
        if average == "db":
            return np.nanmean(stack, axis=0)
        return 10 * np.log10(np.nanmean(10 ** (stack.astype(np.float64) / 10), axis=0))


@settings(max_examples=60, deadline=None)
@given(
    stack=arrays(
        np.float32,
        st.tuples(st.integers(1, 6), st.just(2), st.integers(1, 4), st.integers(1, 4)),
        elements=db_values,
    ),
    name=st.sampled_from(["min", "max", "mean", "median"]),
    average=st.sampled_from(["linear", "db"]),
)
def test_reducers_match_numpy_and_never_average_nodata(stack, name, average) -> None:
    got = reduce_stack(stack, name, average)
    want = _reference(stack, name, average)
    assert got.shape == stack.shape[1:]
    # nodata exactly where no valid observation arrived
    np.testing.assert_array_equal(np.isnan(got), np.isnan(stack).all(axis=0))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-3, equal_nan=True)


@st.composite
def calendars(draw):
    """Valid calendars: 1-10 consecutive periods, possibly crossing the new year."""
    n = draw(st.integers(1, 10))
    start = dt.date(2001, 1, 1) + dt.timedelta(days=draw(st.integers(0, 364)))
    periods, day = [], start
    for i in range(n):
        length = draw(st.integers(1, 35))
        gap = draw(st.integers(0, 5))
        end = day + dt.timedelta(days=length - 1)
        periods.append(
            {
                "name": f"P{i + 1}",
                "start": day.strftime("%m-%d"),
                "end": end.strftime("%m-%d"),
                "reducer": draw(st.sampled_from(["min", "mean", "max", "median"])),
                "stage": f"s{i // 2}",
            }
        )
        day = end + dt.timedelta(days=1 + gap)
    assume((day - start).days < 365)
    assume(all(p["start"] != "02-29" and p["end"] != "02-29" for p in periods))
    return {"name": "generated", "periods": periods}


@settings(max_examples=80, deadline=None)
@given(spec=calendars(), year=st.integers(2015, 2030))
def test_valid_calendars_parse_and_every_day_maps_to_one_period(spec, year) -> None:
    cal = load_calendar(spec)
    ranges = cal.ranges(year)
    assert len(ranges) == len(spec["periods"])
    for i, (a, b) in enumerate(ranges):
        assert a <= b
        assert cal.period_of(a, year) == i and cal.period_of(b, year) == i
        if i:
            assert a > ranges[i - 1][1]  # strictly after the previous period
    assert sum(len(g) for g in cal.stages) == len(spec["periods"])


@settings(max_examples=40, deadline=None)
@given(spec=calendars())
def test_overlapping_or_unsorted_calendars_are_refused(spec) -> None:
    assume(len(spec["periods"]) >= 2)
    periods = spec["periods"]
    swapped = {**spec, "periods": [periods[1], periods[0], *periods[2:]]}
    overlapping = {**spec, "periods": [dict(periods[0], end=periods[1]["start"]), *periods[1:]]}
    # a swap is only refused when it cannot be read as a season crossing the new year
    for bad in (overlapping,):
        with pytest.raises((CalendarError, ValueError)):
            load_calendar(bad)
    try:
        cal = load_calendar(swapped)
    except (CalendarError, ValueError):
        return
    for year in (2019, 2020):  # a plain and a leap year
        first, last = cal.ranges(year)[0][0], cal.ranges(year)[-1][1]
        assert last < first.replace(year=first.year + 1)  # the season never meets itself


@given(text=st.text(max_size=8))
def test_garbage_month_days_are_refused(text) -> None:
    try:
        m, d = (int(x) for x in text.split("-"))
        dt.date(2001, m, d)
        assume(False)  # a valid MM-DD: not this test's business
    except (ValueError, TypeError):
        pass
    spec = {"name": "x", "periods": [{"name": "a", "start": text, "end": "12-31"}]}
    with pytest.raises((CalendarError, ValueError)):
        load_calendar(spec)
