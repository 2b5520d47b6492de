"""Static int8 quantization of an exported model, calibrated on the input's own windows.

:func:`calibration_windows` draws a few windows of the raster to be mapped (normalized
as for prediction, windows without data skipped); :func:`quantize_onnx` turns the fp32
ONNX export into a QDQ int8 graph (weights int8 per output channel, activations uint8
with ranges from those windows, onnxruntime's ``quantize_static``) and stores the model's
metadata plus ``cropmap_precision = int8`` in it, so :class:`~cropmap.infer.onnx.OnnxEngine`
can check what it loads. Calibrating on the map's own input keeps the activation ranges
right for its region and season.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from rasterio.windows import Window

from cropmap.errors import ConfigError, ModelFileError
from cropmap.infer.engines import forget_engines
from cropmap.infer.onnx import INPUT_NAME, ensure_export, onnx_meta
from cropmap.infer.sources import Source
from cropmap.infer.tiles import normalize
from cropmap.infer.windows import window_rows
from cropmap.io.atomic import atomic_path
from cropmap.models.registry import ModelMeta
from cropmap.models.time_padding import pad_time

log = logging.getLogger(__name__)

#: Windows used for calibration by default (spread evenly over the raster).
CALIBRATION_WINDOWS = 8
#: Side of a calibration window in pixels: onnxruntime keeps every activation of every
#: calibration window in memory (about 90 MB per 128 px window of the default U-Net).
CALIBRATION_SIDE = 128


def calibration_windows(
    source: Source,
    meta: ModelMeta,
    window: int,
    *,
    periods: int | None = None,
    n: int = CALIBRATION_WINDOWS,
) -> np.ndarray:
    """``(N, T, C, s, s)`` float32: up to ``n`` normalized windows of ``source``.

    ``s`` is ``min(window, CALIBRATION_SIDE)`` rounded up to the model's scale.

    Windows are taken evenly along the raster's window grid (no overlap), time-padded to
    the model's periods; windows without any data are skipped.

    Raises:
        ModelFileError: no window of the raster has data.
    """
    window = min(window, CALIBRATION_SIDE)
    grid = [w for row in window_rows(source.height, source.width, window, 0) for w in row]
    picks = [grid[int(i)] for i in np.linspace(0, len(grid) - 1, min(len(grid), 4 * n))]
    k = periods or meta.n_periods
    out: list[np.ndarray] = []
    for w in picks:
        block = source.read(Window(w.col, w.row, w.width, w.height), meta.bands)[:k]
        x, ok = normalize(block, meta)
        if ok.mean() < 0.5:
            continue
        x = pad_time(x, meta.n_periods, meta.time_padding, time_dim=0)
        side = window + (-window % meta.scale)  # every window padded to one shape
        ph, pw = side - x.shape[-2], side - x.shape[-1]
        out.append(np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw))))
        if len(out) == n:
            break
    if not out:
        raise ModelFileError("no window of the input has data to calibrate int8 on")
    return np.stack(out).astype(np.float32)


def quantize_onnx(
    fp32_path: str | os.PathLike, out_path: str | os.PathLike, windows: np.ndarray
) -> Path:
    """Write a static QDQ int8 copy of the fp32 export ``fp32_path`` to ``out_path``.

    Args:
        fp32_path: ONNX file written by :func:`cropmap.infer.onnx.export_onnx`.
        out_path: the int8 file (written atomically).
        windows: calibration batch ``(N, T, C, H, W)`` float32, normalized.

    Raises:
        ModelFileError: the fp32 file is not a cropmap export, or quantization failed.
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    meta, precision = onnx_meta(fp32_path)
    if precision != "fp32":
        raise ModelFileError(f"{fp32_path} is already {precision}; quantize the fp32 export")

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it: Iterator[np.ndarray] = iter(windows)

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self.it, None)
            return None if x is None else {INPUT_NAME: x[None]}

    out_path = Path(out_path)
    with atomic_path(out_path, suffix=".onnx") as tmp:
        try:
            quantize_static(
                str(fp32_path),
                str(tmp),
                Reader(),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=CalibrationMethod.MinMax,
                # onnxruntime's CalibMaxIntermediateOutputs drops data (1.32): not used
                extra_options={},
            )
        except Exception as exc:  # onnxruntime raises many internal types
            raise ModelFileError(f"int8 quantization of {fp32_path} failed: {exc}") from exc
        proto = onnx.load_model(str(tmp))
        props = {p.key: p for p in proto.metadata_props}
        for key, value in (
            ("cropmap_model", meta.model_dump_json()),
            ("cropmap_precision", "int8"),
        ):
            entry = props.get(key) or proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save_model(proto, str(tmp))
    log.info("int8 model %s calibrated on %d windows", out_path, len(windows))
    return out_path


@contextlib.contextmanager
def onnx_for_run(
    model_dir: str | os.PathLike,
    meta: ModelMeta,
    precision: str,
    onnx_path: str | os.PathLike | None,
    source: Source,
    window: int,
    periods: int | None,
    out_path: str | os.PathLike,
) -> Iterator[str]:
    """The ONNX file one prediction runs: the fp32 export, or an int8 copy for this input.

    ``onnx_path`` (if given) is used as it is when it already holds ``precision``; else
    the fp32 export (``onnx_path`` or :func:`~cropmap.infer.onnx.ensure_export`) is
    quantized on windows of ``source`` into a hidden file beside ``out_path`` (visible to
    Dask workers on the same disk), removed when the block ends.
    """
    fp32 = Path(onnx_path) if onnx_path else ensure_export(model_dir, meta)
    if not fp32.is_file():
        raise ModelFileError(
            f"ONNX file {fp32} not found; export it first: cropmap export {model_dir} --onnx {fp32}"
        )
    held = onnx_meta(fp32)[1]
    if precision == held:
        yield str(fp32.resolve())
        return
    if precision != "int8":
        raise ConfigError(f"{fp32} holds a {held} model but precision {precision!r} was asked")
    out = Path(out_path).resolve()
    tmp = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.int8.onnx"
    try:
        quantize_onnx(fp32, tmp, calibration_windows(source, meta, window, periods=periods))
        yield str(tmp)
    finally:
        forget_engines(str(tmp))
        tmp.unlink(missing_ok=True)
