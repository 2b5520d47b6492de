"""CLI commands ``cropmap experiment`` and ``cropmap demo`` (thin wiring over the runner)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer

from cropmap.cli.common import (
    bands_option,
    deprecated,
    features_alias,
    parse_bands,
    pick_bands,
)


def _quiet(verbose: bool) -> None:
    """Log level for the run: INFO with --verbose, else warnings only (Lightning too)."""
    import logging
    import warnings

    import lightning.pytorch  # noqa: F401 - sets up its own loggers on import; quiet them after

    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level)
    for name in ("", "lightning", "lightning.pytorch", "lightning.fabric"):
        logger = logging.getLogger(name)
        if name:
            logger.setLevel(level)
        for handler in logger.handlers:
            handler.setLevel(level)
    if not verbose:
        warnings.filterwarnings("ignore", module="lightning")
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")


def _run_with_progress(run, out: Path) -> None:  # noqa: ANN001 - callable(progress) -> result
    """Show progress (a bar, or plain lines in a log) while ``run(progress)`` works; summary."""
    from rich.console import Console
    from rich.markdown import Markdown

    from cropmap.cli.progress import progress

    with progress("experiment") as bar:
        result = run(bar.stage)
    console = Console()
    console.print(Markdown((out / "results.md").read_text(encoding="utf-8")))
    t = result.timings
    console.print(
        f"cells run {result.cells_run}, reused {result.cells_skipped}; seconds: "
        + ", ".join(f"{k} {v:.0f}" for k, v in t.items())
        + f"; total {sum(t.values()):.0f}"
    )
    console.print(f"report: {out / 'report.html'}")


def experiment(
    config: Path = typer.Argument(..., help="Experiment YAML (see docs/transfer.md)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory (reused: resumable)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log each training step."),
) -> None:
    """Run a transfer-learning experiment matrix; a rerun skips finished cells.

    Example: cropmap experiment my_study.yaml --out runs/study
    """
    from cropmap.experiments import load_config, run_experiment

    cfg = load_config(config)  # bad config: fail before the heavy imports
    _quiet(verbose)
    _run_with_progress(lambda p: run_experiment(cfg, out, progress=p), out)


def demo(
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Run directory."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log each training step."),
) -> None:
    """Simulate four regions, pretrain on Korea (VH), transfer RF/RI/FT/FT_E: table + report.

    Example: cropmap demo --out runs/demo   (under 15 minutes on 2 CPU cores)
    """
    from cropmap.experiments import run_demo

    _quiet(verbose)
    _run_with_progress(lambda p: run_demo(out, progress=p), out)


def _patch_budget(text: str | None) -> int | Literal["all"]:
    """``--max-patches`` as a count >= 1, or ``"all"`` (None or ``all``)."""
    from cropmap.errors import OptionError

    if text is None or text.strip().lower() == "all":
        return "all"
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise OptionError(
            f"--max-patches: {text!r} is invalid; accepted: a whole number >= 1, or all"
        )
    return n


def finetune(
    pretrained: Path = typer.Argument(..., help="Pretrained model directory (cropmap train)."),
    patches: Path = typer.Argument(..., help="Patch store of your region (cropmap patches)."),
    out: Path = typer.Option(..., "--out", "-o", help="Fine-tuned model directory to write."),
    strategy: str = typer.Option(
        "FT_E", "--strategy", "-s", help="RI, FT, FT_E, FT_D, HEAD or LP_FT (docs/transfer.md)."
    ),
    bands: str | None = bands_option("Bands: VH or VV,VH (default: the pretrained model's)."),
    features: str | None = features_alias(),
    expansion: str = typer.Option(
        "zero", "--expansion", help="New bands' first-layer kernels: zero, copy or mean."
    ),
    source: list[str] = typer.Option(
        [], "--source", help="For --expansion copy: NEW=OLD, e.g. VV=VH (repeatable)."
    ),
    epochs: int = typer.Option(20, "--epochs", help="Maximum epochs (early stopping)."),
    max_time: float | None = typer.Option(None, "--max-time", help="Budget in minutes."),
    lr: float = typer.Option(1e-3, "--lr", help="Learning rate (Adam)."),
    batch_size: int = typer.Option(4, "--batch-size", help="Patches per batch."),
    max_patches: str | None = typer.Option(
        None, "--max-patches", help="Use at most this many training patches (default: all)."
    ),
    old_patches: str | None = typer.Option(None, "--patches", hidden=True),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log each training step."),
) -> None:
    """Fine-tune a pretrained model on your region's patches with a transfer strategy.

    Example: cropmap finetune runs/korea/model data/spain/patches --strategy FT_E --bands VV,VH --out runs/spain/ft_e
    """  # noqa: E501
    from cropmap.errors import ConfigError
    from cropmap.transfer import finetune as run_finetune

    _quiet(verbose)
    bad = [s for s in source if "=" not in s]
    if bad:
        raise ConfigError(f"--source expects NEW=OLD (e.g. VV=VH), got {bad}")
    if old_patches is not None:
        deprecated("--patches (a count)", "--max-patches")
        max_patches = max_patches or old_patches
    budget = _patch_budget(max_patches)
    res = run_finetune(
        pretrained,
        patches,
        out,
        strategy=strategy,
        bands=parse_bands(pick_bands(bands, features)),
        train={
            "max_epochs": epochs,
            "lr": lr,
            "batch_size": batch_size,
            "max_time_s": max_time * 60 if max_time else None,
            "progress": "rich" if verbose else "none",
        },
        n_patches=budget,
        seed=seed,
        expansion=expansion,
        sources=dict(s.split("=", 1) for s in source),
    )
    typer.echo(
        f"{strategy}: trained {res.trainable_params:,} of {res.total_params:,} parameters on "
        f"{res.n_train_patches} patches in {res.train_seconds:.0f} s; model written to {out}"
    )


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.command("finetune")(finetune)
    app.command("experiment")(experiment)
    app.command("demo")(demo)
