"""Engine-only speed per engine and precision: the network alone, no reading or writing.

Run: ``.venv/bin/python benchmarks/engines.py [--window 256] [--batch 4]``

Times each engine's ``__call__`` on a random ``(batch, 8, 2, window, window)`` batch of the
default Recurrent U-Net (VV+VH, 8 periods, seeded random weights), best of 3 after a
warm-up, in one process with 2 threads, and prints kpx/s, the largest logit difference
to torch fp32 and the achieved GFLOP/s as a fraction of the conv peak of its precision
(measured in the same run). This is the steady-state rate of a long map; the fixed costs
(ONNX export once per model, int8 calibration once per map) are printed separately.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import conv_peaks, machine_line, of_peak, peaks_line  # noqa: E402
from predict import make_model, window_flops  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--batch", type=int, default=4)
    args = ap.parse_args()
    import numpy as np
    import torch

    from cropmap.infer.engines import get_engine
    from cropmap.infer.onnx import export_onnx
    from cropmap.infer.quantize import quantize_onnx

    torch.set_num_threads(2)
    print(f"machine: {machine_line()}")
    peaks = conv_peaks(threads=2)
    print(peaks_line(peaks) + " (2 threads)")
    w, b = args.window, args.batch
    with tempfile.TemporaryDirectory(prefix="cropmap-bench-engines-") as tdir:
        tmp = Path(tdir)
        model = make_model(tmp / "m")
        flops = window_flops(model, w) * b
        x = np.random.default_rng(0).normal(size=(b, 8, 2, w, w)).astype(np.float32)
        calib = np.random.default_rng(1).normal(size=(8, 8, 2, 128, 128)).astype(np.float32)
        t0 = time.perf_counter()
        fp32_file = export_onnx(model, tmp / "m.onnx", check=False)
        print(f"ONNX export (once per model): {time.perf_counter() - t0:.0f} s")
        t0 = time.perf_counter()
        int8_file = quantize_onnx(fp32_file, tmp / "m8.onnx", calib)
        print(f"int8 calibration + quantization (once per map): {time.perf_counter() - t0:.0f} s")
        ref = get_engine("torch", model, threads=2, precision="fp32")(x)
        print(f"\nengine only, batch {b} x {w} x {w}, 8 periods x VV, VH:")
        for engine, prec, path in (
            ("torch", "fp32", None),
            ("torch", "bf16", None),
            ("onnx", "fp32", fp32_file),
            ("onnx", "int8", int8_file),
        ):
            e = get_engine(engine, model, threads=2, precision=prec, onnx_path=path)
            e(x)
            best = float("inf")
            for _ in range(3):
                t0 = time.perf_counter()
                out = e(x)
                best = min(best, time.perf_counter() - t0)
            print(
                f"  {engine:5s} {prec}: {b * w * w / best / 1e3:6.1f} kpx/s  "
                f"max |logit - torch fp32| {np.abs(out - ref).max():.3f}  "
                f"{of_peak(flops / best / 1e9, prec, peaks)}"
            )


if __name__ == "__main__":
    main()
