"""Chronological batch training (CBT) and time-inversed padding (TIP).

CBT updates the parameters gradually in time: consecutive training batches see the first
1, 2, ..., T periods (then the cycle starts again), so each new batch type adds one more
time step and the knowledge from the earlier steps is kept. The missing later steps of a
batch are filled by :func:`pad_time` (``"tip"`` mirrors the observed steps backwards,
``"zeros"`` fills zeros), which is also how a trained model predicts early in the season.
"""

from __future__ import annotations

import torch

from cropmap.models.time_padding import PADDINGS, pad_time, tip_indices

__all__ = ["PADDINGS", "ChronologicalSchedule", "chronological_batch", "pad_time", "tip_indices"]


class ChronologicalSchedule:
    """Number of observed steps for each training batch: ``min_steps..T`` in a cycle.

    Args:
        n_steps: ``T``, the full number of periods.
        min_steps: first step count of the cycle (1 in the method).
        enabled: ``False`` gives every batch all ``T`` steps (plain training).
    """

    def __init__(self, n_steps: int, min_steps: int = 1, enabled: bool = True) -> None:
        if not 1 <= min_steps <= n_steps:
            raise ValueError(f"min_steps must be in 1..{n_steps}, got {min_steps}")
        self.n_steps = n_steps
        self.min_steps = min_steps
        self.enabled = enabled

    def steps_for(self, batch_index: int, batches_per_epoch: int | None = None) -> int:
        """Observed steps of a training batch.

        Args:
            batch_index: the batch's index, counted over epochs, or within the epoch when
                ``batches_per_epoch`` is given.
            batches_per_epoch: when given, the cycle is aligned so that the epoch's last
                batch sees all ``T`` steps (the cycle still rises ``min_steps..T``). Batch
                norm's running statistics then end each epoch on full-season batches,
                which is what validation and inference see.
        """
        if not self.enabled:
            return self.n_steps
        span = self.n_steps - self.min_steps + 1
        if batches_per_epoch is None:
            return self.min_steps + batch_index % span
        return self.n_steps - (batches_per_epoch - 1 - batch_index) % span


def chronological_batch(x: torch.Tensor, k: int, mode: str = "tip") -> torch.Tensor:
    """Keep the first ``k`` steps of ``x`` ``(B, T, C, H, W)`` and pad back to ``T``."""
    return pad_time(x[:, :k], x.shape[1], mode)
