"""Compositing a Sentinel-1 time series by phenology calendar, window by window.

Output (see docs/architecture.md): one float32 GeoTIFF with T x C bands, period-major
(``P1_VV, P1_VH, P2_VV, ...``), dB, nodata NaN, tags ``CALENDAR`` (JSON), ``PERIODS``,
``BANDS``, ``UNITS=dB``; and ``<stem>.count.tif`` (uint16, T bands: per pixel, the number
of acquisitions of each period valid in every band). The scene is processed in blocks of
rows across all dates, so memory stays bounded whatever the scene size.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.windows import Window

from cropmap.errors import DateParseError, EmptyPeriodWarning
from cropmap.io.raster import open_writer, profile_for
from cropmap.sar.calendars import Calendar, load_calendar
from cropmap.sar.layout import band_names, composite_layout, count_path, read_composite
from cropmap.sar.reducers import Average, make_reducer
from cropmap.sar.stack import S1Stack, StackReader, open_stack

log = logging.getLogger(__name__)

#: GDAL block cache while compositing, in MB: GDAL's default (5 % of RAM) would keep
#: every input window read so far and dominate memory.
GDAL_CACHE_MB = 64

#: Memory a block's median stacks may take, in bytes (blocks get fewer rows beyond it).
BLOCK_BUDGET_BYTES = 256 * 1024 * 1024

Progress = Callable[[int, int], None]

__all__ = [
    "CompositePlan",
    "band_names",
    "composite_block",
    "composite_folder",
    "composite_layout",
    "count_path",
    "plan_composite",
    "read_composite",
]


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
    years = range(min(d.year for d in dates) - 1, max(d.year for d in dates) + 1)
    best, best_n = None, 0
    for y in years:
        n = sum(calendar.period_of(d, y) is not None for d in dates)
        if n > best_n:
            best, best_n = y, n
    if best is None:
        raise DateParseError(
            f"no acquisition ({min(dates)}..{max(dates)}) falls in any period of calendar "
            f"{calendar.name!r} ({calendar.periods[0].start}..{calendar.periods[-1].end}); "
            "check the calendar or the dates"
        )
    return best


def plan_composite(
    stack: S1Stack, calendar: Calendar, year: int | None = None, average: Average = "linear"
) -> CompositePlan:
    """Assign acquisitions to periods; warn about periods without any acquisition.

    Warns:
        EmptyPeriodWarning: a period has no acquisition (its composite is all nodata).
    """
    season = year if year is not None else infer_season_year(calendar, stack.dates)
    if year is None:
        log.info("calendar %s: season year %d chosen from the dates", calendar.name, season)
    members: list[list[int]] = [[] for _ in calendar.periods]
    for i, acq in enumerate(stack.acquisitions):
        k = calendar.period_of(acq.date, season)
        if k is not None:
            members[k].append(i)
    for p, (a, b), idx in zip(calendar.periods, calendar.ranges(season), members, strict=True):
        if not idx:
            warnings.warn(
                f"period {p.name} ({a}..{b}) of calendar {calendar.name!r} has no acquisition; "
                "its composite bands are all nodata",
                EmptyPeriodWarning,
                stacklevel=3,
            )
    return CompositePlan(stack, calendar, season, tuple(tuple(m) for m in members), average)


def composite_block(
    plan: CompositePlan, window: Window, reader: StackReader | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Composite one window over all periods.

    Returns:
        ``(values, count)``: float32 ``(T*C, h, w)`` dB with NaN nodata (period-major)
        and uint16 ``(T, h, w)`` valid observations per period.
    """
    own = reader is None
    reader = reader or StackReader(plan.stack)
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


def row_windows(height: int, width: int, rows: int) -> list[Window]:
    """Full-width windows of ``rows`` rows covering the grid."""
    return [Window(0, r, width, min(rows, height - r)) for r in range(0, height, rows)]


