"""Random state in checkpoints, so a resumed run repeats what an uninterrupted one does.

Lightning checkpoints hold the weights, optimizer, loop counters and callback states,
but not the random generators. :class:`RandomState` adds them: torch's (CPU and CUDA,
used by dropout and the shuffling sampler), Python's and numpy's global ones, and the
augmentation generator of the training dataset when it lives in the main process. With
``num_workers > 0`` the workers are started anew every epoch and seeded from torch's
generator, which is restored, so they repeat too.
"""

from __future__ import annotations

import random
from typing import Any, cast

import lightning as L
import numpy as np
import torch

#: Key of the random state inside a Lightning checkpoint.
KEY = "cropmap_random_state"


def _augment_of(trainer: L.Trainer) -> Any:
    """The training dataset's augmentation (created if needed), or None."""
    dataset = getattr(trainer.train_dataloader, "dataset", None)
    ensure = getattr(dataset, "ensure_augment", None)
    return ensure() if ensure is not None else None


def capture(trainer: L.Trainer | None = None) -> dict[str, Any]:
    """The state of every random generator training draws from (checkpoint-safe types)."""
    np_name, np_keys, *np_rest = cast("tuple[Any, ...]", np.random.get_state())
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": (np_name, torch.from_numpy(np_keys.astype(np.int64)), *np_rest),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    aug = _augment_of(trainer) if trainer is not None else None
    if aug is not None:
        state["augment"] = aug.rng.bit_generator.state
    return state


def restore(state: dict[str, Any], trainer: L.Trainer | None = None) -> None:
    """Put back the generators saved by :func:`capture`."""
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    np_name, np_keys, *np_rest = state["numpy"]
    np.random.set_state((np_name, np_keys.numpy().astype(np.uint32), *np_rest))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    aug = _augment_of(trainer) if trainer is not None else None
    if aug is not None and "augment" in state:
        aug.rng.bit_generator.state = state["augment"]


class RandomState(L.Callback):
    """Save the random generators in each checkpoint and restore them on resume."""

    def __init__(self) -> None:
        self._loaded: dict[str, Any] | None = None

    def on_save_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        checkpoint[KEY] = capture(trainer)

    def on_load_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        # the global generators at once: Lightning may create the resumed epoch's data
        # iterator (drawing the shuffling seed) before any later hook runs
        self._loaded = checkpoint.get(KEY)
        if self._loaded is not None:
            restore(self._loaded)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # the dataset's augmentation generator, once the dataloader exists
        if self._loaded is not None:
            aug = _augment_of(trainer)
            if aug is not None and "augment" in self._loaded:
                aug.rng.bit_generator.state = self._loaded["augment"]
            self._loaded = None
