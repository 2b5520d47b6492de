"""CLI commands of the 'simulate' group: ``simulate``, ``simulate-plots``, ``simulate-rf``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import annotated_types as at
import typer
from pydantic import StringConstraints

from cropmap.cli.common import removed_on_failure
from cropmap.cli.options import (
    SCENE,
    YEAR,
    Accepts,
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

#: ``simulate-rf`` options: scene sides, seeds, tile, scale.
SIZES = Annotated[
    str,
    StringConstraints(pattern=r"^(\d+|[a-z]+=\d+(,[a-z]+=\d+)*)$"),
    Accepts("a number of pixels, or region=px pairs such as spain=768,france=1024"),
]
SEEDS = Annotated[
    str,
    StringConstraints(pattern=r"^\d+(,\d+)*$"),
    Accepts("integers >= 0 separated by commas, e.g. 0,1,2"),
]
TILE = Annotated[int, at.Ge(16)]
SCALE = Annotated[float, at.Gt(0)]

if TYPE_CHECKING:
    from cropmap.simulate.scene import SceneConfig


def _regions() -> object:
    """The simulator's region registry, as a choice (imported when checked)."""
    from cropmap.simulate.regions import REGIONS

    return choice(*REGIONS)


def _scene_config(**values: object) -> SceneConfig:
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
        SCENE,
        "year",
        "--year",
        help="Season year. Each orbit repeats every 6 days in 2017-2021 (Sentinel-1A and "
        "1B), every 12 days in other years.",
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
        path = simulate_scene(**cfg.model_dump(), out_dir=out, overwrite=overwrite, progress=tick)
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
    out: Path = typer.Option(..., "--out", "-o", help="Folder of cached scenes and results."),
    size: str | None = checked(
        SIZES,
        None,
        "--size",
        help="Scene side in pixels: one number, or region=px pairs "
        "(default: the poster preset's 1536/2048/2560).",
    ),
    scale: float = checked(SCALE, 1.0, "--scale", help="Factor on every scene size."),
    year: int = checked(YEAR, 2021, "--year", help="Season year (the experiments' default)."),
    seeds: str = checked(SEEDS, "0,1,2", "--seeds", help="Scene and forest seeds, one run each."),
    tile: int = checked(TILE, 256, "--tile", help="Split tile (patch) side, pixels."),
) -> None:
    """Measure how hard the regions are: the poster's ten RF cells on simulated scenes.

    Simulates, composites and rasterizes one scene per region and seed (cached in
    OUT/scenes), fits the pixel random forest of the experiment presets on the training
    tiles of Spain, France and the Netherlands and scores it on the test tiles of the
    same and of the other rice region. Writes OUT/difficulty.csv (every run) and
    OUT/difficulty.md (mean +- std beside the poster).

    Example: cropmap simulate-rf --out /tmp/sim-rf --scale 0.5 --tile 128 --seeds 0
    """
    import csv
    import io

    from cropmap.evaluate.difficulty import (
        difficulty_runs,
        format_summary,
        scene_sizes,
        summarize,
    )
    from cropmap.io.atomic import atomic_write_text

    seed_list = [int(x) for x in seeds.split(",")]
    sizes = scene_sizes(size, scale, tile)
    rows = difficulty_runs(
        out / "scenes", sizes, year=year, seeds=seed_list, tile=tile, progress=typer.echo
    )
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(out / "difficulty.csv", buf.getvalue())
    table = format_summary(summarize(rows))
    head = f"sizes {sizes}, year {year}, seeds {seed_list}, tile {tile} px\n\n"
    atomic_write_text(out / "difficulty.md", head + table + "\n")
    typer.echo(head + table)


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.command("simulate")(simulate)
    app.command("simulate-plots")(simulate_plots)
    app.command("simulate-rf")(simulate_rf)
