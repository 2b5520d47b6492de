"""Inference engines: a name -> factory registry turning a model directory into a callable.

An engine maps a batch ``(B, T, C, H, W)`` float32 (normalized dB, NaN set to 0, time
already padded to the model's ``T``) to logits ``(B, K, H, W)`` float32 (``K = 1`` for two
classes). ``"torch"`` runs the Recurrent U-Net eagerly (batch norm folded into the
convolutions); ``"onnx"`` runs an exported graph with onnxruntime (:mod:`.onnx`).
Engines are cached per process, so Dask workers load a model once.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from cropmap.errors import ConfigError, ModelFileError


@dataclass(frozen=True)
class ModelInfo:
    """What tiled inference needs to know about a model (from its ``model.json``)."""

    bands: tuple[str, ...]
    periods: tuple[str, ...]
    mean: tuple[float, ...]  # per band, dB
    std: tuple[float, ...]  # per band, dB
    classes: tuple[str, ...]
    target: str
    time_padding: str
    scale: int  # height and width must be multiples of this
    weights_sha256: str

    @property
    def n_steps(self) -> int:
        """Time steps the model was trained on."""
        return len(self.periods)

    @property
    def target_index(self) -> int:
        """Class index of the target crop."""
        return self.classes.index(self.target) if self.target in self.classes else 1


def models_api() -> Any:
    """The module holding ``load_model`` / ``read_meta`` (``cropmap.models``)."""
    mod = importlib.import_module("cropmap.models")
    if hasattr(mod, "load_model"):
        return mod
    return importlib.import_module("cropmap.models.registry")


def model_info(meta: Any) -> ModelInfo:
    """Build :class:`ModelInfo` from a ``ModelMeta`` (or a dict of its fields).

    Raises:
        ModelFileError: not a Recurrent U-Net, or normalization statistics are missing.
    """
    get = meta.get if isinstance(meta, dict) else lambda k, d=None: getattr(meta, k, d)
    kind = get("kind", "recurrent_unet")
    if kind != "recurrent_unet":
        raise ModelFileError(
            f"tiled prediction runs Recurrent U-Net models; this model is a {kind!r} "
            "(predict a random forest with cropmap.models on composite arrays)"
        )
    arch = dict(get("arch", {}) or {})
    bands = tuple(str(b).upper() for b in get("bands", ()))
    periods = tuple(get("periods", ()) or ())
    if not periods:
        periods = tuple(f"P{i + 1}" for i in range(int(arch.get("n_steps", 8))))
    norm = get("norm", {}) or {}
    try:
        mean = tuple(float(norm["mean"][b]) for b in get("bands", ()))
        std = tuple(float(norm["std"][b]) for b in get("bands", ()))
    except KeyError as exc:
        raise ModelFileError(
            f"model.json lacks normalization statistics for band {exc}; retrain or re-save "
            "the model with norm = {'mean': {band: dB}, 'std': {band: dB}}"
        ) from exc
    return ModelInfo(
        bands=bands,
        periods=periods,
        mean=mean,
        std=std,
        classes=tuple(get("classes", ("other", "rice"))),
        target=str(get("target", "rice")),
        time_padding=str(arch.get("time_padding", "tip")),
        scale=2 ** len(arch.get("widths", (16, 32, 64, 128))),
        weights_sha256=str(get("weights_sha256", "")),
    )


class Engine(Protocol):
    """A loaded model: ``engine(x (B,T,C,H,W)) -> logits (B,K,H,W)``, float32 numpy."""

    info: ModelInfo

    def __call__(self, x: np.ndarray) -> np.ndarray: ...


def fold_batch_norm(model: Any) -> Any:
    """Fold every ``Sequential(Conv2d, BatchNorm2d, ...)`` pair into one conv (eval only).

    Same outputs up to rounding, fewer passes over memory. Returns ``model`` (changed in
    place).
    """
    import torch
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for module in model.modules():
        if not isinstance(module, torch.nn.Sequential):
            continue
        children = list(module.named_children())
        for (name_a, a), (name_b, b) in zip(children, children[1:], strict=False):
            if isinstance(a, torch.nn.Conv2d) and isinstance(b, torch.nn.BatchNorm2d):
                setattr(module, name_a, fuse_conv_bn_eval(a, b))
                setattr(module, name_b, torch.nn.Identity())
    return model


class TorchEngine:
    """Eager PyTorch on the CPU, ``threads`` intra-op threads, batch norm folded."""

    def __init__(self, model_dir: str | os.PathLike, threads: int | None = None, **_: Any):
        import torch

        model, meta = models_api().load_model(model_dir)
        self.info = model_info(meta)
        self.model = fold_batch_norm(model.eval())
        self.threads = threads
        self._torch = torch

    def __call__(self, x: np.ndarray) -> np.ndarray:
        torch = self._torch
        if self.threads:
            torch.set_num_threads(self.threads)
        with torch.inference_mode():
            out = self.model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
        return out.numpy()


def _onnx_engine(model_dir: str | os.PathLike, **kwargs: Any) -> Engine:
    from cropmap.infer.onnx import OnnxEngine

    return OnnxEngine(model_dir, **kwargs)


#: Engine name -> factory ``(model_dir, threads=..., onnx_path=...) -> Engine``.
ENGINES: dict[str, Callable[..., Engine]] = {"torch": TorchEngine, "onnx": _onnx_engine}

_CACHE: dict[tuple, Engine] = {}
_LOCK = threading.Lock()


def get_engine(
    name: str,
    model_dir: str | os.PathLike,
    *,
    threads: int | None = None,
    onnx_path: str | os.PathLike | None = None,
) -> Engine:
    """Return the engine ``name`` for ``model_dir``, loading it once per process.

    Raises:
        ConfigError: unknown engine name (the message lists the valid ones).
    """
    if name not in ENGINES:
        raise ConfigError(f"unknown engine {name!r}; valid: {', '.join(ENGINES)}")
    model_dir = Path(model_dir).resolve()
    meta_file = model_dir / "model.json"
    stamp = meta_file.stat().st_mtime_ns if meta_file.exists() else 0
    key = (name, str(model_dir), stamp, threads, str(onnx_path))
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = ENGINES[name](model_dir, threads=threads, onnx_path=onnx_path)
        return _CACHE[key]
