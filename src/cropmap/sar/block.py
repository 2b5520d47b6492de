"""The unit of work of compositing: a plan, and one window composited over all periods.

Both drivers import this module and never each other: :mod:`cropmap.sar.composite`
(one process, writes the outputs) and :mod:`cropmap.sar.dask_driver` (Dask workers,
which open the inputs themselves through :func:`composite_block_task`).
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rasterio.windows import Window

from cropmap.errors import DateParseError, EmptyInputError, EmptyPeriodWarning
from cropmap.io.gdal import COMPOSITE_CACHE_MB, gdal_env
from cropmap.sar.calendars import Calendar
from cropmap.sar.reducers import Average, make_reducer
from cropmap.sar.stack import S1Stack, StackReader

log = logging.getLogger(__name__)

#: Memory the windows held at once may take, in bytes (windows get fewer rows beyond it).
BLOCK_BUDGET_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class CompositePlan:
    """Which acquisitions feed which period: everything a worker needs besides the files."""

    stack: S1Stack
    calendar: Calendar
    season_year: int
    members: tuple[tuple[int, ...], ...]  # per period, indices into stack.acquisitions
    average: Average = "linear"

    @property
    def n_periods(self) -> int:
        """T, the number of periods."""
        return len(self.members)

    @property
    def empty_periods(self) -> list[str]:
        """Names of the periods without any acquisition (their bands are all nodata)."""
        return [p.name for p, m in zip(self.calendar.periods, self.members, strict=True) if not m]

    def period_dates(self) -> dict[str, list[str]]:
        """Acquisition dates (ISO) of every period."""
        acqs = self.stack.acquisitions
        return {
            p.name: [acqs[i].date.isoformat() for i in idx]
            for p, idx in zip(self.calendar.periods, self.members, strict=True)
        }


def infer_season_year(calendar: Calendar, dates: Sequence[dt.date]) -> int:
    """The season start year that puts the most acquisitions inside the calendar's periods.

    Raises:
        DateParseError: no acquisition falls in any period of any candidate year.
    """
    best = _best_season_year(calendar, dates)
    if best is None:
        raise DateParseError(
            f"no acquisition ({min(dates)}..{max(dates)}) falls in any period of calendar "
            f"{calendar.name!r} ({calendar.periods[0].start}..{calendar.periods[-1].end}); "
            "check the calendar or the dates"
        )
    return best


def _best_season_year(calendar: Calendar, dates: Sequence[dt.date]) -> int | None:
    years = range(min(d.year for d in dates) - 1, max(d.year for d in dates) + 1)
    best, best_n = None, 0
    for y in years:
        n = sum(calendar.period_of(d, y) is not None for d in dates)
        if n > best_n:
            best, best_n = y, n
    return best


def plan_composite(
    stack: S1Stack, calendar: Calendar, year: int | None = None, average: Average = "linear"
) -> CompositePlan:
    """Assign acquisitions to periods; warn about periods without any acquisition.

    Args:
        stack: the discovered time series.
        calendar: the compositing calendar.
        year: season start year (default: the year that fits most acquisitions).
        average: domain of the ``mean`` reducer (``linear`` power or ``db``).

    Warns:
        EmptyPeriodWarning: a period has no acquisition (its composite is all nodata).

    Raises:
        EmptyInputError: no acquisition falls in any period (e.g. a wrong ``year``): the
            composite would be all nodata, so nothing is written.
        DateParseError: ``year`` is None and no season year fits any acquisition.
    """
    season = year if year is not None else infer_season_year(calendar, stack.dates)
    if year is None:
        log.info("calendar %s: season year %d chosen from the dates", calendar.name, season)
    members: list[list[int]] = [[] for _ in calendar.periods]
    for i, acq in enumerate(stack.acquisitions):
        k = calendar.period_of(acq.date, season)
        if k is not None:
            members[k].append(i)
    ranges = calendar.ranges(season)
    if not any(members):
        raise EmptyInputError(_all_empty_message(stack, calendar, season, ranges))
    for p, (a, b), idx in zip(calendar.periods, ranges, members, strict=True):
        if not idx:
            warnings.warn(
                f"period {p.name} ({a}..{b}) of calendar {calendar.name!r} has no acquisition; "
                "its composite bands are all nodata",
                EmptyPeriodWarning,
                stacklevel=3,
            )
    return CompositePlan(stack, calendar, season, tuple(tuple(m) for m in members), average)


def _all_empty_message(
    stack: S1Stack, calendar: Calendar, season: int, ranges: list[tuple[dt.date, dt.date]]
) -> str:
    dates = stack.dates
    source = getattr(stack, "source", None)  # a STAC stack names its catalogue
    where = source or stack.acquisitions[0].sources[0].path.parent
    fits = _best_season_year(calendar, dates)
    hint = (
        f"the dates fit season year {fits}: pass --year {fits} or leave --year out"
        if fits is not None
        else "check the calendar or the dates"
    )
    return (
        f"no acquisition of {where} ({min(dates)}..{max(dates)}) falls in any period of "
        f"calendar {calendar.name!r} for season year {season} ({ranges[0][0]}..{ranges[-1][1]}); "
        f"the composite would be all nodata, nothing written; {hint}"
    )


def composite_block(
    plan: CompositePlan, window: Window, reader: StackReader | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Composite one window over all periods.

    Args:
        plan: the plan (acquisitions per period, reducers).
        window: the window of the output grid, in pixels.
        reader: an open reader to reuse (default: one opened and closed here).

    Returns:
        ``(values, count)``: float32 ``(T*C, h, w)`` dB with NaN nodata (period-major)
        and uint16 ``(T, h, w)`` valid observations per period.
    """
    own = reader is None
    reader = reader or open_reader(plan.stack)
    try:
        C = len(plan.stack.bands)
        h, w = int(window.height), int(window.width)
        values = np.empty((plan.n_periods * C, h, w), dtype=np.float32)
        count = np.zeros((plan.n_periods, h, w), dtype=np.uint16)
        for t, (period, idx) in enumerate(zip(plan.calendar.periods, plan.members, strict=True)):
            red = make_reducer(period.reducer, (C, h, w), plan.average)
            for i in idx:
                v = reader.read(plan.stack.acquisitions[i], window, red.domain)
                red.add(v)
                count[t] += np.isfinite(v).all(axis=0)
            values[t * C : (t + 1) * C] = red.result()
        return values, count
    finally:
        if own:
            reader.close()


