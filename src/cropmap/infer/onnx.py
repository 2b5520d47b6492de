"""ONNX export of a model directory and the onnxruntime inference engine.

:func:`export_onnx` traces the Recurrent U-Net with torch's TorchScript exporter (batch,
height and width dynamic, height and width multiples of the model's scale; weights inside
the file), falling back to the dynamo exporter where that one fails, and stores the
model's ``model.json`` in the ONNX metadata, so the file is self-describing and a stale
export (weights changed since) is refused. :class:`OnnxEngine` runs it with onnxruntime
on the CPU; its logits agree with the torch engine within 1e-4.

Why TorchScript first: on the 2-core development CPU it exported the default network in
2 s against 16-22 s for dynamo, and onnxruntime ran both graphs at the same speed within
the runs' spread (docs/predict.md, "Performance"). torch 2.13 (pinned) warns that it is
deprecated; the dynamo exporter takes over if a later torch removes it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from cropmap.errors import ConfigError, ModelFileError
from cropmap.io.atomic import atomic_path
from cropmap.models.registry import ModelMeta, load_model, read_meta

log = logging.getLogger(__name__)

#: Default file name of the export inside a model directory.
ONNX_FILE = "model.onnx"
#: ONNX opset of the export.
OPSET = 18
INPUT_NAME, OUTPUT_NAME = "x", "logits"


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence the exporter's chatter (torchvision absent, initializer dedup notes)."""
    names = ("torch.onnx", "onnx_ir", "onnxscript", "torch.export", "torch._dynamo")
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def export_onnx(
    model_dir: str | os.PathLike,
    out_path: str | os.PathLike | None = None,
    *,
    window: int = 256,
    check: bool = True,
) -> Path:
    """Export a model directory's Recurrent U-Net to ONNX.

    Args:
        model_dir: model directory (``model.json`` + weights).
        out_path: ONNX file to write (default ``<model_dir>/model.onnx``), atomically.
        window: height and width of the example traced (any multiple of the model's
            scale is accepted by the exported graph, as is any batch size).
        check: run onnxruntime on a random batch and compare with torch (max abs 1e-4).

    Returns:
        The written path.

    Raises:
        ModelFileError: the model cannot be exported or its ONNX outputs differ from torch.
    """
    import onnx
    import torch

    from cropmap.models.recurrent_unet import fold_batchnorm

    model_dir = Path(model_dir)
    out_path = Path(out_path) if out_path is not None else model_dir / ONNX_FILE
    model, meta = load_model(model_dir)
    meta.require_kind("recurrent_unet", "ONNX export")
    if window % meta.scale:
        raise ConfigError(f"window must be a multiple of {meta.scale}, got {window}")
    model = fold_batchnorm(model)
    example = torch.zeros(2, meta.n_periods, len(meta.bands), window, window)
    proto = _trace(model, example, meta.scale, model_dir)
    entry = proto.metadata_props.add()
    entry.key, entry.value = "cropmap_model", meta.model_dump_json()
    with atomic_path(out_path, suffix=".onnx") as tmp:
        onnx.save_model(proto, str(tmp))
    if check:
        gen = torch.Generator().manual_seed(0)
        s = meta.scale  # another batch and shape than traced: the axes must be dynamic
        x = torch.randn(
            1, meta.n_periods, len(meta.bands), window + s, window + 2 * s, generator=gen
        )
        with torch.inference_mode():
            want = model(x).numpy()
        got = OnnxEngine(model_dir, meta=meta, onnx_path=out_path)(x.numpy())
        err = float(np.max(np.abs(got - want)))
        log.info("ONNX export %s: max |onnx - torch| = %.2e", out_path, err)
        if err > 1e-4:
            out_path.unlink()
            raise ModelFileError(f"ONNX outputs differ from torch by {err:.2e} (> 1e-4)")
    return out_path


