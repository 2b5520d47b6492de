"""Fit the random-forest pixel baseline on a patch store and write its model directory."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cropmap.data.access import open_store, select_bands
from cropmap.data.store import PatchStore
from cropmap.errors import PatchStoreError
from cropmap.models.random_forest import IGNORE, RandomForestBaseline, pixel_features
from cropmap.models.registry import ModelMeta, save_model
from cropmap.train.meta import meta_from_manifest

log = logging.getLogger(__name__)


def collect_pixels(
    store: PatchStore,
    split: str,
    bands: Sequence[str],
    *,
    ratio: bool,
    per_patch_cap: int | None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and labels of the labelled pixels of a split (at most ``cap`` per class
    and patch, drawn at random)."""
    man = store.manifest
    fill = (man.norm if isinstance(man.norm, dict) else man.norm.model_dump()).get("mean", {})
    feats, labels = [], []
    for pid in store.ids(split):
        x, y = store.read(pid)
        x = select_bands(np.asarray(x), man.bands, bands)
        f = pixel_features(x, bands, ratio=ratio, fill=fill)
        yy = np.asarray(y).ravel()
        keep = []
        for c in np.unique(yy):
            if c == IGNORE:
                continue
            idx = np.flatnonzero(yy == c)
            if per_patch_cap is not None and idx.size > per_patch_cap:
                idx = rng.choice(idx, per_patch_cap, replace=False)
            keep.append(idx)
        if keep:
            k = np.concatenate(keep)
            feats.append(f[k])
            labels.append(yy[k])
    if not feats:
        raise PatchStoreError(
            f"split {split!r} of {getattr(store, 'path', store)} has no labelled pixels"
        )
    return np.concatenate(feats), np.concatenate(labels)


def train_baseline(
    patches: Any,
    out_dir: str | Path,
    *,
    bands: Sequence[str] | None = None,
    split: str = "train",
    ratio: bool = False,
    n_estimators: int = 100,
    max_depth: int | None = 16,
    max_samples_per_class: int | None = 50_000,
    n_jobs: int = 2,
    seed: int = 0,
) -> tuple[RandomForestBaseline, ModelMeta]:
    """Fit :class:`RandomForestBaseline` on a store's split and write its model directory.

    Args:
        patches: patch store folder (or a ``PatchStore``).
        out_dir: model directory to write (``forest.safetensors`` + ``model.json``).
        bands: band names to use (default: all bands of the store).
        split: split to fit on.
        ratio: add the ``VH_dB - VV_dB`` features (needs VV and VH).
        n_estimators, max_depth, max_samples_per_class, n_jobs, seed: forest settings.

    Returns:
        The fitted model and the metadata written.
    """
    store = open_store(patches)
    man = store.manifest
    bands = list(bands or man.bands)
    rng = np.random.default_rng(seed)
    n = max(len(store.ids(split)), 1)
    per_patch = None
    if max_samples_per_class is not None:
        per_patch = max(4 * max_samples_per_class // n, 64)
    t0 = time.perf_counter()
    X, y = collect_pixels(store, split, bands, ratio=ratio, per_patch_cap=per_patch, rng=rng)
    rf = RandomForestBaseline(
        n_estimators=n_estimators,
        max_depth=max_depth,
        max_samples_per_class=max_samples_per_class,
        ratio=ratio,
        n_jobs=n_jobs,
        random_state=seed,
    ).fit(X, y)
    elapsed = time.perf_counter() - t0
    log.info("random forest fitted on %d pixels in %.1f s", rf.n_samples_fit_, elapsed)
    meta = meta_from_manifest(man, bands).model_copy(
        update={"history": [{"fit_pixels": rf.n_samples_fit_, "fit_seconds": round(elapsed, 2)}]}
    )
    save_model(out_dir, rf, meta)
    return rf, meta
