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

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from cropmap.errors import ConfigError
from cropmap.infer.tiles import Plan, RowResult, predict_row_task
from cropmap.infer.windows import Win

log = logging.getLogger(__name__)


@contextlib.contextmanager
def dask_client(n_workers: int = 0, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client: to ``scheduler`` if given, else to a new ``LocalCluster``.

    The local cluster has ``n_workers`` single-threaded processes and no dashboard; it is
    closed on exit (a client to an existing scheduler only disconnects).
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="5s")
        except OSError as exc:
            raise ConfigError(f"cannot reach Dask scheduler {scheduler!r}: {exc}") from exc
        try:
            yield client
        finally:
            client.close()
        return
    if n_workers < 1:
        raise ConfigError(f"dask_workers must be at least 1, got {n_workers}")
    with (
        LocalCluster(
            n_workers=n_workers,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


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
    """
    from distributed import as_completed

    if plan.threads is None:
        plan = replace(plan, threads=1)
    with dask_client(n_workers, scheduler) as client:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or n_workers)
        in_flight = 2 * n_workers
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
