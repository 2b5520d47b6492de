"""Dask distributed scale-out of tiled prediction: one task per window row.

Each task receives the picklable :class:`~cropmap.infer.tiles.Plan` and a row index; the
worker opens the input itself, loads the model once per process (engine cache) and
returns that row's blended sums. The driver adds the rows in order into the same rolling
accumulator as the single-process path, so the map is identical to a single-process run
with the same engine threads (one per worker unless ``plan.threads`` says otherwise;
another thread count may change float rounding in the math libraries). At most
``2 x workers`` rows are in flight, which bounds the driver's memory.

Workers need to see the model directory and the input under the same paths (shared
disk). ``LocalCluster`` workers are processes with one thread each; the engine then
runs with one intra-op thread per worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from cropmap.infer.tiles import Plan, RowResult, predict_row_task
from cropmap.infer.windows import Win
from cropmap.io.cluster import dask_client, n_workers_of

log = logging.getLogger(__name__)


def dask_rows(
    plan: Plan,
    n_rows: int,
    n_workers: int = 0,
    scheduler: str | None = None,
    *,
    rows: list[list[Win]] | None = None,
    report: Callable[[int], None] | None = None,
) -> Iterator[RowResult]:
    """Yield the row results ``0 .. n_rows - 1`` in order, computed on Dask workers.

    Args:
        plan: the run's plan (the model and input paths must be visible to workers).
        n_rows: number of window rows.
        n_workers: processes of a new local cluster (ignored with ``scheduler``).
        scheduler: address of an existing scheduler.
        rows: the window grid, only to report progress in windows.
        report: called with the number of windows finished after each row.

    Raises:
        ConfigError: the scheduler cannot be reached, or ``n_workers`` < 1.
    """
    from distributed import as_completed

    if plan.threads is None:
        plan = replace(plan, threads=1)
    with dask_client(n_workers, scheduler) as client:
        in_flight = 2 * n_workers_of(client, n_workers)
        pending: dict[Any, int] = {}
        done: dict[int, RowResult] = {}
        submitted = 0
        ready = as_completed()

        def top_up() -> None:
            nonlocal submitted
            while submitted < n_rows and len(pending) + len(done) < in_flight:
                fut = client.submit(predict_row_task, plan, submitted, pure=False)
                pending[fut] = submitted
                ready.add(fut)
                submitted += 1

        top_up()
        for nxt in range(n_rows):
            while nxt not in done:
                fut = next(ready)
                index = pending.pop(fut)
                done[index] = fut.result()
                fut.release()
                if report is not None and rows is not None:
                    report(len(rows[index]))
            result = done.pop(nxt)
            top_up()
            yield result
