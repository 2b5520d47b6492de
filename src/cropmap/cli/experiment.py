"""CLI commands ``cropmap experiment`` and ``cropmap demo`` (thin wiring over the runner)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from pydantic import StringConstraints

from cropmap.cli.common import (
    bands_option,
    deprecated,
    features_alias,
    parse_bands,
    parse_list,
    pick_bands,
    removed_on_failure,
    warn,
)
from cropmap.cli.options import (
    MINUTES,
    NON_NEGATIVE,
    Accepts,
    ConfigRef,
    api_default,
    api_option,
    checked,
    choice,
    config_option,
    given,
)

if TYPE_CHECKING:
    from cropmap.experiments.runner import ExperimentResult, ProgressFn


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


def _run_with_progress(run: Callable[[ProgressFn], ExperimentResult], out: Path) -> None:
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
    config: Path | None = typer.Argument(None, help="Experiment YAML (see docs/transfer.md)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Run directory (reused: resumable)."),
    template: bool = typer.Option(
        False, "--template", help="Print a commented small study to start from, and exit."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log each training step."),
) -> None:
    """Run a transfer-learning experiment matrix; a rerun skips finished cells.

    Example: cropmap experiment --template > my_study.yaml; cropmap experiment my_study.yaml --out runs/study
    """  # noqa: E501
    from cropmap.errors import ConfigError
    from cropmap.experiments.config import load_config, template_config_path

    if template:
        typer.echo(template_config_path().read_text(encoding="utf-8"), nl=False)
        return
    if config is None or out is None:
        missing = "CONFIG" if config is None else "--out"
        raise ConfigError(
            f"cropmap experiment needs {missing}; `cropmap experiment --template > my_study.yaml`"
            " writes a config to start from"
        )
    from cropmap.errors import CropmapWarning
    from cropmap.experiments import run_experiment

    with warnings.catch_warnings(record=True) as caught:  # e.g. a deprecated key: one line
        warnings.simplefilter("always", CropmapWarning)
        cfg = load_config(config)  # bad config: fail before the heavy imports
    for w in caught:
        warn(str(w.message))
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
    """``--max-patches`` (checked while parsing) as a count, or ``"all"``."""
    return "all" if text is None or text == "all" else int(text)


#: ``--max-patches``: a count >= 1 or all.
PATCH_COUNT = Annotated[
    str, Accepts("a whole number >= 1, or all"), StringConstraints(pattern=r"^(all|[1-9]\d*)$")
]
#: ``--source``: NEW=OLD band pairs.
SOURCES = list[
    Annotated[str, Accepts("NEW=OLD, e.g. VV=VH"), StringConstraints(pattern=r"^\w+=\w+$")]
]

FINETUNE = "cropmap.transfer.finetune:finetune"


def _strategies() -> object:
    """The neural transfer strategies of the registry, as a choice (checked lazily)."""
    from cropmap.transfer.strategies import STRATEGIES

    return choice(*(k for k, v in STRATEGIES.items() if v.kind == "recurrent_unet"))


def _expansions() -> object:
    """The band-expansion methods, as a choice (checked lazily)."""
    from cropmap.transfer import band_expansion

    return choice(*band_expansion.METHODS)


#: Fine-tuning's own training defaults (lr, epochs, batch, CBT off), the one source.
FINETUNE_CONFIG = ConfigRef("cropmap.train.config", "FinetuneConfig")
#: FinetuneConfig field -> the ``finetune`` option that sets it.
FINETUNE_OPTIONS = {"max_epochs": "--epochs", "lr": "--lr", "batch_size": "--batch-size"}


def _train_option(field: str, option: str, text: str) -> Any:
    """A fine-tuning option for a FinetuneConfig field (its default and checks)."""
    return config_option(FINETUNE_CONFIG, field, option, help=text)


def finetune(
    pretrained: Path = typer.Argument(..., help="Pretrained model directory (cropmap train)."),
    patches: Path = typer.Argument(..., help="Patch store of your region (cropmap patches)."),
    out: Path = typer.Option(..., "--out", "-o", help="Fine-tuned model directory to write."),
    strategy: str | None = api_option(
        FINETUNE,
        "strategy",
        _strategies,
        "--strategy",
        "-s",
        help="RI, FT, FT_E, FT_D, HEAD or LP_FT (docs/transfer.md).",
    ),
    bands: str | None = bands_option("Bands: VH or VV,VH (default: the pretrained model's)."),
    features: str | None = features_alias(),
    expansion: str | None = api_option(
        FINETUNE,
        "expansion",
        _expansions,
        "--expansion",
        help="New bands' first-layer kernels: zero, copy or mean.",
    ),
    source: list[str] = checked(
        SOURCES, [], "--source", help="For --expansion copy: NEW=OLD, e.g. VV=VH (repeatable)."
    ),
    epochs: int | None = _train_option("max_epochs", "--epochs", "Maximum epochs."),
    max_time: float | None = checked(MINUTES, None, "--max-time", help="Budget in minutes."),
    lr: float | None = _train_option("lr", "--lr", "Learning rate (Adam)."),
    batch_size: int | None = _train_option("batch_size", "--batch-size", "Patches per batch."),
    max_patches: str | None = checked(
        PATCH_COUNT, None, "--max-patches", help="Use at most this many training patches."
    ),
    old_patches: str | None = checked(PATCH_COUNT, None, "--patches", help="", hidden=True),
    seed: int | None = api_option(FINETUNE, "seed", NON_NEGATIVE, "--seed", help="Random seed."),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="A progress bar of each step (on a terminal)."
    ),
) -> None:
    """Fine-tune a pretrained model on your region's patches with a transfer strategy.

    Prints one line per epoch (losses, validation IoU) while it trains.

    Example: cropmap finetune runs/korea/model data/spain/patches --strategy FT_E --bands VV,VH --out runs/spain/ft_e
    """  # noqa: E501
    import logging
    import sys

    from cropmap.cli.logs import setup_logging
    from cropmap.transfer import finetune as run_finetune

    _quiet(verbose)
    bar = verbose and sys.stderr.isatty()  # else one plain line per epoch
    if not bar:
        setup_logging(logging.INFO)
    if old_patches is not None:
        deprecated("--patches (a count)", "--max-patches")
        max_patches = max_patches or old_patches
    budget = _patch_budget(max_patches)
    train = given(
        max_epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        max_time_s=max_time * 60 if max_time else None,
    )
    with removed_on_failure(out):
        res = run_finetune(
            pretrained,
            patches,
            out,
            bands=parse_bands(pick_bands(bands, features)),
            train={**train, "progress": "rich" if bar else "none"},
            n_patches=budget,
            sources=dict(s.split("=", 1) for s in source),
            **given(strategy=strategy, seed=seed, expansion=expansion),
        )
    name = strategy or api_default(FINETUNE, "strategy")()
    typer.echo(
        f"{name}: trained {res.trainable_params:,} of {res.total_params:,} parameters on "
        f"{res.n_train_patches} patches in {res.train_seconds:.0f} s; model written to {out}"
    )


def _results_rows(path: Path) -> list[dict[str, str]]:
    """Rows of ``path`` (a results.csv, or the run folder holding one)."""
    from cropmap.errors import ConfigError
    from cropmap.evaluate.tables import read_csv_rows

    csv_path = path / "results.csv" if path.is_dir() else path
    if not csv_path.is_file():
        raise ConfigError(f"{csv_path} not found: give a results.csv or a run folder with one")
    rows = read_csv_rows(csv_path.read_text(encoding="utf-8"))
    missing = {"strategy", "finetune", "test", "features", "seed"} - set(rows[0] if rows else {})
    if missing:
        raise ConfigError(f"{csv_path} is not a cropmap results.csv (no {sorted(missing)})")
    return rows


def compare(
    new: Path = typer.Argument(..., help="The run with the change: results.csv or its folder."),
    old: Path = typer.Argument(..., help="The run compared with: results.csv or its folder."),
    strategies: str | None = typer.Option(
        None, "--strategies", help="Comma-separated rows (default: those both runs have)."
    ),
    metric: str = checked(
        choice("iou", "f1", "kappa", "oa"), "iou", "--metric", help="iou, f1, kappa or oa."
    ),
) -> None:
    """What a second run of a study changes: the paired seed-wise difference NEW − OLD.

    For two runs that differ in one setting (same data, seeds and source model), e.g. the
    poster preset and docs/results/poster/recalibrate_bn.yaml. Each cell: mean ± std over
    the seeds both runs have of metric(NEW) − metric(OLD), then (k/n) the seeds where
    NEW >= OLD.

    Example: cropmap compare runs/poster_bn runs/poster --strategies FT,FT_E
    """
    from cropmap.errors import ConfigError
    from cropmap.evaluate.findings import run_differences

    new_rows, old_rows = _results_rows(new), _results_rows(old)
    try:
        table = run_differences(
            new_rows, old_rows, parse_list(strategies, "--strategies"), metric=metric
        )
    except ValueError as exc:
        raise ConfigError(f"{new} vs {old}: {exc}") from None
    typer.echo(table, nl=False)


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.command("finetune")(finetune)
    app.command("experiment")(experiment)
    app.command("compare")(compare)
    app.command("demo")(demo)
