"""Compositing windows on a Dask distributed cluster (local or remote).

Each task composites one window (opening the input files itself) and returns its
arrays; the caller writes them. At most ``2 x workers`` windows are in flight, so the
client's memory stays bounded. The output is identical to the serial path.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from rasterio.windows import Window

from cropmap.errors import ConfigError


def _task(plan: object, window: Window) -> tuple[np.ndarray, np.ndarray]:
    from cropmap.sar.composite import bounded_cache, composite_block

    with bounded_cache():
        return composite_block(plan, window)  # type: ignore[arg-type]


def run_blocks_dask(
    plan: object, windows: list[Window], workers: int, scheduler: str | None
) -> Iterator[tuple[Window, tuple[np.ndarray, np.ndarray]]]:
    """Yield ``(window, (values, count))`` as Dask tasks complete.

    Args:
        plan: a :class:`~cropmap.sar.composite.CompositePlan`.
        windows: windows to composite.
        workers: start a LocalCluster with this many single-threaded worker processes
            (scripts using it need an ``if __name__ == "__main__":`` guard).
        scheduler: address of a running scheduler (``tcp://host:8786``) instead.
    """
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - dask is a dependency
        raise ConfigError("dask_workers/scheduler need dask[distributed] installed") from exc
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        if workers < 1:
            raise ConfigError(f"dask_workers must be >= 1, got {workers}")
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or workers or 1)
        plan_f = client.scatter(plan, broadcast=True)
        todo = list(windows)
        pending = as_completed()
        index = {}
        for _ in range(min(len(todo), 2 * n_workers)):
            win = todo.pop(0)
            fut = client.submit(_task, plan_f, win, pure=False)
            index[fut.key] = win
            pending.add(fut)
        for fut in pending:
            win = index.pop(fut.key)
            result = fut.result()
            fut.release()
            if todo:
                nxt = todo.pop(0)
                nf = client.submit(_task, plan_f, nxt, pure=False)
                index[nf.key] = nxt
                pending.add(nf)
            yield win, result
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
