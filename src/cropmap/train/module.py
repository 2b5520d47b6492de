"""Lightning module: chronological batch training of a segmentation model.

Training batches are cut to the first ``k`` periods by :class:`ChronologicalSchedule`
and padded back (time-inversed padding); validation always uses all periods. The
validation IoU of the target class (``val_iou``, accumulated over the whole split) drives
early stopping and the best checkpoint.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

import lightning as L
import torch
from torch import nn

from cropmap.models.batchnorm import recalibrate_batchnorm
from cropmap.train.chronological import ChronologicalSchedule, chronological_batch
from cropmap.train.losses import make_loss

if TYPE_CHECKING:
    from cropmap.models.recurrent_unet import RecurrentUNet

log = logging.getLogger("cropmap.train.trainer")


class TargetIoU(nn.Module):
    """IoU of the target class accumulated over a whole split (validation during training).

    Pixel counts are summed over every batch before the ratio is taken (torchmetrics,
    summed across processes under DDP); ``ignore_index`` pixels are skipped. The full
    metric set lives in :mod:`cropmap.evaluate.metrics`, a layer above training.
    """

    def __init__(self, n_classes: int, target_index: int = 1, ignore_index: int = 255) -> None:
        super().__init__()
        from torchmetrics.classification import MulticlassJaccardIndex

        self.target_index = target_index
        self.jaccard = MulticlassJaccardIndex(
            num_classes=n_classes, average="none", ignore_index=ignore_index
        )

    def update_logits(self, logits: torch.Tensor, target: torch.Tensor) -> None:
        """Add logits ``(B, 1 or K, H, W)`` (sigmoid or softmax) and labels ``(B, H, W)``."""
        # two classes: sigmoid(z) > 0.5, i.e. z > 0
        preds = (logits[:, 0] > 0).long() if logits.shape[1] == 1 else logits.argmax(dim=1)
        self.jaccard.update(preds.reshape(-1), target.reshape(-1).long())

    def target_iou(self) -> float:
        """IoU of the target class over everything added since the last reset."""
        return float(self.jaccard.compute()[self.target_index])

    def reset(self) -> None:
        """Forget everything added."""
        self.jaccard.reset()


class EpochLog(L.Callback):
    """Log each epoch's losses and validation IoU through :mod:`logging` (rank 0)."""

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_rank != 0:
            return
        m = {k: float(v) for k, v in trainer.callback_metrics.items()}
        parts = [f"{k} {m[k]:.4f}" for k in ("train_loss", "val_loss", "val_iou") if k in m]
        log.info("epoch %d: %s", trainer.current_epoch, ", ".join(parts))


