"""Training settings (:class:`TrainConfig`, and fine-tuning's defaults :class:`FinetuneConfig`):
pydantic only, so reading the defaults (the CLI's option defaults, experiment configs)
imports neither torch nor Lightning."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cropmap.train.augment import AugmentConfig


class TrainConfig(BaseModel):
    """Hyperparameters and run settings of :func:`train_model` (CPU-friendly defaults)."""

    model_config = ConfigDict(extra="forbid")

    max_epochs: int = Field(40, ge=1)
    batch_size: int = Field(2, ge=1)
    lr: float = Field(2e-3, gt=0)
    lr_scale: dict[str, float] = Field(
        default_factory=dict,
        description="parameter-name prefix -> lr factor, e.g. {'encoder.': 0.1} (LP_FT)",
    )
    weight_decay: float = Field(0.0, ge=0)
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    scheduler: Literal["none", "cosine"] = Field(
        "cosine", description="cosine: decay lr over max_epochs or max_time_s, whichever ends first"
    )
    loss: Literal["bce", "dice", "bce+dice"] = "bce+dice"
    pos_weight: float | None = Field(None, gt=0, description="BCE weight of the target class")
    class_weights: list[float] | None = None
    ignore_index: int = 255
    cbt: bool = Field(True, description="chronological batch training (steps 1..T cycle)")
    cbt_min_steps: int = Field(1, ge=1)
    time_padding: Literal["tip", "zeros"] = "tip"
    augment: AugmentConfig | None = Field(default_factory=AugmentConfig)
    crop_size: int | None = Field(
        None,
        ge=16,
        multiple_of=16,
        description="train on random square crops of this side (multiple of 16)",
    )
    patience: int = Field(8, ge=1, description="epochs without val IoU gain before stopping")
    min_delta: float = 0.0
    seed: int = 0
    deterministic: bool = True
    accelerator: str = "auto"
    devices: int | str = 1
    strategy: str = "auto"
    precision: str | None = Field(
        None,
        description="Lightning precision, e.g. 32-true or bf16-mixed (bf16 autocast with fp32 "
        "master weights); None: bf16-mixed on CUDA (16-mixed without bf16) and on CPUs with "
        "native bf16 (x1.33 per step on the 2-core development CPU: benchmarks/train.py), "
        "32-true on other CPUs",
    )
    channels_last: bool | None = Field(
        None,
        description="train with channels-last weights (oneDNN/cuDNN's fast layout for "
        "autocast); None: with mixed precision only",
    )
    num_workers: int = Field(0, ge=0)
    max_time_s: float | None = Field(None, gt=0, description="wall-clock budget of fit()")
    limit_train_batches: int | float | None = None
    progress: Literal["rich", "tqdm", "none"] = "rich"
    resume: bool = Field(False, description="continue from out_dir/checkpoints/last.ckpt")
    freeze_frozen_bn: bool = Field(True, description="keep BN stats of frozen layers fixed")
    freeze_bn_stats: bool = Field(
        False,
        description="keep every batch norm's running statistics fixed (fine-tuning a "
        "pretrained model on a few batches: re-estimated statistics of a new region "
        "undo what the pretrained layers expect)",
    )
    recalibrate_bn: int = Field(
        0,
        ge=0,
        description="before each validation, re-estimate the running statistics of every "
        "trainable batch norm on this many full-season training batches (0: off); lets "
        "CBT's padded short batches train without their statistics reaching validation",
    )
    log_every_n_steps: int = Field(10, ge=1)


class FinetuneConfig(TrainConfig):
    """Training defaults of fine-tuning a pretrained model (``cropmap finetune``,
    :func:`finetune` and the experiment runner's pretrained strategies read these).

    They follow what the demo study measured (docs/transfer.md): lr 1e-3 wiped out the
    pretrained solution in the first epoch, 1e-4 kept and improved it; with few batches
    per epoch, chronological batches of 1-4 padded periods pulled batch norm's running
    statistics away from full-season validation, so CBT is off and the pretrained
    statistics stay fixed (``freeze_bn_stats``; ``recalibrate_bn`` re-estimates them
    on full-season batches instead and lets CBT stay on).
    """

    max_epochs: int = Field(20, ge=1)
    batch_size: int = Field(4, ge=1)
    lr: float = Field(1e-4, gt=0)
    patience: int = Field(5, ge=1, description="epochs without val IoU gain before stopping")
    cbt: bool = Field(False, description="chronological batch training (steps 1..T cycle)")
    freeze_bn_stats: bool = Field(
        True, description="keep the pretrained batch-norm statistics fixed while fine-tuning"
    )


def train_config_for(train: Any, pretrained: bool) -> TrainConfig:
    """The ``TrainConfig`` of a run: fields of ``train`` over the defaults of its kind.

    Args:
        train: ``TrainConfig``, a dict of its fields, or ``None``.
        pretrained: the run starts from pretrained weights (:class:`FinetuneConfig`'s
            defaults) or from random ones (:class:`TrainConfig`'s).
    """
    if isinstance(train, TrainConfig):
        return train
    kind = FinetuneConfig if pretrained else TrainConfig
    fields = dict(train or {})
    if pretrained and fields.get("recalibrate_bn") and "freeze_bn_stats" not in fields:
        fields["freeze_bn_stats"] = False  # re-estimated before each validation instead
    return kind(**fields)
