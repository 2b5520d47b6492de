"""Fixtures shared by every test folder."""

from __future__ import annotations

import os

import pytest

# One compute thread per process unless told otherwise: the suite runs the tests and two
# docs pages' commands side by side on the 2-core machine, and with torch's default of
# one thread per core the waiting threads spin on cores the others need (full suite,
# same machine: 286 s with the default, 242 s with one thread). Set before torch loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def short_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> float:
    """Give up on an unreachable Dask scheduler after 1 s instead of 5 s (seconds)."""
    import cropmap.io.cluster as cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    return 1.0
