"""Models: the Recurrent U-Net, the random-forest baseline and model directories.

Importing this package imports torch (via :mod:`cropmap.models.recurrent_unet`) lazily:
the names below resolve on first access.
"""

from __future__ import annotations

from cropmap._lazy import lazy_getattr

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


__getattr__ = lazy_getattr(__name__, _EXPORTS)
