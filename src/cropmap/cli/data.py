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
    removed_on_failure,
    resolve_out,
)
from cropmap.cli.options import (
    LABEL_VALUE,
    NON_NEGATIVE,
    POSITIVE,
    YEAR,
    api_option,
    attr,
    checked,
    choice,
    given,
    resamplings,
)
from cropmap.cli.progress import progress
from cropmap.errors import OptionError

COMPOSITE = "cropmap.sar.composite:composite_folder"
RASTERIZE = "cropmap.data.labels:rasterize_parcels"
PATCHES = "cropmap.data.patches:build_patches"


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
    year: int | None = checked(
        YEAR, None, "--year", help="Season start year (default: guessed from the dates)."
    ),
    bands: str | None = api_option(
        COMPOSITE, "bands", str, "--bands", "-b", help="Polarisations to use, in output order."
    ),
    file_bands: str | None = typer.Option(
        None, "--file-bands", help="Names of the input files' bands in order, e.g. VV,VH."
    ),
    units: str | None = api_option(
        COMPOSITE, "units", attr("cropmap.sar.db:Units"), "--units", help="linear, db or auto."
    ),
    dates: Path | None = typer.Option(
        None, "--dates", help="Dates sidecar of a stack (one YYYY-MM-DD per line)."
    ),
    align: bool = typer.Option(
        False, "--align", help="Reproject inputs on another grid onto the reference grid."
    ),
    reference: Path | None = typer.Option(
        None, "--reference", help="Raster defining the output grid (default: first date)."
    ),
    resampling: str | None = api_option(
        COMPOSITE, "resampling", resamplings, "--resampling", help="Resampling for --align."
    ),
    average: str | None = api_option(
        COMPOSITE,
        "average",
        attr("cropmap.sar.reducers:Average"),
        "--average",
        help="Domain of the mean reducer: linear (power) or db.",
    ),
    block_rows: int | None = api_option(
        COMPOSITE, "block_rows", POSITIVE, "--block-rows", help="Rows per processing window."
    ),
    allow_duplicate_dates: bool = typer.Option(
        False,
        "--allow-duplicate-dates",
        help="Accept several acquisitions on one date (e.g. two orbits the same day).",
    ),
    dask_workers: int = checked(
        NON_NEGATIVE, 0, "--dask-workers", help="Local Dask worker processes (0: none)."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Address of a running Dask scheduler (tcp://host:8786)."
    ),
    threads: int | None = api_option(
        COMPOSITE,
        "threads",
        POSITIVE,
        "--threads",
        help="Windows composited at once (none: one per CPU, at most 2); same output.",
    ),
    compress: str | None = api_option(
        COMPOSITE,
        "compress",
        choice("zstd", "deflate", "none"),
        "--compress",
        help="Output compression: zstd (level 1), deflate, or none (fastest, largest).",
    ),
    stac: str | None = typer.Option(
        None, "--stac", help="STAC API URL or static catalog.json to search instead of S1."
    ),
    collection: str | None = typer.Option(
        None,
        "--collection",
        help="STAC collection id (e.g. sentinel-1-rtc); with --stac (default: any, for "
        "static catalogues whose items name none).",
    ),
    bbox: str | None = typer.Option(
        None, "--bbox", help="Area W,S,E,N (in --bbox-crs); with --stac (or --reference)."
    ),
    bbox_crs: str = typer.Option("EPSG:4326", "--bbox-crs", help="CRS of --bbox."),
    orbit: str = checked(
        attr("cropmap.sar.stac_search:Orbit"),
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

    band_list = parse_bands(bands)
    common = given(
        bands=band_list,
        units=units,
        resampling=resampling,
        average=average,
        block_rows=block_rows,
        compress=compress,
    )
    if stac is not None:
        if s1 is not None and out is None and legacy_out is None:
            s1, legacy_out = None, s1  # `--stac CAT ... OUT.tif`: the one positional is OUT
        unused = {"S1": s1, "--file-bands": file_bands, "--dates": dates, "--align": align,
                  "--threads": threads}  # fmt: skip
        extra = [k for k, v in unused.items() if v]
        if extra:
            raise OptionError(f"{extra[0]}: not used with --stac; drop it")
        if year is None:
            raise OptionError("--year: missing; --stac needs the season's start year")
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
                orbit=orbit,  # type: ignore[arg-type]
                reference=reference,
                sign=sign,
                progress=tick,
                dask_workers=dask_workers,
                scheduler=scheduler,
                **common,
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
            file_bands=file_band_list,
            dates=dates,
            reference=reference,
            align=align,
            progress=tick,
            dask_workers=dask_workers,
            scheduler=scheduler,
            allow_duplicate_dates=allow_duplicate_dates,
            **common,
            **given(threads=threads),
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
    default: int | None = checked(
        LABEL_VALUE,
        None,
        "--default",
        help="Value of every other class (default 0, or the mapping's).",
    ),
    unknown: int | None = checked(
        LABEL_VALUE,
        None,
        "--unknown",
        help="Value of parcels without a class (default 255, or the mapping's).",
    ),
    background: int | None = api_option(
        RASTERIZE,
        "background",
        LABEL_VALUE,
        "--background",
        help="Value outside every parcel (0, or 255 to ignore it).",
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
        all_touched=all_touched,
        layer=layer,
        **given(background=background),
    )
    typer.echo(report.summary())


def patches(
    composite: Path = typer.Argument(..., help="Composite GeoTIFF."),
    labels: Path = typer.Argument(..., help="Label GeoTIFF on the composite's grid."),
    legacy_out: Path | None = legacy_out_argument(),
    out: Path | None = out_option("Patch store folder to write."),
    size: int | None = api_option(
        PATCHES, "size", POSITIVE, "--size", help="Patch size in pixels."
    ),
    stride: int | None = api_option(
        PATCHES, "stride", POSITIVE, "--stride", help="Step between patches (none: --size)."
    ),
    split: str | None = api_option(
        PATCHES, "split", choice("blocks", "random"), "--split", help="blocks (spatial) or random."
    ),
    fractions: str | None = api_option(
        PATCHES, "fractions", str, "--fractions", help="train,val,test shares."
    ),
    block: int | None = api_option(
        PATCHES, "block", POSITIVE, "--block", help="Spatial block side, in patch sizes."
    ),
    seed: int | None = api_option(PATCHES, "seed", NON_NEGATIVE, "--seed", help="Split seed."),
    region: str | None = api_option(
        PATCHES, "region", str, "--region", help="Region name recorded in the manifest."
    ),
    target: str | None = api_option(
        PATCHES, "target", str, "--target", help="Target class name (label 1)."
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing store."),
    workers: int | None = api_option(
        PATCHES,
        "workers",
        NON_NEGATIVE,
        "--workers",
        help="Processes writing patches (0: one per CPU); the store is the same.",
    ),
) -> None:
    """Tile composite + labels into a patch store with spatial train/val/test splits.

    Example: cropmap patches data/korea/composite.tif data/korea/labels.tif --region korea --out data/korea/patches
    """  # noqa: E501
    from cropmap.data import build_patches
    from cropmap.data.splits import check_fractions

    out = resolve_out(out, legacy_out, "patches")
    try:
        items = parse_list(fractions, "--fractions", unique=False)
        fr = None if items is None else list(check_fractions([float(f) for f in items]))
    except ValueError:
        raise OptionError(
            f"--fractions: {fractions!r} is invalid; accepted: three numbers >= 0 "
            "summing to 1 (train,val,test), e.g. 0.7,0.15,0.15"
        ) from None
    with removed_on_failure(out), progress("patches", unit="patches") as tick:
        m = build_patches(
            composite,
            labels,
            out,
            overwrite=force,
            progress=tick,
            **given(
                size=size,
                stride=stride,
                split=split,
                fractions=fr,
                block=block,
                seed=seed,
                region=region,
                target=target,
                workers=workers,
            ),
        )
    counts = ", ".join(f"{k} {v}" for k, v in m.counts().items())
    if m.block is not None:
        asked = f" (asked {m.block_requested})" if m.block != m.block_requested else ""
        counts += f"; spatial block {m.block}{asked} patch sizes"
    typer.echo(f"wrote {len(m.patches)} patches to {out} ({counts}); skipped {m.dropped}")


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.command("composite")(composite)
    app.command("rasterize")(rasterize)
    app.command("patches")(patches)
