"""Tiled prediction of a whole raster into a Cloud-Optimized GeoTIFF map.

:func:`predict_raster` slides ``window x window`` windows with ``overlap`` pixels over the
input (a composite GeoTIFF, or a Sentinel-1 folder plus calendar composited window by
window), batches them through an engine (``torch`` or ``onnx``), blends overlapping
predictions with smooth weights (:mod:`.windows`) and writes each finished strip of rows
at once, so peak memory depends on the raster's width, not its size. With
``dask_workers`` or ``scheduler`` the window rows run on Dask workers; the map is the
same bit for bit.

Default overlap, 64 px: the U-Net's outer ~32 px see zero padding instead of context and
are less accurate; with 64 px of overlap the raised-cosine ramps give those pixels almost
no weight wherever a neighbouring window sees them in its interior, which removes visible
seams (see ``benchmarks/predict.py``, seam check). The overlap is recomputed: 512 px
windows (the default) compute ``(512 / 448)^2 = 1.31`` times the area of non-overlapping
windows, 256 px windows 1.78 times. The network is fully convolutional, so windows larger
than its training patches are fine; memory follows the pixels per forward pass, so the
default batch holds :data:`BATCH_PIXELS` (one 512 px window, four of 256 px).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from cropmap.errors import ConfigError
from cropmap.infer.cog import NODATA, open_map, quantize
from cropmap.infer.early import early_season_model
from cropmap.infer.engines import (
    check_engine,
    check_precision,
    choose_engine,
    default_precision,
)
from cropmap.infer.onnx import find_export
from cropmap.infer.quantize import onnx_for_run
from cropmap.infer.sources import Source, SourceSpec
from cropmap.infer.tiles import Plan, RowAccumulator, RowResult, predict_row, read_env
from cropmap.io.style import write_class_styles
from cropmap.models.registry import ModelMeta, read_meta

log = logging.getLogger(__name__)

#: Default window overlap in pixels (see the module docstring for why).
DEFAULT_OVERLAP = 64
#: Default window size in pixels: 1.26x faster than 256 px windows at the same memory
#: (docs/predict.md, "Windows, overlap and blending"), the overlap being a smaller share.
DEFAULT_WINDOW = 512
#: Pixels per forward pass when the batch size is not given: peak memory follows it.
BATCH_PIXELS = 4 * 256 * 256


def default_batch_size(window: int) -> int:
    """Windows per forward pass holding about :data:`BATCH_PIXELS` (at least one)."""
    return max(1, BATCH_PIXELS // (window * window))


Progress = Callable[[int, int], None]


def _periods_used(meta: ModelMeta, source: Source, periods: int | None) -> int:
    """Periods of the input the model will see: all, or the first ``periods``.

    Raises:
        ConfigError: ``periods`` outside ``1..T`` of the model or above the input's count.
    """
    n_in = len(source.periods)
    if periods is None:
        return n_in
    if not 1 <= periods <= min(meta.n_periods, n_in):
        raise ConfigError(
            f"--periods must be in 1..{min(meta.n_periods, n_in)} (the model has "
            f"{meta.n_periods} periods, the input {n_in}), got {periods}"
        )
    return periods


def finalize(
    probs: np.ndarray, valid: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Blended probabilities ``(K, h, W)`` -> uint8 probability and class bands.

    Two classes (``K = 1``): band 1 is P(target), the class is ``P >= threshold``.
    More classes: band 1 is the winning class's probability, the class is the argmax.
    """
    if probs.shape[0] == 1:
        p = probs[0]
        cls = (p >= threshold).astype(np.uint8)
    else:
        cls = np.argmax(probs, axis=0).astype(np.uint8)
        p = np.take_along_axis(probs, cls[None].astype(np.intp), axis=0)[0]
    cls[~valid] = NODATA
    return quantize(p, valid), cls


def _check_args(window: int, overlap: int, batch_size: int, threshold: float) -> None:
    if window < 16:
        raise ConfigError(f"window must be at least 16 px, got {window}")
    if not 0 <= overlap < window // 2 + 1:
        raise ConfigError(f"overlap must be in [0, {window // 2}] for window {window}")
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
    if not 0.0 < threshold < 1.0:
        raise ConfigError(f"threshold must be in (0, 1), got {threshold}")


