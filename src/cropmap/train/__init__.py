"""Training: chronological batch training, losses, augmentation and the Lightning trainer.

Names resolve lazily so that importing the package does not import torch/lightning.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "TrainConfig": "cropmap.train.trainer",
    "TrainResult": "cropmap.train.trainer",
    "train_model": "cropmap.train.trainer",
    "AugmentConfig": "cropmap.train.augment",
    "Augment": "cropmap.train.augment",
    "ChronologicalSchedule": "cropmap.train.chronological",
    "pad_time": "cropmap.train.chronological",
    "LOSSES": "cropmap.train.losses",
    "make_loss": "cropmap.train.losses",
    "train_baseline": "cropmap.train.baseline",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'cropmap.train' has no attribute {name!r}")
