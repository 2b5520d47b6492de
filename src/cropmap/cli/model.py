"""CLI commands of the 'model' group: ``train``, ``baseline`` and ``evaluate``.

Thin wiring over :mod:`cropmap.train` and :mod:`cropmap.evaluate`; torch and lightning
are imported inside the commands so that ``cropmap --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cropmap.cli.common import bands_option, features_alias, parse_bands, pick_bands
from cropmap.cli.progress import progress as show_progress


def train(
    patches: Path = typer.Argument(..., help="Patch store folder (from `cropmap patches`)."),
    out: Path = typer.Option(..., "--out", "-o", help="Model directory to write."),
    bands: str | None = bands_option("Bands to use: VH or VV,VH (default: all in the store)."),
    features: str | None = features_alias(),
    epochs: int = typer.Option(
        40, "--epochs", help="Maximum epochs (early stopping may end sooner)."
    ),
    batch_size: int = typer.Option(2, "--batch-size", help="Patches per batch."),
    lr: float = typer.Option(2e-3, "--lr", help="Learning rate (Adam)."),
    scheduler: str = typer.Option(
        "cosine", "--scheduler", help="cosine (decay over --epochs or --max-time) or none."
    ),
    loss: str = typer.Option("bce+dice", "--loss", help="bce, dice or bce+dice."),
    pos_weight: float | None = typer.Option(None, "--pos-weight", help="BCE weight of target."),
    patience: int = typer.Option(8, "--patience", help="Epochs without val IoU gain to stop."),
    cbt: bool = typer.Option(True, "--cbt/--no-cbt", help="Chronological batch training."),
    padding: str = typer.Option("tip", "--padding", help="Missing periods: tip or zeros."),
    augment: bool = typer.Option(True, "--augment/--no-augment", help="Shift/flip/rotate."),
    crop: int | None = typer.Option(
        None, "--crop", help="Train on random crops of this side (multiple of 16): faster steps."
    ),
    max_time: float | None = typer.Option(
        None, "--max-time", help="Training budget in minutes (stops after the running epoch)."
    ),
    accelerator: str = typer.Option("auto", "--accelerator", help="auto, cpu or gpu."),
    devices: str = typer.Option("1", "--devices", help="Devices/processes (e.g. 2 for DDP)."),
    strategy: str = typer.Option("auto", "--strategy", help="auto, ddp or ddp_spawn."),
    precision: str | None = typer.Option(
        None, "--precision", help="Default: bf16/16-mixed on CUDA, 32 on CPU."
    ),
    workers: int = typer.Option(0, "--workers", help="DataLoader worker processes."),
    seed: int = typer.Option(0, "--seed", help="Random seed (deterministic training)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/checkpoints/last.ckpt."),
    progress: str = typer.Option("rich", "--progress", help="rich, tqdm or none."),
) -> None:
    """Train a Recurrent U-Net with chronological batch training.

    Example: cropmap train runs/korea/patches --bands VH --out runs/korea/model --max-time 10
    """
    import logging

    from cropmap.train.augment import AugmentConfig
    from cropmap.train.store import train_on_store

    if progress == "none":  # without a bar, print one line per epoch
        from cropmap.cli.logs import setup_logging

        setup_logging(logging.INFO)
    from cropmap.train.trainer import TrainConfig

    cfg = TrainConfig(
        max_epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        scheduler=scheduler,
        loss=loss,
        pos_weight=pos_weight,
        patience=patience,
        cbt=cbt,
        time_padding=padding,
        augment=AugmentConfig() if augment else None,
        crop_size=crop,
        max_time_s=max_time * 60 if max_time else None,
        accelerator=accelerator,
        devices=int(devices) if devices.isdigit() else devices,
        strategy=strategy,
        precision=precision,
        num_workers=workers,
        seed=seed,
        resume=resume,
        progress=progress,
    )
    res = train_on_store(patches, out, bands=parse_bands(pick_bands(bands, features)), cfg=cfg)
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
    trees: int = typer.Option(100, "--trees", help="Number of trees."),
    max_depth: int = typer.Option(16, "--max-depth", help="Tree depth limit (0 = unlimited)."),
    max_samples: int = typer.Option(
        50_000, "--max-samples", help="Cap of training pixels per class (class-balanced)."
    ),
    n_jobs: int = typer.Option(2, "--n-jobs", help="Parallel jobs."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
) -> None:
    """Fit the pixel-based random-forest baseline on the train split.

    Example: cropmap baseline runs/spain/patches --bands VV,VH --ratio --out runs/spain/rf
    """
    from cropmap.train.forest_fit import train_baseline

    with show_progress("baseline (random forest)"):
        rf, _ = train_baseline(
            patches,
            out,
            bands=parse_bands(pick_bands(bands, features)),
            ratio=ratio,
            n_estimators=trees,
            max_depth=max_depth or None,
            max_samples_per_class=max_samples,
            n_jobs=n_jobs,
            seed=seed,
        )
    typer.echo(f"random forest written to {out} ({rf.n_samples_fit_} training pixels)")


def evaluate(
    model: Path = typer.Argument(..., help="Model directory (U-Net or random forest)."),
    patches: Path = typer.Argument(..., help="Patch store folder."),
    split: str = typer.Option("test", "--split", help="train, val or test."),
    periods: int | None = typer.Option(
        None, "--periods", help="Use only the first K periods (early-season map)."
    ),
    json_out: Path | None = typer.Option(
        None, "--json", help="Write the report here (default: MODEL/eval_<split>[_pK].json)."
    ),
    batch_size: int = typer.Option(4, "--batch-size", help="Patches per forward pass."),
    device: str | None = typer.Option(None, "--device", help="cpu or cuda (default: auto)."),
) -> None:
    """Evaluate a model on a patch-store split: IoU, F1, precision, recall, OA, kappa.

    Example: cropmap evaluate runs/korea/model runs/korea/patches --split test --periods 4
    """
    from rich.console import Console
    from rich.table import Table

    from cropmap.evaluate.evaluate import evaluate as run_evaluate

    suffix = f"_p{periods}" if periods else ""
    json_out = json_out or model / f"eval_{split}{suffix}.json"
    console = Console()
    with show_progress(f"evaluate ({split} split)"):
        rep = run_evaluate(
            model,
            patches,
            split,
            n_periods=periods,
            batch_size=batch_size,
            device=device,
            out_json=json_out,
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
