"""Calendars: presets, validation, seasons across the new year."""

from __future__ import annotations

import datetime as dt

import pytest

from cropmap.errors import CalendarError
from cropmap.sar import load_calendar, preset_names
from cropmap.sar.composite import infer_season_year


def test_korea_preset_matches_the_method_table():
    cal = load_calendar("korea-rice")
    got = [(p.start, p.end, p.reducer, p.stage) for p in cal.periods]
    assert got == [
        ("05-10", "05-30", "min", "planting"),
        ("06-01", "06-20", "min", "planting"),
        ("06-21", "07-10", "mean", "tillering"),
        ("07-11", "07-30", "mean", "tillering"),
        ("08-01", "08-20", "max", "booting"),
        ("08-21", "09-10", "max", "booting"),
        ("09-11", "09-30", "mean", "ripening"),
        ("10-01", "10-20", "mean", "ripening"),
    ]
    assert cal.stages == [[0, 1], [2, 3], [4, 5], [6, 7]]


def test_all_presets_load_with_8_periods():
    names = preset_names()
    assert {"korea-rice", "spain-rice", "france-rice", "netherlands-barley"} <= set(names)
    for n in names:
        assert len(load_calendar(n).periods) == 8


def test_season_crossing_new_year(tmp_path):
    text = """
name: winter
periods:
  - {name: W1, start: "11-01", end: "12-15", reducer: mean, stage: a}
  - {name: W2, start: "12-16", end: "01-20", reducer: min, stage: a}
  - {name: W3, start: "01-21", end: "02-28", reducer: max, stage: b}
"""
    path = tmp_path / "w.yaml"
    path.write_text(text)
    cal = load_calendar(path)
    assert cal.ranges(2020)[1] == (dt.date(2020, 12, 16), dt.date(2021, 1, 20))
    assert cal.period_of(dt.date(2021, 1, 5), 2020) == 1
    assert cal.period_of(dt.date(2021, 2, 10), 2020) == 2
    assert infer_season_year(cal, [dt.date(2021, 1, 5), dt.date(2021, 2, 1)]) == 2020


@pytest.mark.parametrize(
    ("periods", "match"),
    [
        ([{"name": "a", "start": "05-01", "end": "05-20", "reducer": "mode"}], "unknown reducer"),
        ([{"name": "a", "start": "13-01", "end": "05-20"}], "MM-DD"),
        (
            [
                {"name": "a", "start": "05-01", "end": "05-20"},
                {"name": "b", "start": "05-10", "end": "05-30"},
            ],
            "starts before",
        ),
        (
            [
                {"name": "a", "start": "05-01", "end": "05-20"},
                {"name": "a", "start": "06-01", "end": "06-20"},
            ],
            "duplicate",
        ),
    ],
)
def test_invalid_calendars(periods, match):
    with pytest.raises(CalendarError, match=match):
        load_calendar({"name": "bad", "periods": periods})


def test_unknown_preset_lists_presets():
    with pytest.raises(CalendarError, match="korea-rice"):
        load_calendar("korea-wheat")
