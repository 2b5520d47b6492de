"""CLI commands that make a map readable: ``area`` (stratified estimate) and ``preview``.

Thin wiring over :mod:`cropmap.evaluate.area_io` and :mod:`cropmap.evaluate.preview`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cropmap.cli.common import parse_list
from cropmap.cli.options import NON_NEGATIVE, POSITIVE, api_default, api_option, given
from cropmap.cli.progress import progress

SAMPLE = "cropmap.evaluate.sample:stratified_sample"


def area(
    map_path: Path = typer.Argument(..., help="Map written by `cropmap predict` (projected CRS)."),
    reference: Path = typer.Argument(
        ..., help="Reference sample: points or parcels (any vector format, any CRS)."
    ),
    column: str = typer.Option("class", "--column", help="Column with the reference class."),
    target_values: str | None = typer.Option(
        None,
        "--target-values",
        help="Comma-separated column values that mean the target crop (e.g. rice,paddy); "
        "all others are 'other'. Without it, values must be map class names or indices.",
    ),
    layer: str | None = typer.Option(None, "--layer", help="Layer of a multi-layer file."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Also write the results as .csv or .json."
    ),
) -> None:
    """Area of each class with a 95% confidence interval (Olofsson et al. 2014).

    The map's classes are the strata (their pixel counts the weights); each reference unit
    (a point, or a parcel's representative point) gives one map class and one reference
    class. Prints the error matrix in counts and area proportions, user's, producer's and
    overall accuracy with 95% CIs, and the stratified area of each class in hectares.

    Example: cropmap area maps/korea.tif data/korea/parcels.gpkg --column crop
    --target-values rice --out maps/korea_area.csv
    """
    from cropmap.evaluate.area_io import estimate_area, format_table, write_estimate

    with progress("area"):
        est = estimate_area(
            map_path,
            reference,
            column=column,
            target_values=parse_list(target_values, "--target-values"),
            layer=layer,
        )
    typer.echo(format_table(est))
    if out is not None:
        typer.echo(f"wrote {write_estimate(est, out)}")


def preview(
    map_path: Path = typer.Argument(..., help="Map written by `cropmap predict`."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output PNG (default: the map's name with .png)."
    ),
) -> None:
    """Write a small PNG quick-look of a map: classes, legend with hectares, extent in metres.

    Example: cropmap preview maps/korea.tif --out maps/korea.png
    """
    from cropmap.evaluate.mapped import mapped_area
    from cropmap.evaluate.preview import write_preview

    png = out if out is not None else Path(map_path).with_suffix(".png")
    typer.echo(f"wrote {write_preview(map_path, png, area=mapped_area(map_path))}")


def sample(
    map_path: Path = typer.Argument(..., help="Map written by `cropmap predict`."),
    out: Path = typer.Option(..., "--out", "-o", help="Output GeoPackage of sample points."),
    per_class: int | None = api_option(
        SAMPLE, "per_class", POSITIVE, "--per-class", help="Sample units per map class."
    ),
    seed: int | None = api_option(SAMPLE, "seed", NON_NEGATIVE, "--seed", help="Random seed."),
    labels: Path | None = typer.Option(
        None,
        "--labels",
        help="Label raster on the map's grid (e.g. from `cropmap rasterize`): fills the "
        "'reference' column. Without it, label the points yourself.",
    ),
) -> None:
    """Stratified random sample of map pixels (per map class), for `cropmap area`.

    Writes pixel centres with a 'map_class' column (and 'reference' with --labels).

    Example: cropmap sample maps/korea.tif --per-class 100 --labels data/korea/labels.tif
    --out maps/korea_sample.gpkg
    """
    from cropmap.evaluate.sample import stratified_sample

    with progress("sample"):
        path = stratified_sample(
            map_path, out, labels=labels, **given(per_class=per_class, seed=seed)
        )
    n = per_class if per_class is not None else api_default(SAMPLE, "per_class")()
    typer.echo(f"wrote {path} (up to {n} random pixels per map class)")


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.command("sample")(sample)
    app.command("area")(area)
    app.command("preview")(preview)