def _trace(model: Any, example: Any, scale: int, model_dir: Path) -> Any:
    """The ONNX graph of ``model`` on ``example`` (an ``onnx.ModelProto``).

    TorchScript exporter first (batch, rows and columns named dynamic axes), the dynamo
    exporter if it fails; both failures are named in the error.
    """
    import onnx
    import torch

    failures = []
    try:
        with _quiet_exporter(), tempfile.TemporaryDirectory(prefix="cropmap-export-") as tmp:
            traced = Path(tmp) / "traced.onnx"
            torch.onnx.export(
                model,
                (example,),
                traced,
                dynamo=False,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_axes={
                    INPUT_NAME: {0: "batch", 3: "rows", 4: "cols"},
                    OUTPUT_NAME: {0: "batch", 2: "rows", 3: "cols"},
                },
                opset_version=OPSET,
            )
            return _initializers_for_identities(onnx.load_model(str(traced)))
    except Exception as exc:  # the exporters raise many internal types
        failures.append(f"TorchScript exporter: {exc}")
    batch = torch.export.Dim("batch", min=1, max=1024)
    rows = torch.export.Dim("rows", min=1, max=4096)
    cols = torch.export.Dim("cols", min=1, max=4096)
    try:
        with _quiet_exporter():
            program = torch.onnx.export(
                model,
                (example,),
                dynamo=True,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_shapes=({0: batch, 3: scale * rows, 4: scale * cols},),
                opset_version=OPSET,
                external_data=False,
                verbose=False,
            )
        if program is not None:
            return program.model_proto
        failures.append("dynamo exporter: returned no program")
    except Exception as exc:
        failures.append(f"dynamo exporter: {exc}")
    raise ModelFileError(f"ONNX export of {model_dir} failed: " + "; ".join(failures))


def _initializers_for_identities(proto: Any) -> Any:
    """``proto`` with each ``Identity`` of an initializer replaced by a copy of it.

    The TorchScript exporter stores equal weights once (an untrained network's zero
    biases, say) and reads the copies through ``Identity`` nodes; onnxruntime's int8
    quantizer needs every convolution's bias to be an initializer of its own.
    """
    import onnx

    graph = proto.graph
    inits = {i.name: i for i in graph.initializer}
    kept = []
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            copy = onnx.TensorProto()
            copy.CopyFrom(inits[node.input[0]])
            copy.name = node.output[0]
            graph.initializer.append(copy)
        else:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    return proto


def onnx_meta(path: str | os.PathLike) -> tuple[ModelMeta, str]:
    """The :class:`ModelMeta` and precision stored in an ONNX file written by cropmap.

    Raises:
        ModelFileError: unreadable, or not exported by cropmap.
    """
    import onnx

    try:
        proto = onnx.load_model(str(path), load_external_data=False)
    except Exception as exc:  # onnx raises DecodeError and others
        raise ModelFileError(f"cannot read ONNX file {path}: {exc}") from exc
    props = {p.key: p.value for p in proto.metadata_props}
    if "cropmap_model" not in props:
        raise ModelFileError(f"{path} was not exported by cropmap (no model metadata)")
    meta = ModelMeta.model_validate(json.loads(props["cropmap_model"]))
    return meta, props.get("cropmap_precision", "fp32")


