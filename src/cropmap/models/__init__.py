"""Models: the Recurrent U-Net, the random-forest baseline and model directories.

Importing this package imports torch (via :mod:`cropmap.models.recurrent_unet`) lazily:
the names below resolve on first access.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "UNetConfig": "cropmap.models.recurrent_unet",
    "RecurrentUNet": "cropmap.models.recurrent_unet",
    "count_parameters": "cropmap.models.recurrent_unet",
    "count_flops": "cropmap.models.recurrent_unet",
    "RandomForestBaseline": "cropmap.models.random_forest",
    "pixel_features": "cropmap.models.random_forest",
    "ModelMeta": "cropmap.models.registry",
    "save_model": "cropmap.models.registry",
    "load_model": "cropmap.models.registry",
    "read_meta": "cropmap.models.registry",
    "pad_time": "cropmap.models.time_padding",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'cropmap.models' has no attribute {name!r}")
