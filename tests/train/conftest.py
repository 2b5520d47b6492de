"""Tiny seeded in-memory datasets for trainer tests (the patch store is tested end to end
in tests/evaluate)."""

from __future__ import annotations

import numpy as np
import pytest
import torch


def toy_patches(n: int, seed: int, size: int = 32, n_steps: int = 8):
    """Patches whose target pixels are dark in periods 1-3 (flooded paddies).

    A ``TensorDataset`` (importable in spawned DDP workers, unlike a class defined here).
    """
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(n):
        y = np.zeros((size, size), dtype=np.int64)
        for _ in range(3):
            r, c = rng.integers(0, size - 8, 2)
            y[r : r + 8, c : c + 8] = 1
        y[:2, :2] = 255
        x = rng.normal(0.0, 0.3, (n_steps, 1, size, size)).astype(np.float32)
        x[:3, 0] += np.where(y == 1, -1.5, 0.5)
        xs.append(x)
        ys.append(y)
    return torch.utils.data.TensorDataset(
        torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))
    )


@pytest.fixture
def toy_data():
    return toy_patches(8, 0), toy_patches(4, 1)
