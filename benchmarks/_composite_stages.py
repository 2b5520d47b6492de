"""Where compositing spends its CPU time, stage by stage (used by ``composite.py``).

Runs the steps of :func:`cropmap.sar.block.composite_block` over every window of a
series, in one thread, with a CPU-time clock around each library call:

- ``open + plan``: discover the files, check grids and units, assign dates to periods;
- ``read (GDAL)``: ``read_checked`` of every band window (decode + copy out of GDAL);
- ``nodata + units``: ``to_linear`` / ``to_db`` (nodata masking, log10 where needed);
- ``reduce``: the reducers' ``add`` and ``result``;
- ``valid count``: the per-period count of valid observations;
- ``write``: writing values and counts with the composite's profile (ZSTD level 1).

The stages call the same functions as the library; their sum is printed beside the CPU
time of the real run so that the split can be checked against the whole.
"""

from __future__ import annotations

import resource
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

STAGES = ("open + plan", "read (GDAL)", "nodata + units", "reduce", "valid count", "write")


def cpu_s() -> float:
    """CPU seconds (user + system, all threads) of this process so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def stage_cpu(s1: str, calendar: str, block_rows: int) -> dict[str, float]:
    """CPU seconds per stage of compositing ``s1`` (linear inputs) with ``calendar``."""
    from rasterio.windows import Window

    from cropmap.io.gdal import COMPOSITE_CACHE_MB, gdal_env
    from cropmap.io.memory import keep_freed_memory
    from cropmap.io.raster import open_raster, open_writer, profile_for, read_checked
    from cropmap.sar.block import block_rows_for, plan_composite, row_windows
    from cropmap.sar.calendars import load_calendar
    from cropmap.sar.composite import TILE_ROWS
    from cropmap.sar.db import to_db, to_linear
    from cropmap.sar.reducers import make_reducer
    from cropmap.sar.stack import open_stack

    keep_freed_memory()  # as composite_folder does
    spent: dict[str, float] = defaultdict(float)
    t = cpu_s()
    stack = open_stack(s1, units="linear")
    plan = plan_composite(stack, load_calendar(calendar))
    g = stack.grid
    # the windows of a one-thread run: one computing, one waiting, one being written
    rows = block_rows_for(plan, block_rows, in_flight=3, align=TILE_ROWS)
    windows = row_windows(g.height, g.width, rows)
    C, T = len(stack.bands), plan.n_periods
    prof = profile_for(
        width=g.width, height=g.height, count=T * C, crs=g.rio_crs, transform=g.affine,
        dtype="float32", nodata=float("nan"), compress="zstd", zstd_level=1,
    )  # fmt: skip
    cprof = dict(prof, count=T, dtype="uint16", nodata=None, predictor=2)
    spent["open + plan"] += cpu_s() - t
    files: dict[Path, Any] = {}
    with (
        tempfile.TemporaryDirectory(prefix="cropmap-stages-") as tmp,
        gdal_env(COMPOSITE_CACHE_MB, direct_io=True),
        open_writer(Path(tmp) / "v.tif", prof) as dst,
        open_writer(Path(tmp) / "c.tif", cprof) as cdst,
    ):
        for win in windows:
            h, w = int(win.height), int(win.width)
            values = np.empty((T * C, h, w), dtype=np.float32)
            count = np.zeros((T, h, w), dtype=np.uint16)
            for k, (period, idx) in enumerate(
                zip(plan.calendar.periods, plan.members, strict=True)
            ):
                red = make_reducer(period.reducer, (C, h, w), plan.average)
                for i in idx:
                    acq = stack.acquisitions[i]
                    v = np.empty((C, h, w), dtype=np.float32)
                    for c, src in enumerate(acq.sources):
                        t = cpu_s()
                        ds = files.get(src.path) or files.setdefault(
                            src.path, open_raster(src.path)
                        )
                        raw = read_checked(ds, src.index, window=win)
                        t2 = cpu_s()
                        conv = to_linear if red.domain == "linear" else to_db
                        v[c] = conv(raw, stack.units, src.nodata)
                        t3 = cpu_s()
                        spent["read (GDAL)"] += t2 - t
                        spent["nodata + units"] += t3 - t2
                    t = cpu_s()
                    red.add(v)
                    t2 = cpu_s()
                    count[k] += np.isfinite(v).all(axis=0)
                    t3 = cpu_s()
                    spent["reduce"] += t2 - t
                    spent["valid count"] += t3 - t2
                t = cpu_s()
                values[k * C : (k + 1) * C] = red.result()
                spent["reduce"] += cpu_s() - t
            t = cpu_s()
            dst.write(values, window=win)
            cdst.write(count, window=Window(0, win.row_off, w, h))
            spent["write"] += cpu_s() - t
        t = cpu_s()
    spent["write"] += cpu_s() - t  # closing flushes the last compressed tiles
    for ds in files.values():
        ds.close()
    return {s: spent[s] for s in STAGES}
