"""Compositing a Sentinel-1 time series by phenology calendar: the single-process driver.

Output (see docs/architecture.md): one float32 GeoTIFF with T x C bands, period-major
(``P1_VV, P1_VH, P2_VV, ...``), dB, nodata NaN, tags ``CALENDAR`` (JSON), ``PERIODS``,
``BANDS``, ``UNITS=dB``, ``EMPTY_PERIODS`` (count) and ``EMPTY_PERIOD_NAMES``; and
``<stem>.count.tif`` (uint16, T bands: per pixel, the number of acquisitions of each
period valid in every band). The scene is processed in blocks of rows across all dates,
so memory stays bounded whatever the scene size.

The unit of work (:func:`~cropmap.sar.block.composite_block`) lives in
:mod:`cropmap.sar.block`; windows run here in one process, or on Dask workers through
:mod:`cropmap.sar.dask_driver`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
from rasterio.windows import Window

from cropmap.errors import ConfigError
from cropmap.io.gdal import COMPOSITE_CACHE_MB, gdal_env
from cropmap.io.memory import keep_freed_memory
from cropmap.io.raster import DEFAULT_PROFILE, open_writer, profile_for
from cropmap.sar.block import (
    CompositePlan,
    block_rows_for,
    composite_block,
    infer_season_year,
    open_reader,
    plan_composite,
    row_windows,
)
from cropmap.sar.calendars import Calendar, load_calendar
from cropmap.sar.dask_driver import run_blocks_dask
from cropmap.sar.layout import band_names, composite_layout, count_path, read_composite
from cropmap.sar.reducers import Average
from cropmap.sar.stack import open_stack

log = logging.getLogger(__name__)

#: Most threads compositing at once by default: windows are tile-aligned (at least
#: 256 rows), so each thread adds a window's memory; 2 keep a 4096 px wide scene
#: well under 1 GB (``benchmarks/composite.py``). More with ``threads=``.
MAX_THREADS = 2

#: Tile height of the outputs (``DEFAULT_PROFILE``): windows keep whole tile rows.
TILE_ROWS = int(DEFAULT_PROFILE["blockysize"])

Progress = Callable[[int, int], None]

__all__ = [
    "CompositePlan",
    "band_names",
    "composite_block",
    "composite_folder",
    "composite_layout",
    "count_path",
    "infer_season_year",
    "plan_composite",
    "read_composite",
    "row_windows",
    "write_composite",
]


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
    threads: int | None = None,
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
        threads: windows composited at once in this process (default: one per CPU, at
            most :data:`MAX_THREADS`); GDAL reads and numpy release the GIL. The output is
            the same for any number.

    Returns:
        The composite's path.

    Raises:
        EmptyInputError: no acquisition falls in any period (e.g. a wrong ``year``);
            nothing is written and an earlier output at ``out_path`` stays as it was.
        RasterReadError, DateParseError, GridMismatchError, UnitsError, CalendarError,
        RasterWriteError, ConfigError (an unreachable Dask scheduler, bad ``threads``).
    """
    n_threads = _threads(threads)
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
    return write_composite(
        plan,
        out_path,
        block_rows=block_rows,
        progress=progress,
        dask_workers=dask_workers,
        scheduler=scheduler,
        compress=compress,
        threads=n_threads,
    )


def write_composite(
    plan: CompositePlan,
    out_path: str | os.PathLike,
    *,
    block_rows: int = 512,
    progress: Progress | None = None,
    dask_workers: int = 0,
    scheduler: str | None = None,
    compress: str = "zstd",
    extra_tags: dict[str, Any] | None = None,
    threads: int | None = None,
) -> Path:
    """Composite a planned time series window by window and write it (the folder layout).

    Any stack works whose acquisitions a reader can read: a folder's :class:`S1Stack`,
    or a STAC stack, whose ``reader()`` method supplies its own (see
    :func:`~cropmap.sar.block.open_reader`).

    Args:
        plan: acquisitions per period (see :func:`plan_composite`).
        out_path: output GeoTIFF; ``<stem>.count.tif`` is written beside it.
        block_rows: rows per processing window.
        progress: called as ``progress(done_blocks, total_blocks)``.
        dask_workers: process windows on a local Dask cluster of this many workers.
        scheduler: address of a running Dask scheduler.
        compress: GeoTIFF compression of the outputs.
        extra_tags: more dataset tags (e.g. the STAC source).
        threads: windows composited at once in this process (see :func:`composite_folder`).

    Returns:
        The composite's path.
    """
    n_threads = _threads(threads)
    keep_freed_memory()  # large per-window temporaries: no page faults on every window
    stack, cal, average = plan.stack, plan.calendar, plan.average
    g = stack.grid
    # windows held at once: those computing (threads, or 2 per Dask worker), plus one
    # waiting for the writer and one being written; their sum stays within the budget
    busy = 2 * max(2, dask_workers) if dask_workers or scheduler else n_threads
    rows = block_rows_for(plan, block_rows, busy + 2, align=TILE_ROWS)
    windows = row_windows(g.height, g.width, rows)
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
        "EMPTY_PERIODS": len(plan.empty_periods),
        "EMPTY_PERIOD_NAMES": ",".join(plan.empty_periods),
        **(extra_tags or {}),
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
        gdal_env(COMPOSITE_CACHE_MB),
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
            _run_blocks(plan, windows, n_threads, dask_workers, scheduler), start=1
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


def _threads(threads: int | None) -> int:
    if threads is None:
        return max(1, min(MAX_THREADS, os.cpu_count() or 1))
    if threads < 1:
        raise ConfigError(f"threads (--threads) must be at least 1, got {threads}")
    return int(threads)


def _run_blocks(
    plan: CompositePlan,
    windows: list[Window],
    threads: int,
    dask_workers: int,
    scheduler: str | None,
) -> Iterator[tuple[Window, tuple[np.ndarray, np.ndarray]]]:
    """Yield ``(window, (values, count))`` of every window: on Dask, or in this process."""
    if dask_workers or scheduler:
        yield from run_blocks_dask(plan, windows, dask_workers, scheduler)
        return
    if threads <= 1 or len(windows) <= 1:
        with gdal_env(COMPOSITE_CACHE_MB, direct_io=True), open_reader(plan.stack) as reader:
            for win in windows:
                yield win, composite_block(plan, win, reader)
        return
    yield from _run_blocks_threads(plan, windows, threads)


def _run_blocks_threads(
    plan: CompositePlan, windows: list[Window], threads: int
) -> Iterator[tuple[Window, tuple[np.ndarray, np.ndarray]]]:
    """Composite windows on ``threads`` threads (one reader each), yielded in order.

    At most ``threads`` windows are computed at once, so memory stays bounded.
    """
    local = threading.local()
    readers: list[Any] = []

    def work(win: Window) -> tuple[np.ndarray, np.ndarray]:
        reader = getattr(local, "reader", None)
        if reader is None:
            reader = local.reader = open_reader(plan.stack)
            readers.append(reader)
        with gdal_env(COMPOSITE_CACHE_MB, direct_io=True):
            return composite_block(plan, win, reader)

    try:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="composite") as pool:
            todo = iter(windows)
            pending = deque((w, pool.submit(work, w)) for w in islice(todo, threads))
            while pending:
                win, fut = pending.popleft()
                result = fut.result()
                nxt = next(todo, None)
                if nxt is not None:
                    pending.append((nxt, pool.submit(work, nxt)))
                yield win, result
    finally:
        for reader in readers:
            reader.close()
