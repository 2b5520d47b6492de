"""Training: chronological batch training, losses, augmentation and the Lightning trainer.

Names resolve lazily so that importing the package does not import torch/lightning.
"""

from __future__ import annotations

from cropmap._lazy import lazy_getattr

_EXPORTS = {
    "TrainConfig": "cropmap.train.config",
    "TrainResult": "cropmap.train.trainer",
    "train_model": "cropmap.train.trainer",
    "AugmentConfig": "cropmap.train.augment",
    "Augment": "cropmap.train.augment",
    "ChronologicalSchedule": "cropmap.train.chronological",
    "pad_time": "cropmap.train.chronological",
    "LOSSES": "cropmap.train.losses",
    "make_loss": "cropmap.train.losses",
    "train_baseline": "cropmap.train.forest_fit",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
