"""Segmentation losses with an ignore value (registry :data:`LOSSES`).

All take logits ``(B, 1, H, W)`` (two classes) or ``(B, K, H, W)`` and integer labels
``(B, H, W)`` where ``ignore_index`` (255) pixels do not count. ``pos_weight`` weighs the
target class in BCE (``> 1`` favours recall of a rare crop); ``class_weights`` does the
same per class for ``K > 2``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.nn import functional as F

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _binary_parts(
    logits: torch.Tensor, y: torch.Tensor, ignore_index: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Target-class logits ``(B, H, W)``, 0/1 target and 0/1 valid mask (logits' dtype)."""
    valid = y != ignore_index
    target = (y == 1).to(logits.dtype)
    return logits[:, 0], target, valid.to(logits.dtype)


def bce_loss(
    logits: torch.Tensor,
    y: torch.Tensor,
    *,
    pos_weight: float | None = None,
    class_weights: Sequence[float] | None = None,
    ignore_index: int = 255,
) -> torch.Tensor:
    """Binary cross-entropy (or cross-entropy for ``K > 2``) over the valid pixels."""
    if logits.shape[1] > 1:
        w = None if class_weights is None else logits.new_tensor(list(class_weights))
        if not (y != ignore_index).any():
            return logits.sum() * 0.0
        return F.cross_entropy(logits.float(), y.long(), weight=w, ignore_index=ignore_index)
    z, t, valid = _binary_parts(logits.float(), y, ignore_index)
    pw = None if pos_weight is None else z.new_tensor(float(pos_weight))
    per_px = F.binary_cross_entropy_with_logits(z, t, pos_weight=pw, reduction="none")
    return (per_px * valid).sum() / valid.sum().clamp_min(1.0)


def dice_loss(
    logits: torch.Tensor,
    y: torch.Tensor,
    *,
    ignore_index: int = 255,
    smooth: float = 1.0,
    **_: object,
) -> torch.Tensor:
    """Soft Dice loss of the target class (mean over classes for ``K > 2``)."""
    logits = logits.float()
    valid = (y != ignore_index).unsqueeze(1).to(logits.dtype)
    if logits.shape[1] == 1:
        prob = torch.sigmoid(logits)
        onehot = (y == 1).unsqueeze(1).to(logits.dtype)
    else:
        prob = torch.softmax(logits, dim=1)
        y_safe = torch.where(y == ignore_index, torch.zeros_like(y), y).long()
        onehot = F.one_hot(y_safe, logits.shape[1]).permute(0, 3, 1, 2).to(logits.dtype)
    prob, onehot = prob * valid, onehot * valid
    inter = (prob * onehot).sum(dim=(0, 2, 3))
    denom = prob.sum(dim=(0, 2, 3)) + onehot.sum(dim=(0, 2, 3))
    return (1.0 - (2.0 * inter + smooth) / (denom + smooth)).mean()


def bce_dice_loss(logits: torch.Tensor, y: torch.Tensor, **kwargs: Any) -> torch.Tensor:
    """Sum of :func:`bce_loss` and :func:`dice_loss`."""
    return bce_loss(logits, y, **kwargs) + dice_loss(logits, y, **kwargs)


LOSSES: dict[str, Callable[..., torch.Tensor]] = {
    "bce": bce_loss,
    "dice": dice_loss,
    "bce+dice": bce_dice_loss,
}


def make_loss(
    name: str,
    *,
    pos_weight: float | None = None,
    class_weights: Sequence[float] | None = None,
    ignore_index: int = 255,
) -> LossFn:
    """The loss ``name`` from :data:`LOSSES` with its options bound."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; valid: {', '.join(LOSSES)}")
    return functools.partial(  # a partial (not a closure) pickles for spawned DDP workers
        LOSSES[name], pos_weight=pos_weight, class_weights=class_weights, ignore_index=ignore_index
    )
