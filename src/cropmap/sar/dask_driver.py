"""Compositing windows on a Dask distributed cluster (local or remote).

Each task composites one window (the worker opens the input files itself, through
:func:`~cropmap.sar.block.composite_block_task`) and returns its arrays; the caller
writes them. At most ``2 x workers`` windows are in flight, so the client's memory
stays bounded. The output is identical to the single-process path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from rasterio.windows import Window

from cropmap.io.cluster import dask_client, n_workers_of
from cropmap.sar.block import CompositePlan, composite_block_task


def run_blocks_dask(
    plan: CompositePlan, windows: list[Window], workers: int, scheduler: str | None
) -> Iterator[tuple[Window, tuple[np.ndarray, np.ndarray]]]:
    """Yield ``(window, (values, count))`` as Dask tasks complete (in completion order).

    Args:
        plan: the composite's plan (the input files must be visible to the workers).
        windows: windows to composite.
        workers: start a LocalCluster with this many single-threaded worker processes
            (scripts using it need an ``if __name__ == "__main__":`` guard).
        scheduler: address of a running scheduler (``tcp://host:8786``) instead.

    Raises:
        ConfigError: the scheduler cannot be reached, or ``workers`` < 1.
    """
    from distributed import as_completed

    with dask_client(workers, scheduler) as client:
        plan_f = client.scatter(plan, broadcast=True)
        todo = list(windows)
        pending = as_completed()
        index: dict[Any, Window] = {}

        def submit() -> None:
            win = todo.pop(0)
            fut = client.submit(composite_block_task, plan_f, win, pure=False)
            index[fut.key] = win
            pending.add(fut)

        for _ in range(min(len(todo), 2 * n_workers_of(client, workers or 1))):
            submit()
        for fut in pending:
            win = index.pop(fut.key)
            result = fut.result()
            fut.release()
            if todo:
                submit()
            yield win, result
