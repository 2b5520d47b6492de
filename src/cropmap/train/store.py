"""Train a Recurrent U-Net directly from a patch store (what ``cropmap train`` calls)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cropmap.data.access import open_store
from cropmap.data.store import PatchStore
from cropmap.errors import PatchStoreError
from cropmap.models.recurrent_unet import RecurrentUNet, UNetConfig
from cropmap.train.meta import meta_from_manifest
from cropmap.train.trainer import TrainConfig, TrainResult, train_model

log = logging.getLogger(__name__)


def default_stages(n_steps: int, per_stage: int = 2) -> list[list[int]]:
    """Consecutive groups of ``per_stage`` periods (the last group may be shorter)."""
    return [list(range(i, min(i + per_stage, n_steps))) for i in range(0, n_steps, per_stage)]


def unet_for_store(store: PatchStore, bands: Sequence[str], **arch: Any) -> UNetConfig:
    """A :class:`UNetConfig` matching a store's periods, bands and classes.

    Stages come from the store's calendar (``stage`` of each period) when present, else
    consecutive pairs of periods. ``arch`` overrides any field.
    """
    man = store.manifest
    n_steps = len(man.periods)
    stages = default_stages(n_steps)
    periods = (man.calendar or {}).get("periods") or []
    names = [p.get("stage") for p in periods if isinstance(p, dict)]
    if len(names) == n_steps and all(names):
        order = list(dict.fromkeys(names))
        stages = [[i for i, s in enumerate(names) if s == name] for name in order]
    fields: dict[str, Any] = {
        "in_channels": len(bands),
        "n_periods": n_steps,
        "stages": stages,
        "n_classes": len(man.classes),
    }
    fields.update(arch)
    return UNetConfig(**fields)


def train_on_store(
    patches: Any,
    out_dir: str | Path,
    *,
    bands: Sequence[str] | None = None,
    cfg: TrainConfig | None = None,
    model: RecurrentUNet | None = None,
    norm: dict[str, dict[str, float]] | None = None,
    **arch: Any,
) -> TrainResult:
    """Train on the ``train`` split of a patch store, validating on ``val``.

    Args:
        patches: patch store folder (or ``PatchStore``).
        out_dir: model directory to write.
        bands: band names (default: all of the store's, e.g. ``["VV", "VH"]``).
        cfg: training settings.
        model: a prepared (e.g. pretrained, partly frozen) model; a fresh one otherwise.
        norm: normalization statistics to use (default: the store's train statistics;
            pass a pretrained model's own when fine-tuning).
        **arch: :class:`UNetConfig` overrides for a fresh model.
    """
    from cropmap.data import PatchDataset

    store = open_store(patches)
    man = store.manifest
    bands = [b.upper() for b in (bands or man.bands)]
    for split in ("train", "val"):
        if not store.ids(split):
            raise PatchStoreError(
                f"the patch store {store.path} has no {split!r} patches; rebuild it with "
                "`cropmap patches` and a split that gives every split some patches"
            )
    meta = meta_from_manifest(man, bands)
    if norm is not None:
        meta = meta.model_copy(update={"norm": norm})
    if model is None:
        cfg_ = cfg or TrainConfig()
        import torch

        torch.manual_seed(cfg_.seed)
        model = RecurrentUNet(unet_for_store(store, bands, **arch))
    meta.check_input(bands, len(man.periods))
    train_ds = PatchDataset(store, "train", bands=bands, norm=meta.norm)
    val_ds = PatchDataset(store, "val", bands=bands, norm=meta.norm)
    log.info("training on %d patches, validating on %d", len(train_ds), len(val_ds))
    return train_model(model, train_ds, val_ds, cfg, out_dir, meta)
