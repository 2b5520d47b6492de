"""Labels, patches, splits and the PyTorch Dataset.

Public API (see docs/data.md and docs/architecture.md):

- :func:`rasterize_parcels` -> :class:`RasterizeReport`
- :func:`load_mapping` -> :class:`ClassMapping`; :func:`mapping_preset_names`
- :func:`build_patches` -> :class:`PatchManifest`; :class:`PatchStore`
- :class:`PatchDataset` (imports torch on first use)
- :func:`split_patches`, :data:`SPLITTERS`
"""

from __future__ import annotations

from typing import Any

from cropmap.data.labels import RasterizeReport, rasterize_parcels
from cropmap.data.mappings import ClassMapping, load_mapping, mapping_preset_names
from cropmap.data.patches import PatchInfo, PatchManifest, PatchStore, build_patches
from cropmap.data.splits import SPLITTERS, split_patches

__all__ = [
    "SPLITTERS",
    "ClassMapping",
    "PatchDataset",
    "PatchInfo",
    "PatchManifest",
    "PatchStore",
    "RasterizeReport",
    "build_patches",
    "load_mapping",
    "mapping_preset_names",
    "rasterize_parcels",
    "split_patches",
]


def __getattr__(name: str) -> Any:
    if name == "PatchDataset":  # keep `import cropmap.data` free of torch
        from cropmap.data.dataset import PatchDataset

        return PatchDataset
    raise AttributeError(f"module 'cropmap.data' has no attribute {name!r}")
