"""CLI commands ``cropmap experiment`` and ``cropmap demo`` (thin wiring over the runner)."""

from __future__ import annotations

from pathlib import Path

import typer


def _run_with_progress(run, out: Path) -> None:  # noqa: ANN001 - callable(progress) -> result
    """Show a rich progress display while ``run(progress)`` works, then a summary."""
    from rich.console import Console
    from rich.markdown import Markdown
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console()
    with Progress(
        TextColumn("[bold]{task.fields[stage]:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int, desc: str) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(desc, total=max(total, 1), stage=stage)
            bar.update(tasks[stage], completed=done, total=max(total, 1), description=desc)

        result = run(progress)
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
    import logging

    from cropmap.experiments import load_config, run_experiment

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    cfg = load_config(config)
    _run_with_progress(lambda p: run_experiment(cfg, out, progress=p), out)


def demo(
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Run directory."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log each training step."),
) -> None:
    """Simulate four regions, pretrain on Korea (VH), transfer RF/RI/FT/FT_E: table + report.

    Example: cropmap demo --out runs/demo   (under 15 minutes on 2 CPU cores)
    """
    import logging

    from cropmap.experiments import run_demo

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    _run_with_progress(lambda p: run_demo(out, progress=p), out)


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.command("experiment")(experiment)
    app.command("demo")(demo)