def _block_rows(plan: CompositePlan, block_rows: int) -> int:
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
    return max(1, min(block_rows, BLOCK_BUDGET_BYTES // per_row))


def composite_folder(
    s1_dir: str | os.PathLike,
    calendar: str | os.PathLike | Calendar,
    out_path: str | os.PathLike,
    *,
    year: int | None = None,
    bands: Sequence[str] = ("VV", "VH"),
    units: str = "auto",
    file_bands: Sequence[str] | None = None,
    dates: Any = None,
    reference: str | os.PathLike | None = None,
    align: bool = False,
    resampling: str = "nearest",
    average: Average = "linear",
    block_rows: int = 512,
    progress: Progress | None = None,
    dask_workers: int = 0,
    scheduler: str | None = None,
    compress: str = "zstd",
    allow_duplicate_dates: bool = False,
) -> Path:
    """Composite a Sentinel-1 time series into one T x C band GeoTIFF (dB) by calendar.

    Args:
        s1_dir: folder of per-date GeoTIFFs, or one stack file (see :func:`open_stack`).
        calendar: preset name, YAML path or :class:`Calendar`.
        out_path: output GeoTIFF; ``<stem>.count.tif`` is written beside it.
        year: season start year (default: the year that fits most acquisitions).
        bands: polarisations, in output order.
        units: ``linear``, ``db`` or ``auto`` (detected, with a warning).
        file_bands: names of each input file's bands, overriding their descriptions.
        dates: dates of a stack's band groups (list or sidecar path).
        reference: raster defining the output grid (default: the earliest input).
        align: reproject inputs on another grid onto the reference instead of failing.
        resampling: resampling used by ``align`` (default ``nearest``).
        average: domain of the ``mean`` reducer: ``linear`` power (default) or ``db``.
        block_rows: rows per processing window (memory scales with it, not the scene).
        progress: called as ``progress(done_blocks, total_blocks)``.
        dask_workers: process windows on a local Dask cluster of this many workers.
        scheduler: address of a running Dask scheduler (overrides ``dask_workers``).
        allow_duplicate_dates: accept several acquisitions on one date (see
            :func:`open_stack`).
        compress: GeoTIFF compression of the outputs (``zstd`` level 1 by default: about
            as small as ``deflate`` on backscatter and several times faster to write).

    Returns:
        The composite's path.

    Raises:
        RasterReadError, DateParseError, GridMismatchError, UnitsError, CalendarError,
        RasterWriteError.
    """
    cal = load_calendar(calendar)
    stack = open_stack(
        s1_dir,
        bands=bands,
        file_bands=file_bands,
        units=units,
        dates=dates,
        reference=reference,
        align=align,
        resampling=resampling,
        allow_duplicate_dates=allow_duplicate_dates,
    )
    plan = plan_composite(stack, cal, year, average)
    g = stack.grid
    windows = row_windows(g.height, g.width, _block_rows(plan, block_rows))
    C = len(stack.bands)
    tags = {
        "CALENDAR": json.dumps(cal.to_dict()),
        "PERIODS": ",".join(cal.period_names),
        "BANDS": ",".join(stack.bands),
        "UNITS": "dB",
        "SOURCE_UNITS": stack.units,
        "SEASON_YEAR": plan.season_year,
        "PERIOD_DATES": json.dumps(plan.period_dates()),
        "MEAN_AVERAGED_IN": average,
    }
    prof = profile_for(
        width=g.width,
        height=g.height,
        count=plan.n_periods * C,
        crs=g.rio_crs,
        transform=g.affine,
        dtype="float32",
        nodata=float("nan"),
        **_compression(compress),
    )
    cprof = profile_for(
        width=g.width,
        height=g.height,
        count=plan.n_periods,
        crs=g.rio_crs,
        transform=g.affine,
        dtype="uint16",
        nodata=None,
        **_compression(compress),
    )
    out_path = Path(out_path)
    with (
        bounded_cache(),
        open_writer(out_path, prof, band_names(cal.period_names, stack.bands), tags) as dst,
        open_writer(
            count_path(out_path),
            cprof,
            list(cal.period_names),
            {"PERIODS": tags["PERIODS"], "CALENDAR": tags["CALENDAR"]},
        ) as cdst,
        # write-behind: block k is compressed and written while block k+1 is computed
        # (GDAL releases the GIL); at most one block waits, so memory stays bounded.
        ThreadPoolExecutor(max_workers=1) as writer,
    ):
        pending: Future | None = None
        for done, (win, (values, count)) in enumerate(
            _run_blocks(plan, windows, dask_workers, scheduler), start=1
        ):
            if pending is not None:
                pending.result()
            pending = writer.submit(_write_block, dst, cdst, win, values, count)
            if progress is not None:
                progress(done, len(windows))
        if pending is not None:
            pending.result()
    log.info(
        "composite %s: %d periods x %d bands, %d acquisitions",
        out_path,
        plan.n_periods,
        C,
        len(stack.acquisitions),
    )
    return out_path


def _write_block(dst: Any, cdst: Any, win: Window, values: np.ndarray, count: np.ndarray) -> None:
    dst.write(values, window=win)
    cdst.write(count, window=win)


def _compression(name: str) -> dict[str, Any]:
    name = name.lower()
    if name == "zstd":
        return {"compress": "zstd", "zstd_level": 1}
    if name == "none":
        return {"compress": None, "predictor": 1}
    return {"compress": name}


def bounded_cache() -> rasterio.Env:
    """A rasterio environment with GDAL's block cache capped at :data:`GDAL_CACHE_MB`."""
    return rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB * 1024 * 1024)


def _run_blocks(
    plan: CompositePlan, windows: list[Window], dask_workers: int, scheduler: str | None
) -> Iterator[tuple[Window, tuple[np.ndarray, np.ndarray]]]:
    if dask_workers or scheduler:
        from cropmap.sar.distributed import run_blocks_dask

        yield from run_blocks_dask(plan, windows, dask_workers, scheduler)
        return
    with bounded_cache(), StackReader(plan.stack) as reader:
        for win in windows:
            yield win, composite_block(plan, win, reader)
