"""Augmentations of one patch: temporal shift, flips and 90-degree rotations.

Each works on numpy ``x`` ``(T, C, H, W)`` and ``y`` ``(H, W)`` and returns new arrays.
A temporal shift by ``+1`` moves the season one period later (planting later): step
``t`` takes step ``t - 1`` and the first step is repeated at the edge; ``-1`` moves it
earlier and repeats the last step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, overload

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    import torch


def temporal_shift(x: np.ndarray, shift: int) -> np.ndarray:
    """Roll ``x`` ``(T, ...)`` by ``shift`` periods along time, repeating the edge step."""
    t = x.shape[0]
    idx = np.clip(np.arange(t) - shift, 0, t - 1)
    return x[idx]


def flip(x: np.ndarray, y: np.ndarray, axis: str) -> tuple[np.ndarray, np.ndarray]:
    """Flip ``x`` ``(T, C, H, W)`` and ``y`` ``(H, W)`` up-down (``"v"``) or left-right."""
    ax = -2 if axis == "v" else -1
    return np.flip(x, axis=ax), np.flip(y, axis=ax)


def rot90(x: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rotate ``x`` and ``y`` by ``k`` x 90 degrees in the image plane."""
    return np.rot90(x, k, axes=(-2, -1)), np.rot90(y, k, axes=(-2, -1))


class AugmentConfig(BaseModel):
    """Probabilities and ranges of the random augmentations."""

    model_config = ConfigDict(extra="forbid")

    shift_prob: float = Field(0.5, ge=0.0, le=1.0, description="chance of a temporal shift")
    max_shift: int = Field(1, ge=0, description="shift drawn from -max..+max periods, not 0")
    flips: bool = True
    rotations: bool = True


class Augment:
    """Random augmentation callable ``(x, y) -> (x, y)`` for :class:`PatchDataset`.

    Accepts numpy arrays or torch tensors (returned as the same type).

    Args:
        config: the augmentation settings (defaults when ``None``).
        seed: seed of the generator (each DataLoader worker should reseed with
            :meth:`reseed`; Lightning's ``seed_everything(workers=True)`` does not reach
            numpy generators held by objects).
    """

    def __init__(self, config: AugmentConfig | None = None, seed: int | None = 0) -> None:
        self.config = config or AugmentConfig()
        self.rng = np.random.default_rng(seed)

    def reseed(self, seed: int) -> None:
        """Restart the random generator from ``seed``."""
        self.rng = np.random.default_rng(seed)

    @overload
    def __call__(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    @overload
    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]: ...

    def __call__(
        self, x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor
    ) -> tuple[np.ndarray, np.ndarray] | tuple[torch.Tensor, torch.Tensor]:
        """Augment ``x`` ``(T, C, H, W)`` and ``y`` ``(H, W)``; numpy or torch in, same out."""
        is_torch = not isinstance(x, np.ndarray)
        x_np, y_np = np.asarray(x), np.asarray(y)  # a CPU tensor's view, as Tensor.numpy()
        cfg, rng = self.config, self.rng
        if cfg.max_shift > 0 and rng.random() < cfg.shift_prob:
            choices = [s for s in range(-cfg.max_shift, cfg.max_shift + 1) if s != 0]
            x_np = temporal_shift(x_np, int(rng.choice(choices)))
        if cfg.flips:
            if rng.random() < 0.5:
                x_np, y_np = flip(x_np, y_np, "h")
            if rng.random() < 0.5:
                x_np, y_np = flip(x_np, y_np, "v")
        if cfg.rotations:
            x_np, y_np = rot90(x_np, y_np, int(rng.integers(0, 4)))
        x_np, y_np = np.ascontiguousarray(x_np), np.ascontiguousarray(y_np)
        if is_torch:
            import torch

            return torch.from_numpy(x_np), torch.from_numpy(y_np)
        return x_np, y_np
