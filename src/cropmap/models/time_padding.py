"""Fill the missing later periods of a time series (early-season input).

A model trained on ``T`` periods can predict from the first ``k < T`` periods once the
series is padded back to ``T``. Two modes, in the registry :data:`PADDINGS`:

- ``"tip"`` (time-inversed padding, the default): the observed steps are mirrored
  backwards, ``step k + j = step k - 1 - j``; when more than ``k`` steps are missing the
  reflection bounces back and forth (``0..k-1, k-1..0, 0..k-1, ...``), so ``k = 1``
  repeats the single observed step.
- ``"zeros"``: the missing steps are zeros (the normalized mean).

Works on torch tensors and numpy arrays of shape ``(B, T, C, H, W)`` (``time_dim=1``) or
``(T, C, H, W)`` (``time_dim=0``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, overload

import numpy as np

if TYPE_CHECKING:
    import torch

PADDINGS = ("tip", "zeros")


def tip_indices(k: int, n_steps: int) -> list[int]:
    """Source index of each of the ``n_steps`` output steps under time-inversed padding.

    Args:
        k: number of observed steps (``1 <= k``).
        n_steps: wanted length ``T``.

    Returns:
        ``T`` indices into the observed steps, e.g. ``k=3, T=8 -> [0,1,2,2,1,0,0,1]``.
    """
    if k < 1:
        raise ValueError(f"at least one observed time step is needed, got {k}")
    period = 2 * k
    out = []
    for t in range(n_steps):
        if t < k:
            out.append(t)
            continue
        m = t % period
        out.append(m if m < k else period - 1 - m)
    return out


@overload
def pad_time(x: np.ndarray, n_steps: int, mode: str = ..., time_dim: int = ...) -> np.ndarray: ...


@overload
def pad_time(
    x: torch.Tensor, n_steps: int, mode: str = ..., time_dim: int = ...
) -> torch.Tensor: ...


def pad_time(
    x: np.ndarray | torch.Tensor, n_steps: int, mode: str = "tip", time_dim: int = 1
) -> np.ndarray | torch.Tensor:
    """Pad the time axis of ``x`` to ``n_steps`` steps.

    Args:
        x: tensor or array with ``k <= n_steps`` steps along ``time_dim``.
        n_steps: length ``T`` to reach.
        mode: ``"tip"`` (mirror the observed steps) or ``"zeros"``.
        time_dim: axis of time (1 for batches ``(B, T, C, H, W)``, 0 for one patch).

    Returns:
        The same type as ``x`` with ``n_steps`` steps; ``x`` itself when already full.

    Raises:
        ValueError: unknown mode, or more steps than ``n_steps``.
    """
    if mode not in PADDINGS:
        raise ValueError(f"unknown time padding {mode!r}; valid: {', '.join(PADDINGS)}")
    k = x.shape[time_dim]
    if k > n_steps:
        raise ValueError(f"input has {k} time steps, more than the {n_steps} expected")
    if k == n_steps:
        return x
    shape = list(x.shape)
    shape[time_dim] = n_steps - k
    if isinstance(x, np.ndarray):
        if mode == "tip":
            return np.take(x, tip_indices(k, n_steps), axis=time_dim)
        return np.concatenate([x, np.zeros(shape, dtype=x.dtype)], axis=time_dim)
    import torch

    if mode == "tip":
        idx = torch.as_tensor(tip_indices(k, n_steps), device=x.device)
        return torch.index_select(x, time_dim, idx)

    return torch.cat([x, x.new_zeros(shape)], dim=time_dim)
