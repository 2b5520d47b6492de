"""Fixtures shared by every test folder."""

from __future__ import annotations

import pytest


@pytest.fixture
def short_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> float:
    """Give up on an unreachable Dask scheduler after 1 s instead of 5 s (seconds)."""
    import cropmap.io.cluster as cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    return 1.0
