"""Where and how training runs: precision, and Lightning's noise kept out of the logs."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    import lightning.pytorch as L
    from lightning.pytorch.callbacks import EarlyStopping

    from cropmap.train.config import TrainConfig


def cpu_has_bf16() -> bool:
    """Whether oneDNN runs bf16 natively on this CPU (AVX-512 bf16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def cpu_default_precision() -> str:
    """Default precision on CPU: bf16-mixed where :func:`cpu_has_bf16`, else 32-true.

    bf16-mixed (autocast + channels-last) was measured against 32-true by
    benchmarks/train.py on the 2-core development CPU (AVX-512 bf16, no AMX): x1.33-1.41
    faster per step on a quiet machine, no faster under heavy load (x1.00 at 256 px,
    x0.78 at 128 px); on a 5-minute budget it fitted 10 % more epochs and scored within
    seed noise of fp32 (docs/transfer.md, "Training speed"). Without native bf16, autocast
    emulates it and is slower than fp32.
    """
    return "bf16-mixed" if cpu_has_bf16() else "32-true"


def resolve_precision(cfg: TrainConfig) -> str:
    """``cfg.precision``, or the default: bf16-mixed on CUDA, :func:`cpu_default_precision`.

    bf16 autocast keeps fp32 master weights (the optimizer steps in fp32); on CUDA
    without bf16 it is 16-mixed.
    """
    if cfg.precision:
        return str(cfg.precision)
    on_cuda = torch.cuda.is_available() and cfg.accelerator in ("auto", "gpu", "cuda")
    if on_cuda:
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    return cpu_default_precision()


def use_channels_last(cfg: TrainConfig, precision: str) -> bool:
    """``cfg.channels_last``, or by default: with mixed precision (autocast) only."""
    if cfg.channels_last is not None:
        return bool(cfg.channels_last)
    return precision != "32-true"


@contextlib.contextmanager
def quiet_lightning() -> Iterator[None]:
    """Silence Lightning's chatter for the duration of a fit.

    Its info lines (the advertising tip, GPU/TPU/HPU availability, the model summary with
    "Total FLOPs: 0") and its advice warnings (few DataLoader workers, logging interval,
    a non-empty checkpoint folder) say nothing about the run; training reports its own
    lines through the ``cropmap.train`` logger. Lightning's warnings are still raised
    as errors by test settings that ask for that: only these known ones are filtered.
    """
    names = ("lightning", "lightning.pytorch", "lightning.fabric")
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        for pattern in (
            ".*does not have many workers.*",
            ".*smaller than the logging interval.*",
            ".*Checkpoint directory .* exists and is not empty.*",
        ):
            warnings.filterwarnings("ignore", message=pattern)
        try:
            from lightning.fabric.utilities.warnings import PossibleUserWarning

            warnings.filterwarnings("ignore", category=PossibleUserWarning)
        except ImportError:  # pragma: no cover - older Lightning
            pass
        for lg in loggers:
            lg.setLevel(logging.WARNING)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)


def stop_reason(
    trainer: L.Trainer, stop_cb: EarlyStopping, cfg: TrainConfig, elapsed_s: float
) -> str:
    """Why a fit ended: early stopping, the time budget or the epoch limit (one phrase)."""
    if getattr(stop_cb, "stopped_epoch", 0) > 0:
        return (
            f"early stopping: no validation IoU gain for {cfg.patience} epochs "
            f"(stopped after epoch {stop_cb.stopped_epoch})"
        )
    if cfg.max_time_s and elapsed_s >= cfg.max_time_s * 0.98:
        return f"time budget of {cfg.max_time_s:.0f} s spent"
    if trainer.current_epoch >= cfg.max_epochs:
        return f"max_epochs ({cfg.max_epochs}) reached"
    return "interrupted"
