"""Model metadata from a patch store's manifest (shared by the U-Net and forest trainers)."""

from __future__ import annotations

from collections.abc import Sequence

from cropmap.data.store import PatchManifest
from cropmap.models.registry import ModelMeta


def meta_from_manifest(manifest: PatchManifest, bands: Sequence[str]) -> ModelMeta:
    """Model metadata (bands, periods, calendar, norm, classes, target) from a store manifest."""
    norm = manifest.norm if isinstance(manifest.norm, dict) else manifest.norm.model_dump()
    norm = {k: {b: float(v[b]) for b in bands if b in v} for k, v in norm.items()}
    return ModelMeta(
        bands=list(bands),
        periods=list(manifest.periods),
        calendar=dict(manifest.calendar) if manifest.calendar else None,
        norm=norm,
        classes=list(manifest.classes),
        target=str(manifest.target),
        region=getattr(manifest, "region", None),
    )
