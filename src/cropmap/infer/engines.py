"""Inference engines: a name -> factory registry turning a model directory into a callable.

An engine maps a batch ``(B, T, C, H, W)`` float32 (normalized dB, NaN set to 0, time
already padded to the model's ``T``) to logits ``(B, K, H, W)`` float32 (``K = 1`` for two
classes). ``"torch"`` runs the Recurrent U-Net eagerly with batch norm folded into the
convolutions (:func:`cropmap.models.recurrent_unet.fold_batchnorm`), in ``fp32`` or in
``bf16`` (autocast, channels-last; on CUDA when present); ``"onnx"`` runs an exported
graph with onnxruntime (:mod:`.onnx`), ``fp32`` or statically quantized ``int8``.
Every engine carries the model's :class:`~cropmap.models.registry.ModelMeta` as ``meta``.
Engines are cached per process, so Dask workers load a model once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from cropmap.errors import ConfigError
from cropmap.infer.onnx import OnnxEngine
from cropmap.models.registry import ModelMeta, load_model

#: Numeric precisions of inference, by name (the engines that run each are listed).
PRECISIONS: dict[str, tuple[str, ...]] = {
    "fp32": ("torch", "onnx"),
    "bf16": ("torch",),
    "int8": ("onnx",),
}


#: Rasters from this many pixels up get int8 by default on onnx: below it, the fixed cost
#: of calibrating and quantizing (about 20 s, docs/predict.md) outweighs int8's speed-up.
INT8_MIN_PIXELS = 2048 * 2048


#: Rasters from this many pixels up get the onnx engine by default when the model has no
#: current export yet: exporting costs about 2 s once per model, and onnxruntime runs
#: the network 1.5-1.6x faster than torch bf16 on this 2-core CPU (fp32 394, int8 443 vs
#: 272 kpx/s, benchmarks/engines.py on a quiet machine), which saves 2.4 s per million
#: pixels of map with windows overlapping 1.78x: the export pays back from about 0.8
#: million pixels, rounded up to one million (a 1000 x 1000 raster).
ONNX_MIN_PIXELS = 1_000_000


def choose_engine(
    engine: str,
    n_pixels: int,
    *,
    has_export: Callable[[], bool],
    precision: str | None = None,
    onnx_path: str | os.PathLike | None = None,
) -> str:
    """The engine a prediction runs: ``engine`` itself, or the fastest one for ``"auto"``.

    ``"auto"`` gives the one engine that runs ``precision`` when only one does (bf16:
    torch, int8: onnx), ``"onnx"`` when an ONNX file is named (``onnx_path``) or the model
    already has a current export (``has_export()``), ``"torch"`` on CUDA (onnxruntime
    runs on the CPU here), ``"onnx"`` for rasters of at least :data:`ONNX_MIN_PIXELS`
    (the export pays back), and ``"torch"`` below (a small map starts at once).

    Raises:
        ConfigError: an unknown engine name.
    """
    if engine != "auto":
        check_engine(engine)
        return engine
    if precision is not None and len(PRECISIONS.get(precision, ())) == 1:
        return PRECISIONS[precision][0]
    if onnx_path is not None:
        return "onnx"
    import torch

    if torch.cuda.is_available():
        return "torch"
    if n_pixels >= ONNX_MIN_PIXELS or has_export():
        return "onnx"
    return "torch"


def default_precision(engine: str, n_pixels: int | None = None) -> str:
    """The fastest precision ``engine`` runs that keeps maps within 0.005 IoU of fp32.

    Measured in docs/predict.md and tested on a trained model: ``onnx`` -> ``int8`` for
    rasters of at least :data:`INT8_MIN_PIXELS` pixels (``n_pixels``), else ``fp32``;
    ``torch`` -> ``bf16`` on CUDA or on CPUs with native bf16 (AVX-512 BF16, AMX), else
    ``fp32`` (emulated bf16 is slower than fp32).
    """
    if engine == "onnx":
        return "int8" if n_pixels is None or n_pixels >= INT8_MIN_PIXELS else "fp32"
    if engine == "torch":
        import torch

        try:  # a private oneDNN query; absent from some builds
            native = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            native = False
        if torch.cuda.is_available() or native:
            return "bf16"
    return "fp32"


class Engine(Protocol):
    """A loaded model: ``engine(x (B,T,C,H,W)) -> logits (B,K,H,W)``, float32 numpy."""

    meta: ModelMeta

    def __call__(self, x: np.ndarray) -> np.ndarray: ...


def check_engine(engine: str) -> None:
    """Raise :class:`ConfigError` unless ``engine`` is ``"auto"`` or a key of ENGINES."""
    if engine != "auto" and engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; valid: auto, {', '.join(ENGINES)}")


def check_precision(engine: str, precision: str) -> None:
    """Raise :class:`ConfigError` unless ``engine`` runs ``precision``."""
    if precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
    known = {name for names in PRECISIONS.values() for name in names}
    if engine in known and engine not in PRECISIONS[precision]:
        runs = [p for p, engines in PRECISIONS.items() if engine in engines]
        raise ConfigError(
            f"engine {engine!r} does not run precision {precision!r} (it runs "
            f"{', '.join(runs)}); use --engine {PRECISIONS[precision][0]} for {precision}"
        )


class TorchEngine:
    """Eager PyTorch, batch norm folded; ``bf16`` adds autocast and channels-last.

    Runs on CUDA when a GPU is present, else on the CPU with ``threads`` intra-op threads
    (on CPUs with AVX-512 BF16 or AMX, oneDNN runs bf16 convolutions natively).
    """

    def __init__(
        self,
        model_dir: str | os.PathLike,
        *,
        meta: ModelMeta | None = None,
        threads: int | None = None,
        precision: str = "fp32",
        **_: Any,
    ) -> None:
        import torch

        from cropmap.models.recurrent_unet import fold_batchnorm

        check_precision("torch", precision)
        model, self.meta = load_model(Path(model_dir), meta=meta)
        self.meta.require_kind("recurrent_unet", "tiled prediction")
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model = fold_batchnorm(model).to(self.device)
        self.bf16 = precision == "bf16"
        if self.bf16:
            model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.model = model
        self.threads = threads
        self._torch = torch

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Logits ``(B, K, H, W)`` float32 of ``x`` ``(B, T, C, H, W)`` float32."""
        torch = self._torch
        if self.threads:
            torch.set_num_threads(self.threads)
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.device)
        with (
            torch.inference_mode(),
            torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16),
        ):
            out = self.model(xt)
        return out.float().cpu().numpy()


