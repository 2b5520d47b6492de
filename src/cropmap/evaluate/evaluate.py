"""Evaluate a model directory (Recurrent U-Net or random forest) on a patch-store split.

Metrics are accumulated over every pixel of the split (:class:`SegmentationMetrics`).
``n_periods=k`` evaluates an early-season map: only the first ``k`` periods are given and
the rest are filled by time-inversed padding (the model's ``time_padding``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cropmap.errors import ModelFileError, PatchStoreError
from cropmap.evaluate.metrics import SegmentationMetrics
from cropmap.io.atomic import atomic_write_text
from cropmap.models.registry import ModelMeta, load_model
from cropmap.models.time_padding import pad_time

log = logging.getLogger(__name__)


@dataclasses.dataclass
class PatchPrediction:
    """Prediction for one patch.

    Attributes:
        index: position in the dataset.
        patch_id: the store's patch id when known, else ``None``.
        prob: ``(H, W)`` target-class probability (two classes) or ``(K, H, W)``.
        label: ``(H, W)`` uint8 labels (255 = ignore).
    """

    index: int
    patch_id: str | None
    prob: np.ndarray
    label: np.ndarray


def _device(device: str | None) -> torch.device:
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def predict_dataset(
    model: torch.nn.Module,
    dataset: Any,
    *,
    batch_size: int = 4,
    n_periods: int | None = None,
    device: str | None = None,
) -> Iterator[PatchPrediction]:
    """Yield per-patch probabilities of a Recurrent U-Net over a dataset, in order.

    Args:
        model: the network (set to eval mode here).
        dataset: yields ``(x (T, C, H, W), y (H, W))`` like ``PatchDataset``.
        batch_size: patches per forward pass.
        n_periods: use only the first ``k`` periods (early season; padded by the model).
        device: torch device (CUDA when available by default).
    """
    dev = _device(device)
    model = model.to(dev).eval()
    ids = list(getattr(dataset, "ids", None) or [])
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)
    i = 0
    with torch.inference_mode():
        for x, y in loader:
            x = x.to(dev, non_blocking=True)
            if n_periods is not None:
                x = x[:, :n_periods]
            logits = model(x).float()
            prob = torch.sigmoid(logits[:, 0]) if logits.shape[1] == 1 else logits.softmax(1)
            for p, lab in zip(prob.cpu().numpy(), y.numpy(), strict=True):
                pid = str(ids[i]) if i < len(ids) else None
                yield PatchPrediction(i, pid, p.astype(np.float32), lab.astype(np.uint8))
                i += 1


def predict_forest(
    model: Any, meta: ModelMeta, store: Any, split: str, *, n_periods: int | None = None
) -> Iterator[PatchPrediction]:
    """Yield per-patch target probabilities of a random-forest model over a store split."""
    from cropmap.data.access import select_bands
    from cropmap.models.random_forest import pixel_features

    fill = meta.norm.get("mean", {})
    target = meta.target_index
    for i, pid in enumerate(store.ids(split)):
        x, y = store.read(pid)
        x = select_bands(np.asarray(x, dtype=np.float32), store.manifest.bands, meta.bands)
        if n_periods is not None:
            x = pad_time(x[:n_periods], x.shape[0], "tip", time_dim=0)
        h, w = x.shape[-2:]
        feats = pixel_features(x, meta.bands, ratio=bool(meta.arch.get("ratio")), fill=fill)
        proba = model.class_probabilities(feats, len(meta.classes))
        if len(meta.classes) == 2:
            prob = proba[:, target].reshape(h, w)
        else:
            prob = proba.T.reshape(len(meta.classes), h, w)
        yield PatchPrediction(i, str(pid), prob.astype(np.float32), np.asarray(y, np.uint8))


def _check_store(meta: ModelMeta, store: Any, n_periods: int | None) -> None:
    man = store.manifest
    missing = [b for b in meta.bands if b not in man.bands]
    if missing:
        raise ModelFileError(
            f"the model needs band(s) {missing} but the patch store has {list(man.bands)}; "
            "evaluate on a store with those bands or use a model trained on the store's bands"
        )
    meta.check_input(meta.bands, len(man.periods), allow_early=False)
    if n_periods is not None and not 1 <= n_periods <= len(man.periods):
        raise PatchStoreError(f"n_periods must be in 1..{len(man.periods)}, got {n_periods}")


def evaluate_model(
    model: Any,
    meta: ModelMeta,
    patches: Any,
    split: str = "test",
    *,
    n_periods: int | None = None,
    batch_size: int = 4,
    device: str | None = None,
) -> dict[str, Any]:
    """Metrics of an in-memory model (U-Net or forest) on a store split.

    Returns:
        The :meth:`SegmentationMetrics.compute` figures plus ``split``, ``n_patches``,
        ``n_periods`` and ``kind``.
    """
    from cropmap.data.access import open_store

    store = open_store(patches)
    _check_store(meta, store, n_periods)
    if not store.ids(split):
        raise PatchStoreError(f"split {split!r} of the patch store is empty")
    metrics = SegmentationMetrics(meta.classes, meta.target_index, ignore_index=255)
    if meta.kind == "random_forest":
        preds = predict_forest(model, meta, store, split, n_periods=n_periods)
    else:
        from cropmap.data import PatchDataset

        ds = PatchDataset(store, split=split, bands=meta.bands, norm=meta.norm or None)
        preds = predict_dataset(
            model, ds, batch_size=batch_size, n_periods=n_periods, device=device
        )
    n = 0
    for pred in preds:
        prob = torch.from_numpy(pred.prob)
        label = torch.from_numpy(pred.label.astype(np.int64))
        if prob.ndim == 2:
            t = meta.target_index
            cls = torch.where(prob > 0.5, t, 1 - t).long()
        else:
            cls = prob.argmax(0)
        metrics.update(cls, label)
        n += 1
    report = metrics.compute()
    report.update(
        {
            "kind": meta.kind,
            "split": split,
            "n_patches": n,
            "n_periods": n_periods or len(store.manifest.periods),
        }
    )
    return report


def evaluate(
    model_dir: str | Path,
    patches: str | Path,
    split: str = "test",
    *,
    n_periods: int | None = None,
    batch_size: int = 4,
    device: str | None = None,
    out_json: str | Path | None = None,
) -> dict[str, Any]:
    """Load a model directory and evaluate it on ``patches``' ``split``.

    Args:
        model_dir: folder with ``model.json`` (U-Net or random forest).
        patches: patch store folder.
        split: ``train``, ``val`` or ``test``.
        n_periods: early-season evaluation with the first ``k`` periods only.
        batch_size: patches per forward pass.
        device: torch device (CUDA when available by default).
        out_json: also write the report here (atomically).

    Returns:
        The report dict (see :func:`evaluate_model`) plus ``model`` and ``patches``.
    """
    model, meta = load_model(model_dir)
    report = evaluate_model(
        model, meta, patches, split, n_periods=n_periods, batch_size=batch_size, device=device
    )
    report = {"model": str(model_dir), "patches": str(patches), **report}
    if out_json is not None:
        atomic_write_text(out_json, json.dumps(report, indent=2) + "\n")
    return report
