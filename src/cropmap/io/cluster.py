"""One Dask client helper for every distributed driver (compositing, prediction).

A local cluster, or a client to a running scheduler; an unreachable scheduler becomes a
one-line :class:`~cropmap.errors.ConfigError` instead of a traceback after a long wait.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from cropmap.errors import ConfigError

#: Seconds to wait for a remote scheduler before giving up.
CONNECT_TIMEOUT_S = 5


@contextlib.contextmanager
def dask_client(n_workers: int = 0, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client: to ``scheduler`` if given, else to a new ``LocalCluster``.

    The local cluster has ``n_workers`` single-threaded worker processes and no dashboard
    (scripts using it need an ``if __name__ == "__main__":`` guard); it is closed on exit.
    A client to an existing scheduler only disconnects.

    Raises:
        ConfigError: the scheduler cannot be reached, ``n_workers`` < 1 without a
            scheduler, or dask.distributed is not installed.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - dask is a dependency
        raise ConfigError(
            "--dask-workers/--scheduler need dask[distributed]: pip install 'dask[distributed]'"
        ) from exc
    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, ValueError, TypeError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(
                f"cannot reach Dask scheduler {scheduler!r} (--scheduler) within "
                f"{CONNECT_TIMEOUT_S} s: {reason}; start one (dask scheduler) or use "
                "--dask-workers N for a local cluster"
            ) from exc
        try:
            yield client
        finally:
            client.close()
        return
    if n_workers < 1:
        raise ConfigError(f"--dask-workers must be at least 1 without --scheduler, got {n_workers}")
    with (
        LocalCluster(
            n_workers=n_workers, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def n_workers_of(client: Any, fallback: int = 1) -> int:
    """Number of workers the client's scheduler knows (at least 1)."""
    return max(1, len(client.scheduler_info().get("workers", {})) or fallback)
