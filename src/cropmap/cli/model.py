"""CLI commands of the 'model' group: ``train``, ``baseline`` and ``evaluate``.

Thin wiring over :mod:`cropmap.train` and :mod:`cropmap.evaluate`; torch and lightning
are imported inside the commands so that ``cropmap --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cropmap.cli.common import (
    bands_option,
    deprecated,
    features_alias,
    parse_bands,
    pick_bands,
    removed_on_failure,
)
from cropmap.cli.options import (
    DEVICES_PATTERN,
    MINUTES,
    N_JOBS,
    NON_NEGATIVE,
    POSITIVE,
    TRAIN,
    Accepts,
    api_default,
    api_option,
    build_config,
    checked,
    choice,
    config_option,
    given,
)
from cropmap.cli.progress import progress as show_progress

#: TrainConfig field -> the option that sets it (for one-line errors).
TRAIN_OPTIONS = {
    "max_epochs": "--epochs",
    "batch_size": "--batch-size",
    "lr": "--lr",
    "scheduler": "--scheduler",
    "loss": "--loss",
    "pos_weight": "--pos-weight",
    "patience": "--patience",
    "cbt": "--cbt",
    "time_padding": "--padding",
    "augment": "--augment",
    "crop_size": "--crop",
    "max_time_s": "--max-time",
    "accelerator": "--accelerator",
    "devices": "--devices",
    "strategy": "--strategy",
    "precision": "--precision",
    "num_workers": "--workers",
    "seed": "--seed",
    "resume": "--resume",
    "progress": "--progress",
}

FOREST = "cropmap.train.forest_fit:train_baseline"
EVALUATE = "cropmap.evaluate.evaluate:evaluate"
SPLITS = choice("train", "val", "test")
DEVICE = choice("cpu", "cuda")

#: What Lightning accepts for --accelerator, --strategy and --precision.
ACCELERATORS = choice("auto", "cpu", "gpu", "cuda", "mps")
STRATEGIES = choice("auto", "ddp", "ddp_spawn", "ddp_find_unused_parameters_true")
PRECISIONS = choice(
    "32", "32-true", "16-mixed", "bf16-mixed", "16-true", "bf16-true", "64", "64-true"
)
DEVICES = Annotated[
    str, Accepts("a count like 2, a list of device ids like 0,1, or auto"), DEVICES_PATTERN
]


def train(
    patches: Path = typer.Argument(..., help="Patch store folder (from `cropmap patches`)."),
    out: Path = typer.Option(..., "--out", "-o", help="Model directory to write."),
    bands: str | None = bands_option("Bands to use: VH or VV,VH (default: all in the store)."),
    features: str | None = features_alias(),
    epochs: int | None = config_option(
        TRAIN, "max_epochs", "--epochs", help="Maximum epochs (early stopping may end sooner)."
    ),
    batch_size: int | None = config_option(
        TRAIN, "batch_size", "--batch-size", help="Patches per batch."
    ),
    lr: float | None = config_option(TRAIN, "lr", "--lr", help="Learning rate (Adam)."),
    scheduler: str | None = config_option(
        TRAIN, "scheduler", "--scheduler", help="cosine (over --epochs or --max-time) or none."
    ),
    loss: str | None = config_option(TRAIN, "loss", "--loss", help="bce, dice or bce+dice."),
    pos_weight: float | None = config_option(
        TRAIN, "pos_weight", "--pos-weight", help="BCE weight of the target class."
    ),
    patience: int | None = config_option(
        TRAIN, "patience", "--patience", help="Epochs without val IoU gain before stopping."
    ),
    cbt: bool | None = config_option(
        TRAIN, "cbt", "--cbt/--no-cbt", help="Chronological batch training."
    ),
    padding: str | None = config_option(
        TRAIN, "time_padding", "--padding", help="Missing periods: tip or zeros."
    ),
    augment: bool | None = typer.Option(
        None, "--augment/--no-augment", help="Shift/flip/rotate.", show_default="on"
    ),
    crop: int | None = config_option(
        TRAIN, "crop_size", "--crop", help="Train on random crops of this side: faster steps."
    ),
    max_time: float | None = checked(
        MINUTES, None, "--max-time", help="Training budget in minutes (ends the running epoch)."
    ),
    accelerator: str | None = checked(
        ACCELERATORS, None, "--accelerator", help="Lightning accelerator.", show_default="auto"
    ),
    devices: str | None = checked(
        DEVICES, None, "--devices", help="Devices/processes (e.g. 2 for DDP).", show_default="1"
    ),
    strategy: str | None = checked(
        STRATEGIES, None, "--strategy", help="Lightning strategy.", show_default="auto"
    ),
    precision: str | None = checked(
        PRECISIONS, None, "--precision", help="Default: bf16/16-mixed on CUDA, 32 on CPU."
    ),
    workers: int | None = config_option(
        TRAIN, "num_workers", "--workers", help="DataLoader worker processes."
    ),
    seed: int | None = config_option(
        TRAIN, "seed", "--seed", help="Random seed (deterministic training)."
    ),
    resume: bool | None = config_option(
        TRAIN, "resume", "--resume", help="Continue from OUT/checkpoints/last.ckpt."
    ),
    progress: str | None = config_option(
        TRAIN,
        "progress",
        "--progress",
        help="rich, tqdm or none (one line per epoch; the default when stderr is not a terminal).",
    ),
) -> None:
    """Train a Recurrent U-Net with chronological batch training.

    Defaults come from cropmap.train.TrainConfig (shown below).

    Example: cropmap train runs/korea/patches --bands VH --out runs/korea/model --max-time 10
    """
    import logging
    import sys

    from cropmap.train.store import train_on_store
    from cropmap.train.trainer import TrainConfig

    if progress is None and not sys.stderr.isatty():
        progress = "none"  # a log gets one line per epoch instead of a bar
    cfg = build_config(
        TrainConfig,
        TRAIN_OPTIONS,
        max_epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        scheduler=scheduler,
        loss=loss,
        pos_weight=pos_weight,
        patience=patience,
        cbt=cbt,
        time_padding=padding,
        crop_size=crop,
        max_time_s=max_time * 60 if max_time else None,
        accelerator=accelerator,
        devices=int(devices) if devices and devices.isdigit() else devices,
        strategy=strategy,
        precision=precision,
        num_workers=workers,
        seed=seed,
        resume=resume,
        progress=progress,
    )
    if augment is False:
        cfg = cfg.model_copy(update={"augment": None})
    band_list = parse_bands(pick_bands(bands, features))
    if cfg.progress == "none":
        from cropmap.cli.logs import setup_logging

        setup_logging(logging.INFO)
    with removed_on_failure(out, keep=cfg.resume):
        res = train_on_store(patches, out, bands=band_list, cfg=cfg)
    iou = "n/a" if res.best_val_iou is None else f"{res.best_val_iou:.3f}"
    typer.echo(
        f"model written to {res.model_dir}: best val IoU {iou} at epoch {res.best_epoch}, "
        f"{res.epochs_run} epochs in {res.elapsed_s:.0f} s"
    )


def baseline(
    patches: Path = typer.Argument(..., help="Patch store folder (from `cropmap patches`)."),
    out: Path = typer.Option(..., "--out", "-o", help="Model directory to write."),
    bands: str | None = bands_option("Bands to use: VH or VV,VH (default: all in the store)."),
    features: str | None = features_alias(),
    ratio: bool = typer.Option(False, "--ratio", help="Add VH/VV ratio features (VH_dB - VV_dB)."),
    trees: int | None = api_option(
        FOREST, "n_estimators", POSITIVE, "--trees", help="Number of trees."
    ),
    max_depth: int | None = api_option(
        FOREST, "max_depth", NON_NEGATIVE, "--max-depth", help="Tree depth limit (0: none)."
    ),
    max_samples: int | None = api_option(
        FOREST,
        "max_samples_per_class",
        POSITIVE,
        "--max-samples",
        help="Cap of training pixels per class (class-balanced).",
    ),
    n_jobs: int | None = api_option(
        FOREST, "n_jobs", N_JOBS, "--n-jobs", help="Parallel jobs (-1: every core)."
    ),
    seed: int | None = api_option(FOREST, "seed", NON_NEGATIVE, "--seed", help="Random seed."),
) -> None:
    """Fit the pixel-based random-forest baseline on the train split.

    Example: cropmap baseline runs/spain/patches --bands VV,VH --ratio --out runs/spain/rf
    """
    from cropmap.train.forest_fit import train_baseline

    with removed_on_failure(out), show_progress("baseline (random forest)"):
        rf, _ = train_baseline(
            patches,
            out,
            bands=parse_bands(pick_bands(bands, features)),
            ratio=ratio,
            max_depth=None if max_depth == 0 else max_depth,
            **given(
                n_estimators=trees, max_samples_per_class=max_samples, n_jobs=n_jobs, seed=seed
            ),
        )
    typer.echo(f"random forest written to {out} ({rf.n_samples_fit_} training pixels)")


def evaluate(
    model: Path = typer.Argument(..., help="Model directory (U-Net or random forest)."),
    patches: Path = typer.Argument(..., help="Patch store folder."),
    split: str | None = api_option(
        EVALUATE, "split", SPLITS, "--split", help="train, val or test."
    ),
    periods: int | None = checked(
        POSITIVE, None, "--periods", help="Use only the first K periods (early-season map)."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Report JSON (default: MODEL/eval_<split>[_pK].json)."
    ),
    json_out: Path | None = typer.Option(None, "--json", hidden=True),
    batch_size: int | None = api_option(
        EVALUATE, "batch_size", POSITIVE, "--batch-size", help="Patches per forward pass."
    ),
    device: str | None = checked(
        DEVICE, None, "--device", help="cpu or cuda (default: cuda when available)."
    ),
) -> None:
    """Evaluate a model on a patch-store split: IoU, F1, precision, recall, OA, kappa.

    Example: cropmap evaluate runs/korea/model runs/korea/patches --split test --periods 4
    """
    from rich.console import Console
    from rich.table import Table

    from cropmap.evaluate.evaluate import evaluate as run_evaluate

    if json_out is not None:
        deprecated("--json", "--out")
        out = out or json_out
    split = split or api_default(EVALUATE, "split")()
    suffix = f"_p{periods}" if periods else ""
    json_out = out or model / f"eval_{split}{suffix}.json"
    console = Console()
    with show_progress(f"evaluate ({split} split)"):
        rep = run_evaluate(
            model,
            patches,
            split,
            n_periods=periods,
            device=device,
            out_json=json_out,
            **given(batch_size=batch_size),
        )
    table = Table(title=f"{model} on {patches} ({split}, {rep['n_periods']} periods)")
    table.add_column("class")
    for key in ("iou", "f1", "precision", "recall", "support"):
        table.add_column(key, justify="right")
    for name, row in rep["per_class"].items():
        table.add_row(
            name,
            *(f"{row[k]:.3f}" for k in ("iou", "f1", "precision", "recall")),
            str(row["support"]),
        )
    console.print(table)
    console.print(
        f"target {rep['target']}: IoU {rep['iou']:.3f}  F1 {rep['f1']:.3f}  "
        f"OA {rep['oa']:.3f}  kappa {rep['kappa']:.3f}  ({rep['n_patches']} patches)"
    )
    console.print(f"confusion matrix (rows = truth): {json.dumps(rep['confusion_matrix'])}")
    console.print(f"report written to {json_out}")


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.command("train")(train)
    app.command("baseline")(baseline)
    app.command("evaluate")(evaluate)