def open_reader(stack: Any) -> Any:
    """A reader of ``stack``'s acquisitions: the stack's own ``reader()`` if it has one
    (a STAC stack), else a :class:`~cropmap.sar.stack.StackReader` over its files."""
    make = getattr(stack, "reader", None)
    return make() if callable(make) else StackReader(stack)


def composite_block_task(plan: CompositePlan, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Worker entry point: open the inputs and composite one window (GDAL cache bounded)."""
    with gdal_env(COMPOSITE_CACHE_MB, direct_io=True):
        return composite_block(plan, window)


def row_windows(height: int, width: int, rows: int) -> list[Window]:
    """Full-width windows of ``rows`` rows covering the grid."""
    return [Window(0, r, width, min(rows, height - r)) for r in range(0, height, rows)]


def block_rows_for(plan: CompositePlan, block_rows: int, in_flight: int = 1, align: int = 0) -> int:
    """Rows per window: ``block_rows``, fewer when ``in_flight`` windows held at once
    (computing, waiting or being written) would pass :data:`BLOCK_BUDGET_BYTES`.

    With ``align`` (the output's tile height), a shrunk window keeps a whole number of
    tile rows, at least one: a window ending inside a tile row makes GDAL compress that
    row's tiles twice (the budget yields to that for very wide scenes).
    """
    C, W = len(plan.stack.bands), plan.stack.grid.width
    worst = max(
        (
            len(m)
            for p, m in zip(plan.calendar.periods, plan.members, strict=True)
            if p.reducer == "median"
        ),
        default=1,
    )
    per_row = max(1, worst) * C * W * 4 + plan.n_periods * C * W * 8
    rows = max(1, min(block_rows, BLOCK_BUDGET_BYTES // (per_row * max(1, in_flight))))
    if align > 0 and rows < block_rows and plan.stack.grid.height > align:
        rows = max(align, rows // align * align)
    return rows
