"""CLI commands of the 'simulate' group: ``simulate`` and ``simulate-plots``."""

from __future__ import annotations

from pathlib import Path

import typer

from cropmap.cli.progress import progress

REGION_NAMES = ("korea", "spain", "france", "netherlands")


def simulate(
    region: str = typer.Option(..., "--region", "-r", help=f"One of: {', '.join(REGION_NAMES)}."),
    size: int = typer.Option(512, "--size", help="Scene width and height in pixels (10 m)."),
    year: int = typer.Option(2022, "--year", help="Season year (2017-2021: 6-day revisit)."),
    seed: int = typer.Option(0, "--seed", help="Random seed; same seed, same files."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    looks: float = typer.Option(4.4, "--looks", help="Equivalent number of looks of speckle."),
    revisit_days: int | None = typer.Option(
        None, "--revisit-days", help="6 or 12 days per orbit (default: by year)."
    ),
    defects: bool = typer.Option(
        True, "--defects/--no-defects", help="Missing swath strip and an acquisition gap."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Delete acquisitions of another scene found in OUT/s1."
    ),
    stac: bool = typer.Option(
        False,
        "--stac",
        help="Also write the scene as a static STAC catalogue, OUT/stac/catalog.json "
        "(vv/vh COGs, two items per date), for `cropmap composite --stac`.",
    ),
) -> None:
    """Simulate a Sentinel-1 VV/VH season over parcels of a built-in region.

    Writes OUT/s1/<YYYY-MM-DD>.tif (linear sigma0, bands VV, VH), OUT/parcels.gpkg and
    OUT/scene.json (with --stac also OUT/stac/catalog.json).

    Example: cropmap simulate --region korea --size 512 --year 2022 --seed 0 --out data/korea
    """
    from cropmap.simulate import simulate_scene

    with progress(f"simulate {region}", unit="acquisitions") as tick:
        path = simulate_scene(
            region,
            size,
            year,
            seed,
            out,
            looks=looks,
            revisit_days=revisit_days,
            defects=defects,
            overwrite=overwrite,
            progress=tick,
        )
    n = len(list((path / "s1").glob("*.tif")))
    typer.echo(f"wrote {n} acquisitions, parcels.gpkg and scene.json to {path}")
    if stac:
        from cropmap.simulate.stac_catalog import COLLECTION, write_stac_catalog

        cat = write_stac_catalog(path)
        typer.echo(f"wrote STAC catalogue {cat} (collection {COLLECTION})")


def simulate_plots(
    out: Path = typer.Option(Path("docs/img"), "--out", "-o", help="Folder of the PNGs."),
    size: int = typer.Option(384, "--size", help="Scene size per region, pixels."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
) -> None:
    """Regenerate the simulator's documentation figures (trajectories, quick-looks).

    Example: cropmap simulate-plots --out docs/img
    """
    from cropmap.simulate.plots import make_doc_figures

    for p in make_doc_figures(out, size=size, seed=seed):
        typer.echo(f"wrote {p}")


def simulate_rf(
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the simulated scenes."),
    size: int = typer.Option(512, "--size", help="Scene size per region, pixels."),
    year: int = typer.Option(2022, "--year", help="Season year."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
) -> None:
    """Measure how hard each region is: IoU of a locally trained random forest.

    Simulates one scene per region, trains a pixel RandomForest on per-period mean dB
    (VH, and VV+VH) of two quadrants and tests on the other two; also applies a Korea
    forest to the other rice regions.

    Example: cropmap simulate-rf --out /tmp/sim-rf --size 512
    """
    from rich.console import Console
    from rich.table import Table

    from cropmap.simulate.baseline import rf_report

    with progress("simulate-rf (simulating, training forests)"):
        rows = rf_report(out, size=size, year=year, seed=seed)
    table = Table(title=f"local RF IoU of the target class ({size} px scenes, seed {seed})")
    cols = ("region", "target", "iou_vh", "iou_vvvh", "korea_to_here_vh")
    for col in cols:
        table.add_column(col)
    for r in rows:
        table.add_row(*(str(r.get(c, "")) for c in cols))
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.command("simulate")(simulate)
    app.command("simulate-plots")(simulate_plots)
    app.command("simulate-rf")(simulate_rf)
