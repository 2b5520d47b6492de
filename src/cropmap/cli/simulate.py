"""CLI commands of the 'simulate' group: ``simulate`` and ``simulate-plots``."""

from __future__ import annotations

from pathlib import Path

import typer

from cropmap.cli.common import removed_on_failure
from cropmap.cli.options import (
    SCENE,
    api_option,
    build_config,
    checked,
    choice,
    config_option,
    field_of,
    given,
)
from cropmap.cli.progress import progress

PLOTS = "cropmap.simulate.plots:make_doc_figures"


def _regions() -> object:
    """The simulator's region registry, as a choice (imported when checked)."""
    from cropmap.simulate.regions import REGIONS

    return choice(*REGIONS)


def _scene_config(**values: object):  # noqa: ANN202 - a SceneConfig
    """The scene's config from the given options (None: the config's default)."""
    from cropmap.simulate.scene import SceneConfig

    names = {"revisit_days": "--revisit-days", "defects": "--defects"}
    return build_config(
        SceneConfig, names | {k: f"--{k}" for k in values if k not in names}, **values
    )


def simulate(
    region: str = checked(
        _regions, ..., "--region", "-r", help="korea, spain, france or netherlands."
    ),
    size: int | None = config_option(
        SCENE, "size", "--size", help="Scene width and height in pixels (10 m)."
    ),
    year: int | None = config_option(
        SCENE, "year", "--year", help="Season year (2017-2021: 6-day revisit)."
    ),
    seed: int | None = config_option(
        SCENE, "seed", "--seed", help="Random seed; same seed, same files."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    looks: float | None = config_option(
        SCENE, "looks", "--looks", help="Equivalent number of looks of speckle."
    ),
    revisit_days: int | None = config_option(
        SCENE, "revisit_days", "--revisit-days", help="6 or 12 days per orbit (none: by year)."
    ),
    defects: bool | None = config_option(
        SCENE, "defects", "--defects/--no-defects", help="Missing swath strip, acquisition gap."
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

    cfg = _scene_config(
        region=region,
        size=size,
        year=year,
        seed=seed,
        looks=looks,
        revisit_days=revisit_days,
        defects=defects,
    )
    with removed_on_failure(out), progress(f"simulate {region}", unit="acquisitions") as tick:
        path = simulate_scene(
            cfg.region,
            cfg.size,
            cfg.year,
            cfg.seed,
            out,
            looks=cfg.looks,
            revisit_days=cfg.revisit_days,
            defects=cfg.defects,
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
    size: int | None = api_option(
        PLOTS, "size", field_of(SCENE, "size"), "--size", help="Scene size, pixels."
    ),
    seed: int | None = api_option(PLOTS, "seed", field_of(SCENE, "seed"), "--seed", help="Seed."),
) -> None:
    """Regenerate the simulator's documentation figures (trajectories, quick-looks).

    Example: cropmap simulate-plots --out docs/img
    """
    from cropmap.simulate.plots import make_doc_figures

    for p in make_doc_figures(out, **given(size=size, seed=seed)):
        typer.echo(f"wrote {p}")


def simulate_rf(
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the simulated scenes."),
    size: int | None = config_option(SCENE, "size", "--size", help="Scene size, pixels."),
    year: int | None = config_option(SCENE, "year", "--year", help="Season year."),
    seed: int | None = config_option(SCENE, "seed", "--seed", help="Random seed."),
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

    cfg = _scene_config(region="korea", size=size, year=year, seed=seed)

    with progress("simulate-rf (simulating, training forests)"):
        rows = rf_report(out, size=cfg.size, year=cfg.year, seed=cfg.seed)
    table = Table(title=f"local RF IoU of the target class ({cfg.size} px scenes, seed {cfg.seed})")
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
