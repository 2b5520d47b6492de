"""Sliding-window grid over a raster and the smooth weights that blend overlapping windows.

A raster of ``height x width`` pixels is covered by square windows of ``size`` pixels
whose starts step by ``size - overlap``; the last window of each axis is clamped inside
the raster (it overlaps its neighbour more), so every window is full-sized whenever the
raster is at least ``size`` pixels. Windows form *rows* (same row start); inference walks
the rows top to bottom, which lets finished output rows be written early (bounded memory).

Blending: each window's probabilities are multiplied by a 2-D weight that is 1 in the
window's centre and falls smoothly (raised cosine) to a small floor over ``overlap``
pixels at each border. Two neighbouring ramps sum to one, so in the regular part of the
grid the blend is a partition of unity; everywhere else dividing by the accumulated
weight normalizes it. The floor keeps pixels seen by one window only (the raster's outer
border) well defined. Predictions near a window's border, where the U-Net sees padding
instead of context, therefore count little wherever a better-centred window exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: Smallest blending weight, so every covered pixel has a positive total weight.
WEIGHT_FLOOR = 1e-3


@dataclass(frozen=True)
class Win:
    """One window of the grid: pixel offsets and size, in raster pixels."""

    row: int
    col: int
    height: int
    width: int


def axis_starts(length: int, size: int, overlap: int) -> list[int]:
    """Start offsets of the windows along one axis of ``length`` pixels.

    Args:
        length: raster extent along the axis, in pixels (``>= 1``).
        size: window extent, in pixels.
        overlap: pixels shared by neighbouring windows (``0 <= overlap < size``).

    Returns:
        Increasing starts; the last one is clamped to ``length - size`` so the window stays
        inside the raster. A raster shorter than ``size`` gets one start, ``0``.

    Raises:
        ValueError: ``size < 1`` or ``overlap`` outside ``[0, size)``.
    """
    if size < 1:
        raise ValueError(f"window size must be positive, got {size}")
    if not 0 <= overlap < size:
        raise ValueError(f"overlap must be in [0, {size}), got {overlap}")
    if length <= size:
        return [0]
    stride = size - overlap
    starts = list(range(0, length - size, stride))
    starts.append(length - size)
    return starts


def window_rows(height: int, width: int, size: int, overlap: int) -> list[list[Win]]:
    """The window grid as rows of windows, top to bottom, left to right.

    Windows are ``min(size, height) x min(size, width)`` pixels.
    """
    h, w = min(size, height), min(size, width)
    cols = axis_starts(width, size, overlap)
    return [[Win(r, c, h, w) for c in cols] for r in axis_starts(height, size, overlap)]


def ramp(size: int, overlap: int, floor: float = WEIGHT_FLOOR) -> np.ndarray:
    """1-D blending weight of ``size`` pixels: raised-cosine ramps of ``overlap`` pixels.

    ``w[i] = sin^2(pi/2 * (i + 0.5) / overlap)`` on each border, 1 in between, never below
    ``floor``. Two ramps shifted by ``size - overlap`` sum to one over the overlap.
    """
    w = np.ones(size, dtype=np.float64)
    n = min(overlap, size // 2)
    if n > 0:
        i = np.arange(n, dtype=np.float64)
        up = np.sin(0.5 * np.pi * (i + 0.5) / n) ** 2
        w[:n] = up
        w[size - n :] = up[::-1]
    return np.maximum(w, floor)


@lru_cache(maxsize=16)
def blend_weights(height: int, width: int, overlap: int, floor: float = WEIGHT_FLOOR) -> np.ndarray:
    """2-D blending weight ``(height, width)`` float32: outer product of two :func:`ramp`.

    The returned array is cached and read-only.
    """
    w = np.outer(ramp(height, overlap, floor), ramp(width, overlap, floor)).astype(np.float32)
    w.setflags(write=False)
    return w
