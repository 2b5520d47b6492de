"""Batch-norm statistics re-estimated on new inputs (a target region, an early season).

Pure torch: used by fine-tuning (``recalibrate_bn``), by the early-season curve of the
experiments and by ``predict --periods`` (statistics of the input's own first periods).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn


def recalibrate_batchnorm(
    model: nn.Module,
    batches: Iterable[Any],
    device: torch.device | str = "cpu",
    *,
    trainable_only: bool = True,
) -> int:
    """Re-estimate the running statistics of every trainable batch norm of ``model``.

    Each such layer's statistics are reset and recomputed as the plain average over
    ``batches`` (``(x, y)`` pairs, ``x`` ``(B, T, C, H, W)``), with dropout off and no
    gradient. Batch norms whose parameters are all frozen keep their statistics (a
    frozen group computes what it computed when pretrained), unless ``trainable_only``
    is False: then every batch norm is re-estimated. Module modes are restored.

    Returns:
        The number of batch-norm layers re-estimated.
    """
    bns = [
        m
        for m in model.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm)
        and (not trainable_only or any(p.requires_grad for p in m.parameters(recurse=False)))
    ]
    if not bns:
        return 0
    modes = {m: m.training for m in model.modules()}
    momenta = {m: m.momentum for m in bns}
    model.eval()
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches
        m.train()
    with torch.no_grad():
        for x, _ in batches:
            model(x.to(device))
    for m, momentum in momenta.items():
        m.momentum = momentum
    for mod, mode in modes.items():
        mod.training = mode
    return len(bns)