class OnnxEngine:
    """onnxruntime CPU session over an exported model (see :func:`export_onnx`).

    ``precision="int8"`` needs a file written by
    :func:`cropmap.infer.quantize.quantize_onnx` (``onnx_path``); ``"fp32"`` the plain
    export. The file's stored weights hash must match the model directory's.
    """

    def __init__(
        self,
        model_dir: str | os.PathLike,
        *,
        meta: ModelMeta | None = None,
        onnx_path: str | os.PathLike | None = None,
        threads: int | None = None,
        precision: str = "fp32",
        **_: Any,
    ) -> None:
        import onnxruntime as ort

        model_dir = Path(model_dir)
        path = Path(onnx_path) if onnx_path else model_dir / ONNX_FILE
        if not path.is_file():
            raise ModelFileError(
                f"ONNX file {path} not found; export it first: "
                f"cropmap export {model_dir} --onnx {path}"
            )
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelFileError(f"cannot load ONNX file {path}: {exc}") from exc
        props: dict[str, Any] = self.session.get_modelmeta().custom_metadata_map
        if "cropmap_model" not in props:
            raise ModelFileError(f"{path} was not exported by cropmap (no model metadata)")
        stored = ModelMeta.model_validate(json.loads(props["cropmap_model"]))
        file_precision = props.get("cropmap_precision", "fp32")
        if file_precision != precision:
            raise ConfigError(
                f"{path} holds a {file_precision} model but precision {precision!r} was asked"
            )
        if meta is None and (model_dir / "model.json").exists():
            meta = read_meta(model_dir)
        if meta is not None and meta.weights_sha256 != stored.weights_sha256:
            raise ModelFileError(
                f"{path} was exported from other weights than {model_dir}; re-export: "
                f"cropmap export {model_dir} --onnx {path}"
            )
        self.meta = meta if meta is not None else stored

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Logits ``(B, K, H, W)`` of ``x`` ``(B, T, C, H, W)`` float32."""
        m, s = self.meta, self.meta.scale
        if (
            x.ndim != 5
            or x.shape[1:3] != (m.n_periods, len(m.bands))
            or x.shape[-1] % s
            or x.shape[-2] % s
        ):
            raise ModelFileError(
                f"the ONNX graph takes (B, {m.n_periods}, {len(m.bands)}, H, W) with H and W "
                f"multiples of {s}, got {tuple(x.shape)}"
            )
        feed = {INPUT_NAME: np.ascontiguousarray(x, dtype=np.float32)}
        return np.asarray(self.session.run([OUTPUT_NAME], feed)[0])


def is_current_export(path: str | os.PathLike, meta: ModelMeta) -> bool:
    """``path`` is a cropmap fp32 ONNX export of the weights ``meta`` describes.

    The weights' SHA-256 stored at export time is compared (quantized files and
    unreadable ones are not current); the traced window does not matter, as the graph
    takes any multiple of the model's scale.
    """
    path = Path(path)
    if not path.is_file():
        return False
    try:
        stored, precision = onnx_meta(path)
    except ModelFileError:
        return False
    return precision == "fp32" and stored.weights_sha256 == meta.weights_sha256


def _export_places(model_dir: str | os.PathLike, meta: ModelMeta) -> list[Path]:
    """Where a model's export lives: its own folder, else a per-user cache folder."""
    cache = Path(tempfile.gettempdir()) / f"cropmap-onnx-{os.getuid()}"
    return [Path(model_dir) / ONNX_FILE, cache / f"{meta.weights_sha256[:16]}.onnx"]


def find_export(model_dir: str | os.PathLike, meta: ModelMeta) -> Path | None:
    """The model's current fp32 ONNX export (see :func:`ensure_export`), if one exists."""
    return next((p for p in _export_places(model_dir, meta) if is_current_export(p, meta)), None)


def ensure_export(model_dir: str | os.PathLike, meta: ModelMeta) -> Path:
    """The model's fp32 ONNX export, made on first use and reused while the weights match.

    Written to ``<model_dir>/model.onnx``; a read-only model directory gets it in a
    per-user cache folder instead (named by the weights' SHA-256).
    """
    found = find_export(model_dir, meta)
    if found is not None:
        return found
    for path in _export_places(model_dir, meta):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            log.info("exporting %s to ONNX (once per model): %s", model_dir, path)
            return export_onnx(model_dir, path, window=2 * meta.scale * 4)
        except PermissionError:
            continue
    raise ModelFileError(f"cannot write an ONNX export of {model_dir} (no writable folder)")
