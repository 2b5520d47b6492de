"""CLI commands of the 'infer' group: ``predict``, ``export`` and ``parcels``.

Thin wiring over :mod:`cropmap.infer`; torch, rasterio, onnxruntime and dask load inside
the commands so that ``cropmap --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import annotated_types as at
import typer

from cropmap.cli.common import deprecated
from cropmap.cli.options import (
    NON_NEGATIVE,
    POSITIVE,
    PROBABILITY,
    YEAR,
    api_option,
    attr,
    checked,
    choice,
    given,
)
from cropmap.cli.progress import progress

PREDICT = "cropmap.infer.predict:predict_raster"
EXPORT = "cropmap.infer.onnx:export_onnx"
#: Window sides the Recurrent U-Net takes: multiples of 16 (four 2x poolings).
WINDOW = Annotated[int, at.Ge(16), at.MultipleOf(16)]
#: Windows of a map are padded to the model's multiple: any side from 16 px.
MIN_WINDOW = Annotated[int, at.Ge(16)]


def _engines() -> object:
    """The inference engines of the registry, as a choice (checked lazily)."""
    from cropmap.infer.engines import ENGINES

    return choice("auto", *ENGINES)


def _precisions() -> object:
    """The inference precisions (fp32, bf16, int8), as a choice (checked lazily)."""
    from cropmap.infer.engines import PRECISIONS

    return choice(*PRECISIONS)


if TYPE_CHECKING:
    from cropmap.evaluate.mapped import MappedArea


def predict(
    model: Path = typer.Argument(..., help="Model directory (model.json + weights)."),
    input: Path = typer.Argument(
        ..., help="Composite GeoTIFF (P1_VV, P1_VH, ... in dB), or a folder of S1 dates."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output map (Cloud-Optimized GeoTIFF)."),
    window: int | None = api_option(
        PREDICT, "window", MIN_WINDOW, "--window", help="Window size in pixels."
    ),
    overlap: int | None = api_option(
        PREDICT,
        "overlap",
        NON_NEGATIVE,
        "--overlap",
        help="Pixels shared by neighbouring windows, blended smoothly (none: 64, or "
        "window/4 for smaller windows).",
    ),
    batch_size: int | None = api_option(
        PREDICT,
        "batch_size",
        POSITIVE,
        "--batch-size",
        help="Windows per forward pass (none: as many as hold 262,144 px, e.g. 1 window "
        "of 512 px or 4 of 256 px; memory follows the pixels per pass).",
    ),
    engine: str | None = api_option(
        PREDICT,
        "engine",
        _engines,
        "--engine",
        help="Inference engine: torch, onnx, or auto: onnx once the model has an export "
        "(cropmap export) or for maps from 1 million px up, torch below and on a GPU.",
    ),
    precision: str | None = api_option(
        PREDICT,
        "precision",
        _precisions,
        "--precision",
        help="Numeric precision: fp32, bf16 (torch engine) or int8 (onnx engine); none: "
        "the engine's fastest within 0.005 IoU of fp32 (onnx: int8 from 2048x2048 px up, "
        "else fp32; torch: bf16 where the CPU has native bf16).",
    ),
    onnx: Path | None = typer.Option(
        None, "--onnx", help="ONNX file for --engine onnx (default MODEL/model.onnx)."
    ),
    periods: int | None = checked(
        POSITIVE,
        None,
        "--periods",
        help="Early season: use the first k periods (rest padded); the model's batch-norm "
        "statistics are re-estimated on the input's own first k periods.",
    ),
    saved_batchnorm: bool = typer.Option(
        False,
        "--saved-batchnorm",
        help="With --periods: keep the model's saved full-season batch-norm statistics.",
    ),
    threshold: float | None = api_option(
        PREDICT, "threshold", PROBABILITY, "--threshold", help="Probability of the target class."
    ),
    calendar: str | None = typer.Option(
        None, "--calendar", "-c", help="Calendar preset or YAML, for a folder of S1 dates."
    ),
    year: int | None = checked(YEAR, None, "--year", help="Season year, for a folder input."),
    units: str | None = api_option(
        PREDICT,
        "units",
        attr("cropmap.sar.db:Units"),
        "--units",
        help="Units of a folder's files: linear, db or auto (detected).",
    ),
    threads: int | None = checked(POSITIVE, None, "--threads", help="Engine threads per process."),
    dask_workers: int = checked(
        NON_NEGATIVE, 0, "--dask-workers", help="Local Dask worker processes (0: none)."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Address of a running Dask scheduler (tcp://host:8786)."
    ),
    preview: bool = typer.Option(
        False, "--preview", help="Also write a PNG quick-look beside the map (OUT with .png)."
    ),
) -> None:
    """Map a whole raster with a model: sliding windows, blended, written as a COG.

    Band 1: target probability (uint8, p x 254); band 2: class; 255 = nodata. Beside it:
    OUT.qml (QGIS style) and OUT.class.vrt (the class band with a colour table). Prints the
    mapped area of the target crop in hectares.

    Example: cropmap predict runs/korea/model data/spain/composite.tif --out maps/spain.tif
    """
    from cropmap.evaluate.mapped import mapped_area
    from cropmap.infer import predict_raster

    with progress("predict", unit="px") as tick:
        path = predict_raster(
            model,
            input,
            out,
            onnx_path=onnx,
            periods=periods,
            early_batchnorm=not saved_batchnorm,
            calendar=calendar,
            year=year,
            threads=threads,
            **given(
                window=window,
                overlap=overlap,
                batch_size=batch_size,
                engine=engine,
                precision=precision,
                threshold=threshold,
                units=units,
            ),
            dask_workers=dask_workers,
            scheduler=scheduler,
            progress=tick,
        )
    typer.echo(f"wrote {path} (COG: probability x254, class; 255 = nodata)")
    _report_area(mapped_area(path), path if preview else None)


def _report_area(area: MappedArea, preview_of: Path | None) -> None:
    """Print the mapped target area (a warning in a geographic CRS); write the preview."""
    if area.pixel_area_ha is None:
        typer.secho(f"warning: {area.path} is in a geographic CRS: no area", err=True, fg="yellow")
    typer.echo(area.summary())
    if preview_of is not None:
        from cropmap.evaluate.preview import write_preview

        png = write_preview(preview_of, preview_of.with_suffix(".png"), area=area)
        typer.echo(f"wrote {png}")


def export(
    model: Path = typer.Argument(..., help="Model directory (model.json + weights)."),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Output ONNX file (default MODEL/model.onnx, where --engine onnx looks).",
    ),
    onnx: Path | None = typer.Option(None, "--onnx", hidden=True),
    window: int | None = api_option(
        EXPORT, "window", WINDOW, "--window", help="Window size of the traced example."
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Export again even when OUT already holds an fp32 export of these weights.",
    ),
) -> None:
    """Export a model to ONNX (checked against torch within 1e-4) for --engine onnx.

    An OUT that already holds an fp32 export of the same weights (SHA-256 in its
    metadata) is kept, as `cropmap predict` would reuse it; --force exports anyway.

    Example: cropmap export runs/korea/model --out runs/korea/model/model.onnx
    """
    from cropmap.infer import export_onnx
    from cropmap.infer.onnx import ONNX_FILE, is_current_export
    from cropmap.models.registry import read_meta

    if onnx is not None:
        deprecated("export --onnx", "--out")
        out = out or onnx
    target = out if out is not None else model / ONNX_FILE
    if not force and is_current_export(target, read_meta(model)):
        typer.echo(f"{target} is up to date (fp32 export of these weights; --force re-exports)")
        return
    with progress("export"):
        path = export_onnx(model, out, **given(window=window))
    typer.echo(f"wrote {path} (max |onnx - torch| <= 1e-4 checked)")


def parcels(
    map_path: Path = typer.Argument(..., help="Map written by `cropmap predict`."),
    parcels_path: Path = typer.Argument(..., help="Parcel polygons (GeoPackage, ...; any CRS)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output GeoPackage."),
    threshold: float | None = checked(
        PROBABILITY, None, "--threshold", help="For class_threshold (default: the map's)."
    ),
) -> None:
    """Per-parcel area (ha), mean probability, class and valid-pixel fraction of a map.

    Prints the number and area (ha) of parcels whose majority class is the target crop.

    Example: cropmap parcels maps/spain.tif data/spain/parcels.gpkg --out maps/spain_parcels.gpkg
    """
    from cropmap.evaluate.mapped import mapped_area, parcel_area_summary
    from cropmap.infer import parcel_stats

    with progress("parcels"):
        path = parcel_stats(map_path, parcels_path, out, threshold=threshold)
    typer.echo(f"wrote {path}")
    typer.echo(parcel_area_summary(path, target=mapped_area(map_path).target))


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.command("predict")(predict)
    app.command("export")(export)
    app.command("parcels")(parcels)