def _local_rows(
    plan: Plan, source: Source, rows: list, report: Callable[[int], None]
) -> Iterator[RowResult]:
    engine = plan.load()
    for row in rows:
        yield predict_row(plan, source, row, engine=engine, on_batch=report)


def predict_raster(
    model_dir: str | os.PathLike,
    input: str | os.PathLike,
    out_path: str | os.PathLike,
    *,
    window: int = DEFAULT_WINDOW,
    overlap: int | None = None,
    batch_size: int | None = None,
    engine: str = "auto",
    precision: str | None = None,
    onnx_path: str | os.PathLike | None = None,
    periods: int | None = None,
    early_batchnorm: bool = True,
    threshold: float = 0.5,
    calendar: str | None = None,
    year: int | None = None,
    units: str = "auto",
    threads: int | None = None,
    dask_workers: int = 0,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> Path:
    """Map a whole raster with a model and write a COG.

    Args:
        model_dir: model directory (``model.json`` + weights).
        input: composite GeoTIFF (``P1_VV, P1_VH, ...`` in dB), or a folder of Sentinel-1
            dates composited on the fly with ``calendar`` (and ``year``).
        out_path: output map; written atomically.
        window: window size in pixels (the default 512 recomputes less overlap than
            windows of the 256 px training patches would; see the module docs).
        overlap: pixels shared by neighbouring windows (default: 64, or a quarter of
            smaller windows; see the module docs).
        batch_size: windows per forward pass (default: as many as hold
            :data:`BATCH_PIXELS` pixels: 1 of 512 px, 4 of 256 px).
        engine: ``"onnx"`` (onnxruntime; the model is exported once into
            ``<model_dir>/model.onnx``), ``"torch"``, or ``"auto"`` (default): the
            faster for this map, measured in docs/predict.md: onnx once the model has an
            export or for rasters from 1 million pixels up (the export pays back), torch
            below and on CUDA (:func:`cropmap.infer.engines.choose_engine`).
        precision: ``"int8"`` (onnx: statically quantized, calibrated on this input's own
            windows), ``"fp32"``, or ``"bf16"`` (torch: autocast, channels-last)
            (:data:`cropmap.infer.engines.PRECISIONS`). Default: the engine's fastest
            whose maps stay within 0.005 IoU of fp32 on a trained model (tested), int8
            on onnx from 2048 x 2048 px up (below, quantizing costs more than it saves):
            :func:`cropmap.infer.engines.default_precision`.
        onnx_path: fp32 (or int8) ONNX file for ``engine="onnx"`` (default: the model's
            own export, made on first use).
        periods: early season: use only the first ``k`` periods; the rest are padded with
            the model's time padding (time-inversed by default).
        early_batchnorm: with ``periods`` below the model's, re-estimate the batch-norm
            statistics on the input's own first ``periods`` periods (default; see
            :mod:`cropmap.infer.early`); False keeps the saved full-season statistics.
        threshold: probability at or above which a pixel gets the target class.
        calendar: calendar name or file, for a Sentinel-1 folder input.
        year: season year, for a Sentinel-1 folder input.
        units: units of a Sentinel-1 folder's files: ``linear``, ``db`` or ``auto``.
        threads: intra-op threads of the engine (default: the library's own choice).
        dask_workers: run on a new local Dask cluster of this many processes.
        scheduler: address of an existing Dask scheduler (workers must see the files).
        progress: called as ``progress(pixels_done, pixels_total)``.

    Returns:
        ``out_path``. Band 1: probability (uint8, ``p * 254``, 255 nodata); band 2: class
        (uint8, 255 nodata); input CRS and transform; internal overviews. Beside it, the
        class band's style: ``<stem>.qml`` (QGIS) and ``<stem>.class.vrt`` (a paletted
        GDAL view), see :mod:`cropmap.io.style`.

    Raises:
        ModelFileError: the model does not fit the input (bands, periods).
        ConfigError: bad option values.
        RasterReadError, RasterWriteError: unreadable input or unwritable output.
    """
    if overlap is None:
        overlap = min(DEFAULT_OVERLAP, window // 4)
    if batch_size is None:
        batch_size = default_batch_size(window)
    _check_args(window, overlap, batch_size, threshold)
    check_engine(engine)
    if precision is not None:
        check_precision(engine, precision)
    model_dir = Path(model_dir)
    meta = read_meta(model_dir)
    meta.require_kind("recurrent_unet", "tiled prediction")
    spec = SourceSpec(str(Path(input).resolve()), calendar, year, tuple(meta.bands), units)
    source = spec.open()
    n_used = _periods_used(meta, source, periods)
    meta.check_input(source.bands, n_used, allow_early=periods is not None, selectable=True)
    early = early_batchnorm and n_used < meta.n_periods
    if early and onnx_path is not None:
        raise ConfigError(
            f"--onnx {onnx_path} runs a fixed export, but an early-season map ({n_used} of "
            f"{meta.n_periods} periods) re-estimates the model's batch-norm statistics on "
            "the input: drop --onnx, or keep the saved statistics with --saved-batchnorm"
        )
    model_sha = meta.weights_sha256  # the user's model, also when mapping with a copy
    with contextlib.ExitStack() as stack:
        if early:  # a copy whose batch norms fit the input's first periods
            model_dir = stack.enter_context(
                early_season_model(model_dir, meta, source, window, n_used, out_path)
            )
            meta = read_meta(model_dir)
        engine = choose_engine(
            engine,
            source.height * source.width,
            has_export=lambda: find_export(model_dir, meta) is not None,
            precision=precision,
            onnx_path=onnx_path,
        )
        precision = precision or default_precision(engine, source.height * source.width)
        onnx_file = None
        if engine == "onnx":  # the fp32 export (made once per model), or an int8 copy
            onnx_file = stack.enter_context(
                onnx_for_run(
                    model_dir, meta, precision, onnx_path, source, window, periods, out_path
                )
            )
        plan = Plan(
            model_dir=str(model_dir.resolve()),
            source=spec,
            meta=meta,
            engine=engine,
            precision=precision,
            onnx_path=onnx_file,
            window=window,
            overlap=overlap,
            batch_size=batch_size,
            periods=periods,
            threads=threads,
        )
        height, width = source.height, source.width
        rows = plan.rows(height, width)
        total = height * width
        n_windows = sum(len(r) for r in rows)
        done = [0]

        def report(n: int) -> None:
            done[0] += n
            if progress is not None:
                progress(min(total, done[0] * total // n_windows), total)

        if dask_workers or scheduler:
            from cropmap.infer.dask_driver import dask_rows

            results = dask_rows(plan, len(rows), dask_workers, scheduler, rows=rows, report=report)
        else:
            results = _local_rows(plan, source, rows, report)
        tags = {
            "CLASSES": ",".join(meta.classes),
            "TARGET": meta.target,
            "THRESHOLD": threshold,
            "PROBABILITY_SCALE": 254,
            "MODEL_SHA256": model_sha,
            "PERIODS_USED": periods or meta.n_periods,
            "BATCHNORM": "input" if early else "saved",
            "WINDOW": window,
            "OVERLAP": overlap,
            "ENGINE": engine,
            "EMPTY_PERIODS": len(source.empty_periods),
            "EMPTY_PERIOD_NAMES": ",".join(source.empty_periods),
            "PRECISION": precision,
        }
        desc = (f"probability_{meta.target}", "class")
        acc = RowAccumulator(width)
        with (
            read_env(),
            open_map(
                out_path,
                width=width,
                height=height,
                crs=source.crs,
                transform=source.transform,
                descriptions=desc,
                tags=tags,
            ) as out,
        ):
            for i, res in enumerate(results):
                acc.add(res)
                until = rows[i + 1][0].row if i + 1 < len(rows) else height
                row0, probs, valid = acc.pop(until)
                if probs.shape[1]:
                    out.write_rows(row0, *finalize(probs, valid, threshold))
        write_class_styles(
            out_path,
            meta.classes,
            width=width,
            height=height,
            crs_wkt=source.crs.to_wkt() if source.crs is not None else "",
            transform=source.transform,
        )
    log.info("wrote %s (%d x %d px, %d windows)", out_path, width, height, n_windows)
    return Path(out_path)