#: Engine name -> factory ``(model_dir, meta=..., threads=..., precision=..., onnx_path=...)``.
ENGINES: dict[str, Callable[..., Engine]] = {"torch": TorchEngine, "onnx": OnnxEngine}

_CACHE: dict[tuple[Any, ...], Engine] = {}
_LOCK = threading.Lock()


def get_engine(
    name: str,
    model_dir: str | os.PathLike,
    *,
    meta: ModelMeta | None = None,
    threads: int | None = None,
    precision: str = "fp32",
    onnx_path: str | os.PathLike | None = None,
) -> Engine:
    """Return the engine ``name`` for ``model_dir``, loading it once per process.

    Args:
        name: a key of :data:`ENGINES`.
        model_dir: the model directory.
        meta: its ``model.json``, when the caller has read it already.
        threads: intra-op threads (default: the library's choice).
        precision: a key of :data:`PRECISIONS` that this engine runs.
        onnx_path: ONNX file of the ``onnx`` engine (an ``int8`` one for ``int8``).

    Raises:
        ConfigError: unknown engine or precision (the message lists the valid ones).
    """
    if name not in ENGINES:
        raise ConfigError(f"unknown engine {name!r}; valid: {', '.join(ENGINES)}")
    check_precision(name, precision)
    model_dir = Path(model_dir).resolve()
    meta_file = model_dir / "model.json"
    stamp = meta_file.stat().st_mtime_ns if meta_file.exists() else 0
    key = (name, str(model_dir), stamp, threads, precision, str(onnx_path))
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = ENGINES[name](
                model_dir, meta=meta, threads=threads, precision=precision, onnx_path=onnx_path
            )
        return _CACHE[key]


def forget_engines(path: str) -> None:
    """Drop this process's cached engines that run the ONNX file or model folder ``path``."""
    with _LOCK:
        for key in [k for k in _CACHE if path in (k[1], k[-1])]:
            del _CACHE[key]