def param_groups(
    model: nn.Module, lr: float, lr_scale: dict[str, float] | None = None
) -> list[dict[str, Any]]:
    """Optimizer parameter groups of the trainable parameters.

    Args:
        model: the network; parameters with ``requires_grad=False`` are left out.
        lr: base learning rate.
        lr_scale: parameter-name prefix -> factor of ``lr`` (longest matching prefix
            wins), e.g. ``{"encoder.": 0.1}``; unmatched parameters use ``lr``.

    Returns:
        One group per distinct learning rate (empty groups dropped).
    """
    scales = sorted((lr_scale or {}).items(), key=lambda kv: -len(kv[0]))
    groups: dict[float, list[nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        factor = next((f for prefix, f in scales if name.startswith(prefix)), 1.0)
        groups.setdefault(float(factor), []).append(p)
    return [{"params": ps, "lr": lr * f} for f, ps in groups.items() if f > 0]


class SegmentationModule(L.LightningModule):
    """Wraps a :class:`RecurrentUNet` with the loss, CBT schedule, metrics and optimizer.

    Args:
        model: the network (may be pretrained and partly frozen).
        cfg: a :class:`cropmap.train.trainer.TrainConfig`.
        classes: class names (index = label value).
        target_index: label value of the target crop.
    """

    def __init__(
        self, model: nn.Module, cfg: Any, classes: list[str], target_index: int = 1
    ) -> None:
        super().__init__()
        self.model = model
        self.cfg = cfg
        n_steps = int(cast("RecurrentUNet", model).config.n_periods)  # a Recurrent U-Net
        self.schedule = ChronologicalSchedule(n_steps, cfg.cbt_min_steps, enabled=cfg.cbt)
        self.loss_fn = make_loss(
            cfg.loss,
            pos_weight=cfg.pos_weight,
            class_weights=cfg.class_weights,
            ignore_index=cfg.ignore_index,
        )
        self._t_start: float | None = None
        #: full-season training batches for ``cfg.recalibrate_bn`` (set by train_model)
        self.recalibration_loader: Iterable[Any] | None = None
        self.val_metrics = TargetIoU(
            max(len(classes), 2), target_index=target_index, ignore_index=cfg.ignore_index
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def on_train_epoch_start(self) -> None:
        # Batch norm of fully frozen layers keeps its pretrained running statistics;
        # with freeze_bn_stats, every batch norm does (its affine weights still train).
        if not (self.cfg.freeze_frozen_bn or self.cfg.freeze_bn_stats):
            return
        for mod in self.model.modules():
            if not isinstance(mod, nn.modules.batchnorm._BatchNorm):
                continue
            if self.cfg.freeze_bn_stats:
                mod.eval()
            elif self.cfg.freeze_frozen_bn:
                params = list(mod.parameters())
                if params and not any(p.requires_grad for p in params):
                    mod.eval()

    def training_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
    ) -> torch.Tensor:
        x, y = batch
        n = self.trainer.num_training_batches
        k = self.schedule.steps_for(batch_idx, int(n) if math.isfinite(n) else None)
        if k < x.shape[1]:
            x = chronological_batch(x, k, self.cfg.time_padding)
        loss = self.loss_fn(self.model(x), y)
        self.log(
            "train_loss", loss, on_step=False, on_epoch=True, batch_size=x.shape[0], sync_dist=True
        )
        return loss

    def on_validation_epoch_start(self) -> None:
        n = int(getattr(self.cfg, "recalibrate_bn", 0) or 0)
        if not n or self.recalibration_loader is None:
            return
        batches = itertools.islice(iter(self.recalibration_loader), n)
        with self.trainer.precision_plugin.forward_context():
            recalibrate_batchnorm(self.model, batches, self.device)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        logits = self.model(x)
        loss = self.loss_fn(logits, y)
        self.log(
            "val_loss", loss, on_step=False, on_epoch=True, batch_size=x.shape[0], sync_dist=True
        )
        self.val_metrics.update_logits(logits.float(), y)

    def on_validation_epoch_end(self) -> None:
        iou = self.val_metrics.target_iou()
        self.log("val_iou", iou, prog_bar=True, sync_dist=False)
        self.val_metrics.reset()

    def configure_optimizers(self) -> torch.optim.Optimizer:
        cfg = self.cfg
        groups = param_groups(self.model, cfg.lr, cfg.lr_scale)
        if not groups:
            raise ValueError("no trainable parameters: every parameter has requires_grad=False")
        opt: torch.optim.Optimizer
        if cfg.optimizer == "adam":
            opt = torch.optim.Adam(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
        elif cfg.optimizer == "adamw":
            opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
        else:
            opt = torch.optim.SGD(groups, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
        for g in opt.param_groups:
            g["base_lr"] = g["lr"]
        return opt

    def training_progress(self) -> float:
        """Fraction of the budget spent: the larger of steps/max steps and time/max time."""
        frac = self.global_step / max(self.trainer.estimated_stepping_batches, 1)
        if self.cfg.max_time_s and self._t_start is not None:
            frac = max(frac, (time.monotonic() - self._t_start) / self.cfg.max_time_s)
        return min(frac, 1.0)

    def on_train_start(self) -> None:
        self._t_start = time.monotonic()

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        # cosine decay to 5 % of the lr over the epoch or wall-clock budget, whichever ends first
        opt = self.trainer.optimizers[0]
        if self.cfg.scheduler == "cosine":
            factor = 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * self.training_progress()))
            for g in opt.param_groups:
                g["lr"] = g["base_lr"] * factor
        self.log("lr", opt.param_groups[0]["lr"], on_step=False, on_epoch=True, batch_size=1)
