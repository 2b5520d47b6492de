"""Metrics accumulate pixel counts over the whole split and skip label 255."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cropmap.evaluate.metrics import SegmentationMetrics


def numpy_reference(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    keep = y != 255
    p, t = pred[keep], y[keep]
    tp = int(((p == 1) & (t == 1)).sum())
    fp = int(((p == 1) & (t == 0)).sum())
    fn = int(((p == 0) & (t == 1)).sum())
    tn = int(((p == 0) & (t == 0)).sum())
    n = tp + fp + fn + tn
    oa = (tp + tn) / n
    pe = ((tp + fp) * (tp + fn) + (tn + fn) * (tn + fp)) / n**2
    return {
        "iou": tp / (tp + fp + fn),
        "precision": tp / (tp + fp),
        "recall": tp / (tp + fn),
        "f1": 2 * tp / (2 * tp + fp + fn),
        "oa": oa,
        "kappa": (oa - pe) / (1 - pe),
        "cm": [[tn, fp], [fn, tp]],
    }


def test_metrics_match_pooled_counts_not_patch_means():
    rng = np.random.default_rng(0)
    # two patches of very different difficulty and size
    y1 = (rng.random((8, 8)) > 0.5).astype(np.int64)
    p1 = y1.copy()
    y2 = (rng.random((32, 32)) > 0.7).astype(np.int64)
    y2[:4] = 255
    p2 = np.where(rng.random((32, 32)) > 0.8, 1 - y2 % 2, y2 % 2)
    m = SegmentationMetrics(["other", "rice"])
    m.update(torch.from_numpy(p1), torch.from_numpy(y1))
    m.update(torch.from_numpy(p2), torch.from_numpy(y2))
    out = m.compute()
    ref = numpy_reference(
        np.concatenate([p1.ravel(), p2.ravel()]), np.concatenate([y1.ravel(), y2.ravel()])
    )
    for key in ("iou", "precision", "recall", "f1", "oa", "kappa"):
        assert out[key] == pytest.approx(ref[key], abs=1e-5), key
    assert out["confusion_matrix"] == ref["cm"]
    assert out["n_pixels"] == 64 + 32 * 28
    assert out["per_class"]["rice"]["iou"] == pytest.approx(ref["iou"], abs=1e-5)
    patch_mean = 0.5 * (1.0 + numpy_reference(p2.ravel(), y2.ravel())["iou"])
    assert abs(out["iou"] - patch_mean) > 0.01
    m.reset()
    m.update_logits(torch.full((1, 1, 2, 2), 5.0), torch.tensor([[[1, 1], [0, 255]]]))
    assert m.target_iou() == pytest.approx(2 / 3)
