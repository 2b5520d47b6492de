"""Measure this machine's own limits so benchmark figures can be printed beside them.

Every benchmark script imports these; nothing here is hard-coded, since machines vary.
The convolution peak is measured per precision, because each runs on other units:

- ``fp32``: torch, NCHW float32 (AVX-512/AVX2 FMA);
- ``bf16``: torch autocast bfloat16 with channels-last (oneDNN; AVX-512 BF16 or AMX);
- ``int8``: onnxruntime, a statically quantized QDQ conv (VNNI or AMX int8).

A benchmark prints its own figure with :func:`of_peak`, e.g.
``of_peak(93.0, "bf16", peaks)`` -> ``"93.0 GFLOP/s = 21% of the bf16 conv peak (441)"``.
"""

from __future__ import annotations

import os
import platform
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

#: The 3x3 conv shapes timed (channels, side): the Recurrent U-Net's range of layers.
CONV_SHAPES = ((16, 256), (64, 64), (128, 32))
PRECISIONS = ("fp32", "bf16", "int8")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB.

    Reads ``VmHWM`` from ``/proc/self/status`` where it exists: unlike ``ru_maxrss``, it
    is not inherited from the parent of a process started with fork + exec.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def memory_bandwidth_mb_s(size_mb: int = 256, repeats: int = 5) -> float:
    """Best-of-N copy bandwidth of a large array, in MB/s (bytes read + written)."""
    src = np.ones(size_mb * 1024 * 1024 // 8, dtype=np.float64)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t0)
    return 2 * src.nbytes / best / 1e6


def _best_rate(fn: Callable[[], object], flops: float, seconds: float) -> float:
    """Best GFLOP/s of repeated ``fn()`` calls over about ``seconds`` (after one warm-up)."""
    fn()
    best, t_end = 0.0, time.perf_counter() + seconds
    while True:
        t0 = time.perf_counter()
        fn()
        best = max(best, flops / (time.perf_counter() - t0) / 1e9)
        if time.perf_counter() > t_end:
            return best


def _torch_conv(ch: int, px: int, precision: str, seconds: float) -> float:
    import torch

    x = torch.randn(8, ch, px, px)
    conv = torch.nn.Conv2d(ch, ch, 3, padding=1, bias=False).eval()
    bf16 = precision == "bf16"
    if bf16:
        x = x.to(memory_format=torch.channels_last)
        conv = conv.to(memory_format=torch.channels_last)  # type: ignore[call-overload]

    def run() -> object:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return conv(x)

    return _best_rate(run, 2.0 * 9 * ch * ch * px * px * x.shape[0], seconds)


def _int8_conv(ch: int, px: int, threads: int | None, seconds: float) -> float:
    """One 3x3 conv as an ONNX graph, statically quantized (QDQ) and run by onnxruntime."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static

    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, ch, px, px)).astype(np.float32)
    w = (rng.normal(size=(ch, ch, 3, 3)) / (3 * ch**0.5)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])],
        "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, ch, px, px])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, ch, px, px])],
        [numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.left = [x[:1]]

        def get_next(self) -> dict[str, np.ndarray] | None:
            return {"x": self.left.pop()} if self.left else None

    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = Path(tmp) / "conv.onnx", Path(tmp) / "conv8.onnx"
        onnx.save_model(model, str(fp32))
        quantize_static(str(fp32), str(int8), Reader(), quant_format=QuantFormat.QDQ)
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        sess = ort.InferenceSession(str(int8), opts, providers=["CPUExecutionProvider"])
    return _best_rate(
        lambda: sess.run(None, {"x": x}), 2.0 * 9 * ch * ch * px * px * x.shape[0], seconds
    )


def conv_peaks(
    threads: int | None = None,
    seconds: float = 1.0,
    precisions: tuple[str, ...] = PRECISIONS,
) -> dict[str, float]:
    """Best achieved GFLOP/s of a 3x3 conv forward per precision (see the module docs).

    Args:
        threads: intra-op threads (torch and onnxruntime).
        seconds: time spent per precision (split over :data:`CONV_SHAPES`).
        precisions: which of ``fp32``, ``bf16``, ``int8`` to measure.

    Returns:
        ``{precision: GFLOP/s}``, the best over the shapes of :data:`CONV_SHAPES`.
    """
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    per = seconds / len(CONV_SHAPES)
    peaks = {}
    for prec in precisions:
        rates = [
            _int8_conv(ch, px, threads, per) if prec == "int8" else _torch_conv(ch, px, prec, per)
            for ch, px in CONV_SHAPES
        ]
        peaks[prec] = max(rates)
    return peaks


def conv_peak_gflops(threads: int | None = None, seconds: float = 1.0) -> float:
    """The fp32 NCHW conv peak alone (GFLOP/s); see :func:`conv_peaks` for the others."""
    return conv_peaks(threads, seconds, ("fp32",))["fp32"]


def of_peak(gflops: float, precision: str, peaks: dict[str, float]) -> str:
    """``"X GFLOP/s = Y% of the <precision> conv peak (Z)"``: a figure beside its limit.

    Args:
        gflops: the benchmark's achieved GFLOP/s.
        precision: the precision it ran in (a key of ``peaks``).
        peaks: from :func:`conv_peaks`, measured in the same run.
    """
    peak = peaks[precision]
    return f"{gflops:.1f} GFLOP/s = {gflops / peak:.0%} of the {precision} conv peak ({peak:.0f})"


def peaks_line(peaks: dict[str, float]) -> str:
    """One line with every measured conv peak, e.g. for a benchmark's header."""
    return "conv 3x3 peak, measured now: " + ", ".join(
        f"{p} {g:.0f} GFLOP/s" for p, g in peaks.items()
    )


def machine_line() -> str:
    """One line describing the machine (CPU model, count, load average)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        load = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        load = ["?"] * 3
    return f"{cpu}, {os.cpu_count()} logical CPUs, load average {' '.join(load)}"
