"""CLI commands of the 'data' group: ``composite``, ``rasterize`` and ``patches``.

Thin wiring over :mod:`cropmap.sar` and :mod:`cropmap.data`; heavy imports stay inside
the commands so that ``cropmap --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cropmap.cli.common import (
    legacy_out_argument,
    out_option,
    parse_bands,
    parse_list,
    resolve_out,
)
from cropmap.cli.progress import progress
from cropmap.errors import OptionError


def composite(
    s1: Path | None = typer.Argument(
        None, help="Folder of per-date GeoTIFFs, or one multi-band stack (not with --stac)."
    ),
    legacy_out: Path | None = legacy_out_argument(),
    out: Path | None = out_option("Output composite GeoTIFF (.count.tif written beside)."),
    calendar: str = typer.Option(
        ...,
        "--calendar",
        "-c",
        help="Preset (korea-rice, spain-rice, france-rice, netherlands-barley) or YAML file.",
    ),
    year: int | None = typer.Option(None, "--year", help="Season start year (default: guessed)."),
    bands: str = typer.Option("VV,VH", "--bands", help="Polarisations to use, in output order."),
    file_bands: str | None = typer.Option(
        None, "--file-bands", help="Names of the input files' bands in order, e.g. VV,VH."
    ),
    units: str = typer.Option("auto", "--units", help="linear, db or auto (detected)."),
    dates: Path | None = typer.Option(
        None, "--dates", help="Dates sidecar of a stack (one YYYY-MM-DD per line)."
    ),
    align: bool = typer.Option(
        False, "--align", help="Reproject inputs on another grid onto the reference grid."
    ),
    reference: Path | None = typer.Option(
        None, "--reference", help="Raster defining the output grid (default: first date)."
    ),
    resampling: str = typer.Option("nearest", "--resampling", help="Resampling for --align."),
    average: str = typer.Option(
        "linear", "--average", help="Domain of the mean reducer: linear (power) or db."
    ),
    block_rows: int = typer.Option(512, "--block-rows", help="Rows per processing window."),
    allow_duplicate_dates: bool = typer.Option(
        False,
        "--allow-duplicate-dates",
        help="Accept several acquisitions on one date (e.g. two orbits the same day).",
    ),
    dask_workers: int = typer.Option(0, "--dask-workers", help="Local Dask worker processes."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Address of a running Dask scheduler (tcp://host:8786)."
    ),
    stac: str | None = typer.Option(
        None, "--stac", help="STAC API URL or static catalog.json to search instead of S1."
    ),
    collection: str | None = typer.Option(
        None, "--collection", help="STAC collection id (e.g. sentinel-1-rtc); with --stac."
    ),
    bbox: str | None = typer.Option(
        None, "--bbox", help="Area W,S,E,N (in --bbox-crs); with --stac (or --reference)."
    ),
    bbox_crs: str = typer.Option("EPSG:4326", "--bbox-crs", help="CRS of --bbox."),
    orbit: str = typer.Option(
        "any",
        "--orbit",
        help="With --stac: any (passes of a day mosaicked), ascending, descending or both "
        "(relative orbits kept apart).",
    ),
    sign: str | None = typer.Option(
        None,
        "--sign",
        help="With --stac: URL-signing hook, planetary-computer or module:function.",
    ),
) -> None:
    """Composite a Sentinel-1 time series by phenology calendar into one T x C GeoTIFF (dB).

    Bands are period-major (P1_VV, P1_VH, P2_VV, ...); OUT's .count.tif holds the number of
    valid acquisitions per period. With --stac, the season is searched in a STAC catalogue
    over --bbox and loaded lazily onto a UTM 10 m grid (or --reference's).

    Example: cropmap composite data/korea/s1 --calendar korea-rice --out data/korea/composite.tif
    """
    from cropmap.sar import composite_folder

    band_list = parse_bands(bands) or ["VV", "VH"]
    if stac is not None:
        if s1 is not None and out is None and legacy_out is None:
            s1, legacy_out = None, s1  # `--stac CAT ... OUT.tif`: the one positional is OUT
        unused = {"S1": s1, "--file-bands": file_bands, "--dates": dates, "--align": align,
                  "--dask-workers": dask_workers, "--scheduler": scheduler}  # fmt: skip
        extra = [k for k, v in unused.items() if v]
        if extra:
            raise OptionError(f"{extra[0]}: not used with --stac; drop it")
        if collection is None or year is None:
            raise OptionError("--stac needs --collection NAME and --year YEAR")
        out = resolve_out(out, legacy_out, "composite")
        from cropmap.sar.stac import composite_stac

        with progress("composite from STAC", unit="windows") as tick:
            path = composite_stac(
                stac,
                collection,
                calendar,
                out,
                year=year,
                bbox=bbox,
                bbox_crs=bbox_crs,
                bands=band_list,
                orbit=orbit,  # type: ignore[arg-type]
                units=units,
                reference=reference,
                resampling=resampling,
                average=average,  # type: ignore[arg-type]
                sign=sign,
                block_rows=block_rows,
                progress=tick,
            )
        _report_composite(path)
        return
    if s1 is None:
        raise OptionError("S1: missing; give a folder of GeoTIFFs (or --stac CATALOG)")
    out = resolve_out(out, legacy_out, "composite")
    file_band_list = parse_list(file_bands, "--file-bands")

    with progress("composite", unit="windows") as tick:
        path = composite_folder(
            s1,
            calendar,
            out,
            year=year,
            bands=band_list,
            units=units,
            file_bands=file_band_list,
            dates=dates,
            reference=reference,
            align=align,
            resampling=resampling,
            average=average,  # type: ignore[arg-type]
            block_rows=block_rows,
            progress=tick,
            dask_workers=dask_workers,
            scheduler=scheduler,
            allow_duplicate_dates=allow_duplicate_dates,
        )
    _report_composite(path)


def _report_composite(path: Path) -> None:
    import json

    from cropmap.io.raster import open_raster
    from cropmap.sar import composite_layout

    periods, names = composite_layout(path)
    with open_raster(path) as ds:
        per_period = json.loads(ds.tags().get("PERIOD_DATES", "{}"))
    counts = ", ".join(f"{p} {len(per_period.get(p, []))}" for p in periods)
    typer.echo(
        f"wrote {path} ({len(periods)} periods x {', '.join(names)}, dB) "
        f"and {path.with_name(path.stem + '.count.tif').name}; acquisitions per period: {counts}"
    )


def rasterize(
    parcels: Path = typer.Argument(..., help="Parcel vectors (GeoPackage, Shapefile, ...)."),
    grid: Path = typer.Argument(..., help="Raster whose grid the labels take (the composite)."),
    legacy_out: Path | None = legacy_out_argument(),
    out: Path | None = out_option("Output label GeoTIFF (uint8, 255 = ignore)."),
    class_column: str | None = typer.Option(
        None,
        "--class-column",
        help="Column of class names or codes (default: crop, or the mapping's).",
    ),
    target: str = typer.Option(
        "rice", "--target", help="Class(es) labelled 1, comma-separated (e.g. rice or barley)."
    ),
    mapping: str | None = typer.Option(
        None,
        "--mapping",
        help="Codes/names -> values: a YAML file or a preset (france-rpg, catalonia-dun, "
        "netherlands-brp, korea-farmmap); replaces --target.",
    ),
    default: int | None = typer.Option(
        None, "--default", help="Value of every other class (default 0, or the mapping's)."
    ),
    unknown: int | None = typer.Option(
        None, "--unknown", help="Value of parcels without a class (default 255, or the mapping's)."
    ),
    background: int = typer.Option(
        0, "--background", help="Value outside every parcel (0, or 255 to ignore it)."
    ),
    all_touched: bool = typer.Option(False, "--all-touched", help="Burn every touched pixel."),
    layer: str | None = typer.Option(None, "--layer", help="Layer of a multi-layer file."),
) -> None:
    """Rasterize parcels (any CRS, reprojected) onto a composite's grid as labels.

    Classes not in the mapping get --default and are listed with their parcel counts.

    Example: cropmap rasterize data/korea/parcels.gpkg data/korea/composite.tif --target rice --out data/korea/labels.tif
    """  # noqa: E501
    from cropmap.data import rasterize_parcels

    out = resolve_out(out, legacy_out, "rasterize")
    targets = dict.fromkeys(parse_list(target, "--target") or [], 1)
    report = rasterize_parcels(
        parcels,
        grid,
        out,
        class_column=class_column,
        mapping=mapping or targets,
        default=default,
        unknown=unknown,
        background=background,
        all_touched=all_touched,
        layer=layer,
    )
    typer.echo(report.summary())


def patches(
    composite: Path = typer.Argument(..., help="Composite GeoTIFF."),
    labels: Path = typer.Argument(..., help="Label GeoTIFF on the composite's grid."),
    legacy_out: Path | None = legacy_out_argument(),
    out: Path | None = out_option("Patch store folder to write."),
    size: int = typer.Option(256, "--size", help="Patch size in pixels."),
    stride: int | None = typer.Option(None, "--stride", help="Step between patches."),
    split: str = typer.Option("blocks", "--split", help="blocks (spatial) or random."),
    fractions: str = typer.Option("0.7,0.15,0.15", "--fractions", help="train,val,test."),
    block: int = typer.Option(4, "--block", help="Spatial block side, in patch sizes."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split."),
    region: str = typer.Option("", "--region", help="Region name recorded in the manifest."),
    target: str = typer.Option("rice", "--target", help="Target class name (label 1)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing store."),
) -> None:
    """Tile composite + labels into a patch store with spatial train/val/test splits.

    Example: cropmap patches data/korea/composite.tif data/korea/labels.tif --region korea --out data/korea/patches
    """  # noqa: E501
    from cropmap.data import build_patches
    from cropmap.data.splits import check_fractions
    from cropmap.errors import OptionError

    out = resolve_out(out, legacy_out, "patches")
    try:
        items = parse_list(fractions, "--fractions", unique=False) or []
        fr = list(check_fractions([float(f) for f in items]))
    except ValueError:
        raise OptionError(
            f"--fractions: {fractions!r} is invalid; accepted: three numbers >= 0 "
            "summing to 1 (train,val,test), e.g. 0.7,0.15,0.15"
        ) from None
    with progress("patches", unit="patches") as tick:
        m = build_patches(
            composite,
            labels,
            out,
            size=size,
            stride=stride,
            split=split,
            fractions=fr,
            block=block,
            seed=seed,
            region=region,
            target=target,
            overwrite=force,
            progress=tick,
        )
    counts = ", ".join(f"{k} {v}" for k, v in m.counts().items())
    typer.echo(f"wrote {len(m.patches)} patches to {out} ({counts}); skipped {m.dropped}")


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.command("composite")(composite)
    app.command("rasterize")(rasterize)
    app.command("patches")(patches)
