"""Segmentation metrics accumulated over a whole split (torchmetrics).

Pixel counts are summed over every patch before any ratio is taken, so a small patch
weighs as much as its pixels (not as much as a large one). Pixels labelled
``ignore_index`` (255) are skipped. Under DDP, torchmetrics sums the states across
processes before computing.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torchmetrics import MetricCollection
from torchmetrics.classification import (
    MulticlassAccuracy,
    MulticlassCohenKappa,
    MulticlassConfusionMatrix,
    MulticlassF1Score,
    MulticlassJaccardIndex,
    MulticlassPrecision,
    MulticlassRecall,
)


def logits_to_classes(logits: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Class map ``(B, H, W)`` from logits ``(B, 1, H, W)`` (sigmoid) or ``(B, K, H, W)``."""
    if logits.shape[1] == 1:
        return (torch.sigmoid(logits[:, 0]) > threshold).long()
    return logits.argmax(dim=1)


class SegmentationMetrics(nn.Module):
    """Target-class IoU, F1, precision, recall, OA, Cohen's kappa, per class, confusion matrix.

    Args:
        classes: class names; label value ``i`` is ``classes[i]``.
        target_index: label value of the target crop (its IoU is the headline figure).
        ignore_index: label value that is not scored.
    """

    def __init__(self, classes: list[str], target_index: int = 1, ignore_index: int = 255):
        super().__init__()
        self.classes = list(classes)
        self.target_index = target_index
        n = len(self.classes)
        kw: dict[str, Any] = {"num_classes": n, "ignore_index": ignore_index}
        self.jaccard = MulticlassJaccardIndex(average="none", **kw)
        self.others = MetricCollection(
            {
                "f1": MulticlassF1Score(average="none", **kw),
                "precision": MulticlassPrecision(average="none", **kw),
                "recall": MulticlassRecall(average="none", **kw),
                "oa": MulticlassAccuracy(average="micro", **kw),
                "kappa": MulticlassCohenKappa(**kw),
                "confusion_matrix": MulticlassConfusionMatrix(**kw),
            },
            compute_groups=False,
        )

    def update(self, preds: torch.Tensor, target: torch.Tensor) -> None:
        """Add class maps ``preds`` and labels ``target`` (same shape, integer)."""
        preds, target = preds.reshape(-1).long(), target.reshape(-1).long()
        self.jaccard.update(preds, target)
        self.others.update(preds, target)

    def update_logits(self, logits: torch.Tensor, target: torch.Tensor) -> None:
        """Add logits ``(B, 1 or K, H, W)`` and labels ``(B, H, W)``."""
        self.update(logits_to_classes(logits), target)

    def update_probs(
        self, prob: torch.Tensor, target: torch.Tensor, threshold: float = 0.5
    ) -> None:
        """Add target probabilities ``(..., H, W)`` (binary) and labels of the same shape."""
        self.update((prob > threshold).long(), target)

    def target_iou(self) -> float:
        """IoU of the target class over everything added so far."""
        return float(self.jaccard.compute()[self.target_index])

    def reset(self) -> None:
        """Forget everything added."""
        self.jaccard.reset()
        self.others.reset()

    def compute(self) -> dict[str, Any]:
        """All figures as plain Python numbers (JSON-ready)."""
        iou = self.jaccard.compute().cpu()
        rest = {k: v.cpu() for k, v in self.others.compute().items()}
        cm = rest["confusion_matrix"].long()
        t = self.target_index
        per_class = {
            name: {
                "iou": float(iou[i]),
                "f1": float(rest["f1"][i]),
                "precision": float(rest["precision"][i]),
                "recall": float(rest["recall"][i]),
                "support": int(cm[i].sum()),
            }
            for i, name in enumerate(self.classes)
        }
        return {
            "target": self.classes[t],
            "iou": float(iou[t]),
            "f1": float(rest["f1"][t]),
            "precision": float(rest["precision"][t]),
            "recall": float(rest["recall"][t]),
            "oa": float(rest["oa"]),
            "kappa": float(rest["kappa"]),
            "mean_iou": float(iou.mean()),
            "n_pixels": int(cm.sum()),
            "per_class": per_class,
            "confusion_matrix": cm.tolist(),
        }
