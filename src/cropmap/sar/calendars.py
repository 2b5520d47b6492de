"""Phenology calendars: the periods a Sentinel-1 time series is composited into.

A calendar is data (YAML): an ordered list of periods, each with a ``name``, a
``start`` and ``end`` day as ``MM-DD`` (both inclusive; a period or the whole season
may cross the new year), a ``reducer`` (``min``, ``mean``, ``max``, ``median``) and a
phenological ``stage``. Built-in presets live in ``cropmap/sar/presets/*.yaml``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cropmap.errors import CalendarError
from cropmap.io.presets import YamlPresets

#: Reducers a period may use (the composite registry implements exactly these).
REDUCER_NAMES: tuple[str, ...] = ("min", "mean", "max", "median")


def _parse_md(text: str) -> tuple[int, int]:
    try:
        month, day = (int(p) for p in str(text).strip().split("-"))
        dt.date(2001, month, day)  # a non-leap year: 02-29 is refused on purpose
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{text!r} is not a month-day 'MM-DD' (02-29 is not allowed)") from exc
    return month, day


class Period(BaseModel):
    """One compositing period: ``start``..``end`` inclusive, as ``MM-DD``."""

    model_config = ConfigDict(extra="forbid")

    name: str
    start: str
    end: str
    reducer: str = "mean"
    stage: str = ""

    @field_validator("start", "end")
    @classmethod
    def _md(cls, v: str) -> str:
        m, d = _parse_md(v)
        return f"{m:02d}-{d:02d}"

    @field_validator("reducer")
    @classmethod
    def _reducer(cls, v: str) -> str:
        v = v.strip().lower()
        if v not in REDUCER_NAMES:
            raise ValueError(f"unknown reducer {v!r}; use one of: {', '.join(REDUCER_NAMES)}")
        return v

    def dates(self, year: int) -> tuple[dt.date, dt.date]:
        """First and last day of this period when it starts in ``year``."""
        sm, sd = _parse_md(self.start)
        em, ed = _parse_md(self.end)
        start = dt.date(year, sm, sd)
        end = dt.date(year, em, ed)
        if end < start:  # crosses the new year
            end = dt.date(year + 1, em, ed)
        return start, end


class Calendar(BaseModel):
    """An ordered list of periods (validated: contiguous in time order, no overlap)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    crop: str = ""
    sources: list[str] = Field(default_factory=list)
    periods: list[Period]

    @field_validator("periods")
    @classmethod
    def _periods(cls, v: list[Period]) -> list[Period]:
        if not v:
            raise ValueError("a calendar needs at least one period")
        names = [p.name for p in v]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate period names: {', '.join(dupes)}")
        ranges = _season_ranges(v, 2001)
        for (a, (_, a_end)), (b, (b_start, _)) in zip(
            zip(v, ranges, strict=True), zip(v[1:], ranges[1:], strict=True), strict=False
        ):
            if b_start <= a_end:
                raise ValueError(f"period {b.name!r} starts before period {a.name!r} ends")
        if (ranges[-1][1] - ranges[0][0]).days >= 365:
            gaps = [(b[0] - a[1]).days for a, b in zip(ranges, ranges[1:], strict=False)]
            where = ""
            if gaps:
                i = int(np.argmax(gaps))
                where = f" ({v[i + 1].name!r} is listed after {v[i].name!r})"
            raise ValueError(
                "periods are not in chronological order or the season spans a year or more"
                f"{where}; list periods in time order (a season may cross the new year)"
            )
        return v

    @property
    def period_names(self) -> list[str]:
        """Period names, in order."""
        return [p.name for p in self.periods]

    @property
    def stages(self) -> list[list[int]]:
        """Period indices grouped by stage, stages in order of first appearance."""
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(self.periods):
            groups.setdefault(p.stage or p.name, []).append(i)
        return list(groups.values())

    def ranges(self, season_year: int) -> list[tuple[dt.date, dt.date]]:
        """Absolute ``(first, last)`` day of every period of the season starting in ``season_year``.

        Periods after the new year fall in ``season_year + 1``.
        """
        return _season_ranges(self.periods, season_year)

    def period_of(self, day: dt.date, season_year: int) -> int | None:
        """Index of the period containing ``day`` in that season, or None."""
        for i, (a, b) in enumerate(self.ranges(season_year)):
            if a <= day <= b:
                return i
        return None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (stored in composite tags and patch manifests)."""
        return self.model_dump()


def _season_ranges(periods: list[Period], year: int) -> list[tuple[dt.date, dt.date]]:
    out: list[tuple[dt.date, dt.date]] = []
    y = year
    for i, p in enumerate(periods):
        start, _ = p.dates(y)
        if i and start <= out[-1][0]:
            y += 1  # the season crossed the new year between periods
        out.append(p.dates(y))
    return out


#: The built-in calendar presets (``sar/presets/*.yaml``) and how a calendar is named.
CALENDAR_PRESETS = YamlPresets(
    "calendar",
    Path(__file__).with_name("presets"),
    CalendarError,
    shape="with 'name' and 'periods'",
)


def preset_names() -> list[str]:
    """Names of the built-in calendar presets."""
    return CALENDAR_PRESETS.names()


def load_calendar(name_or_path: str | os.PathLike[str] | Calendar | Mapping[str, Any]) -> Calendar:
    """Load a calendar from a preset name, a YAML file, a dict or a Calendar.

    Args:
        name_or_path: preset name (``korea-rice``, ``spain-rice``, ``france-rice``,
            ``netherlands-barley``), path to a YAML file (an existing file wins over a
            preset of the same name), or an already parsed mapping.

    Raises:
        CalendarError: neither a file nor a preset (the message lists the presets), not
            YAML, or an invalid calendar (unknown reducer, bad ``MM-DD``, overlapping periods).
    """
    if isinstance(name_or_path, Calendar):
        return name_or_path
    data, source = CALENDAR_PRESETS.load(name_or_path)
    try:
        return Calendar.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise CalendarError(f"{source}: invalid calendar: {problems}") from exc
