"""Train a Recurrent U-Net into a model directory (:class:`TrainConfig`, :func:`train_model`).

``train_model`` runs Lightning with early stopping on the validation IoU, writes
``out_dir/checkpoints/{best,last}.ckpt`` (Lightning checkpoints, for resuming),
``out_dir/logs/version_*/metrics.csv``, ``out_dir/learning_curves.png``,
``out_dir/train_config.json`` and finally the model directory files
(``weights.safetensors`` + ``model.json``, best epoch's weights).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch

from cropmap.io.atomic import atomic_write_text
from cropmap.models.registry import ModelMeta, save_model
from cropmap.train.augment import Augment, AugmentConfig
from cropmap.train.config import TrainConfig
from cropmap.train.history import plot_learning_curves, read_history
from cropmap.train.runtime import (
    quiet_lightning,
    resolve_precision,
    stop_reason,
    use_channels_last,
)

log = logging.getLogger(__name__)


@dataclasses.dataclass
class TrainResult:
    """What :func:`train_model` produced."""

    model_dir: Path
    model: torch.nn.Module
    meta: ModelMeta
    best_val_iou: float | None
    best_epoch: int | None
    epochs_run: int
    elapsed_s: float
    history: list[dict[str, Any]]
    best_checkpoint: Path | None
    stop_reason: str = ""


class _Augmented(torch.utils.data.Dataset):
    """Random crop and :class:`Augment` of each ``(x, y)`` of a dataset (seeded per process)."""

    def __init__(self, base: Any, config: AugmentConfig | None, crop: int | None) -> None:
        self.base = base
        self.config = config
        self.crop = crop
        self.aug: Augment | None = None

    def __len__(self) -> int:
        return len(self.base)

    def ensure_augment(self) -> Augment:
        """The augmentation, created on first use (seeded from the process's torch seed)."""
        if self.aug is None:
            off = AugmentConfig(shift_prob=0.0, flips=False, rotations=False)
            self.aug = Augment(self.config or off, seed=torch.initial_seed() % (2**32))
        return self.aug

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        aug = self.ensure_augment()
        x, y = self.base[i]
        if self.crop is not None and self.crop < min(y.shape[-2:]):
            h, w = y.shape[-2:]
            r = int(aug.rng.integers(0, h - self.crop + 1))
            c = int(aug.rng.integers(0, w - self.crop + 1))
            x, y = (
                x[..., r : r + self.crop, c : c + self.crop],
                y[r : r + self.crop, c : c + self.crop],
            )
        return aug(x, y)


def _progress_callbacks(kind: str) -> list[Any]:
    if kind == "rich":
        from lightning.pytorch.callbacks import RichProgressBar

        return [RichProgressBar()]
    if kind == "tqdm":
        from lightning.pytorch.callbacks import TQDMProgressBar

        return [TQDMProgressBar()]
    return []


def _load_lightning_weights(model: torch.nn.Module, ckpt: Path) -> None:
    """Copy the ``model.*`` weights of a Lightning checkpoint into ``model`` (no unpickling)."""
    state = torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"]
    own = {k[len("model.") :]: v for k, v in state.items() if k.startswith("model.")}
    model.load_state_dict(own, strict=True)


def train_model(
    model: torch.nn.Module,
    train_ds: Any,
    val_ds: Any,
    cfg: TrainConfig | None = None,
    out_dir: str | Path = "model",
    meta: ModelMeta | None = None,
) -> TrainResult:
    """Train ``model`` with chronological batches and write a model directory.

    Only parameters with ``requires_grad=True`` are optimised (transfer strategies freeze
    the others before calling). ``cfg.lr_scale`` gives per-prefix learning rates.

    Args:
        model: a :class:`RecurrentUNet` (fresh or pretrained).
        train_ds: dataset of ``(x (T, C, H, W) float, y (H, W) int64)``, e.g.
            ``PatchDataset(store, "train", bands=...)`` without its own augmentation
            (``cfg.augment`` is applied here).
        val_ds: validation dataset (no augmentation).
        cfg: training settings (defaults when ``None``).
        out_dir: the model directory to write (checkpoints and logs go inside).
        meta: bands, periods, calendar, norm, classes and target of the data; ``arch``,
            ``history`` and the weights hash are filled in.

    Returns:
        :class:`TrainResult` with the best epoch's model loaded.
    """
    import lightning as L
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger

    from cropmap.train.checkpoint import RandomState
    from cropmap.train.module import EpochLog, SegmentationModule

    cfg = cfg or TrainConfig()
    meta = meta or ModelMeta()
    out_dir = Path(out_dir)
    ckpt_dir = out_dir / "checkpoints"
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "train_config.json", cfg.model_dump_json(indent=2) + "\n")
    L.seed_everything(cfg.seed, workers=True, verbose=False)

    if cfg.crop_size is not None and cfg.crop_size % 16:
        raise ValueError(f"crop_size must be a multiple of 16, got {cfg.crop_size}")
    train_data = train_ds
    if cfg.augment is not None or cfg.crop_size is not None:
        train_data = _Augmented(train_ds, cfg.augment, cfg.crop_size)
    loader_kw: dict[str, Any] = {
        "batch_size": cfg.batch_size,
        "num_workers": cfg.num_workers,
        # workers restart every epoch, seeded from torch's generator (saved in checkpoints),
        # so a resumed run draws the same augmentations as an uninterrupted one
        "persistent_workers": False,
    }
    train_dl = torch.utils.data.DataLoader(train_data, shuffle=True, **loader_kw)
    val_dl = torch.utils.data.DataLoader(val_ds, shuffle=False, **loader_kw)

    # train_model returns its model in eval mode; a later phase (LP_FT) or a caller's
    # eval() must not leave dropout and batch norm in inference mode while training
    # (Lightning keeps the modes it finds). Frozen batch norms are put back per epoch.
    model.train()
    precision = resolve_precision(cfg)
    channels_last = use_channels_last(cfg, precision)
    if channels_last:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    module = SegmentationModule(model, cfg, meta.classes, meta.target_index)
    if cfg.recalibrate_bn:  # full-season, unaugmented, unshuffled: consumes no random numbers
        module.recalibration_loader = torch.utils.data.DataLoader(
            train_ds, shuffle=False, generator=torch.Generator().manual_seed(cfg.seed), **loader_kw
        )
    best_cb = ModelCheckpoint(
        dirpath=ckpt_dir,
        filename="best",
        monitor="val_iou",
        mode="max",
        save_last=True,
        enable_version_counter=False,
    )
    stop_cb = EarlyStopping(
        monitor="val_iou", mode="max", patience=cfg.patience, min_delta=cfg.min_delta
    )
    on_cuda = cfg.accelerator in ("gpu", "cuda") or (
        cfg.accelerator == "auto" and torch.cuda.is_available()
    )
    csv_logger = CSVLogger(
        str(out_dir), name="logs", flush_logs_every_n_steps=cfg.log_every_n_steps
    )
    run_log_dir = Path(csv_logger.log_dir)  # fixes the version before any DDP spawn
    last = ckpt_dir / "last.ckpt"
    ckpt_path = None
    if cfg.resume:
        if last.is_file():
            ckpt_path = str(last)
            log.info("resuming from %s", last)
        else:
            log.warning("resume asked but %s does not exist: starting fresh", last)
    if ckpt_path is None:  # a fresh run must never pick up an earlier run's checkpoints
        for stale in (ckpt_dir / "best.ckpt", last):
            stale.unlink(missing_ok=True)
    log.info(
        "training %s parameters on %d patches (%s, %s), validating on %d",
        f"{sum(p.numel() for p in model.parameters() if p.requires_grad):,}",
        len(train_ds),
        precision,
        "channels-last" if channels_last else "NCHW",
        len(val_ds),
    )
    t0 = time.perf_counter()
    with quiet_lightning():  # Lightning talks from the Trainer's constructor on
        trainer = L.Trainer(
            max_epochs=cfg.max_epochs,
            max_time=timedelta(seconds=cfg.max_time_s) if cfg.max_time_s else None,
            accelerator=cfg.accelerator,
            devices=cfg.devices,
            strategy=cfg.strategy,
            precision=precision,  # type: ignore[arg-type]
            deterministic="warn" if on_cuda and cfg.deterministic else cfg.deterministic,
            callbacks=[
                best_cb,
                stop_cb,
                EpochLog(),
                RandomState(),
                *_progress_callbacks(cfg.progress),
            ],
            logger=csv_logger,
            enable_progress_bar=cfg.progress != "none",
            enable_model_summary=False,  # its "Total FLOPs: 0"; parameter counts are logged
            num_sanity_val_steps=0,
            log_every_n_steps=cfg.log_every_n_steps,
            limit_train_batches=cfg.limit_train_batches,
            default_root_dir=str(out_dir),
        )
        trainer.fit(module, train_dl, val_dl, ckpt_path=ckpt_path)
    elapsed = time.perf_counter() - t0
    reason = stop_reason(trainer, stop_cb, cfg, elapsed)

    best = ckpt_dir / "best.ckpt"
    model = module.model.cpu()
    model.to(memory_format=torch.contiguous_format)  # type: ignore[call-overload]
    if best.is_file():
        _load_lightning_weights(model, best)
    model.eval()
    history = read_history(out_dir / "logs" if ckpt_path else run_log_dir)
    ious = [(r["val_iou"], r["epoch"]) for r in history if "val_iou" in r]
    best_iou, best_epoch = max(ious) if ious else (None, None)
    log.info(
        "training stopped: %s; %d epochs in %.0f s, best validation IoU %s",
        reason,
        len(history),
        elapsed,
        "n/a" if best_iou is None else f"{best_iou:.4f} at epoch {best_epoch}",
    )
    if history:
        plot_learning_curves(history, out_dir / "learning_curves.png")
    meta = meta.model_copy(update={"history": history, "train_config": cfg.model_dump(mode="json")})
    save_model(out_dir, model, meta)
    from cropmap.models.registry import read_meta

    return TrainResult(
        model_dir=out_dir,
        model=model,
        meta=read_meta(out_dir),
        best_val_iou=best_iou,
        best_epoch=best_epoch,
        epochs_run=len(history),
        elapsed_s=elapsed,
        history=history,
        best_checkpoint=best if best.is_file() else None,
        stop_reason=reason,
    )
