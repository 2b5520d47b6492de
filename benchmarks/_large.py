"""End to end: ``cropmap predict`` with its defaults on a large VRT mosaic, measured.

Used by ``benchmarks/predict.py`` (``--large N``, ``--large-only``): wall time, the peak
RSS of the command's process tree, kpx/s, km2/s and the fraction of the int8 conv peak.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import of_peak
from predict import make_model, window_flops, write_base, write_mosaic


def _tree_hwm_mb(pid: int) -> float:
    """Sum of VmHWM (peak RSS) over ``pid`` and its live children, in MB (0 if gone)."""
    total = 0.0
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024.0
    except OSError:
        return 0.0
    return total + sum(_tree_hwm_mb(int(k)) for k in kids)


def large_cli(side: int, model: Path | None, peaks: dict, extra: list[str]) -> None:
    """Run ``cropmap predict`` (its defaults) on a ``side``\u00b2 VRT mosaic; print figures.

    Wall time and the peak RSS of the command's process tree (polled VmHWM) are measured,
    not extrapolated.
    """
    from cropmap.infer.windows import window_rows
    from cropmap.models.registry import read_meta

    with tempfile.TemporaryDirectory(prefix="cropmap-bench-large-") as tdir:
        tmp = Path(tdir)
        model = model or make_model(tmp / "model")
        meta = read_meta(model)
        from cropmap.infer.predict import DEFAULT_WINDOW

        given = "--window" in extra
        window = int(extra[extra.index("--window") + 1]) if given else DEFAULT_WINDOW
        overlap = int(extra[extra.index("--overlap") + 1]) if "--overlap" in extra else None
        overlap = min(64, window // 4) if overlap is None else overlap  # predict's default
        flops = window_flops(model, window)
        base = write_base(tmp / "base.tif", list(meta.bands))
        vrt = write_mosaic(base, tmp / f"in_{side}.vrt", side)
        if not (Path(model) / "model.onnx").exists():  # once per model: not in the timing
            from cropmap.infer.onnx import ensure_export

            t0 = time.perf_counter()
            ensure_export(model, meta)
            print(f"one-time ONNX export of the model: {time.perf_counter() - t0:.0f} s")
        exe = Path(sys.executable).with_name("cropmap")
        cmd = [str(exe), "predict", str(model), str(vrt), "--out", str(tmp / "map.tif"), *extra]
        print(
            f"\n$ {' '.join(cmd)}   (input {side} x {side} x {len(meta.bands)} bands x "
            f"{meta.n_periods} periods; load average {os.getloadavg()[0]:.1f})"
        )
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        hwm = 0.0
        while proc.poll() is None:
            hwm = max(hwm, _tree_hwm_mb(proc.pid))
            time.sleep(0.5)
        wall = time.perf_counter() - t0
        out = proc.stdout.read() if proc.stdout else ""
        if proc.returncode:
            raise RuntimeError(f"cropmap predict failed:\n{out[-2000:]}")
        px = side * side
        n = sum(len(r) for r in window_rows(side, side, window, overlap))
        print(
            f"wall {wall:.0f} s = {wall / 60:.1f} min, peak RSS {hwm:.0f} MB, "
            f"{px / wall / 1e3:.0f} kpx/s, {px * 1e-4 / wall:.1f} km2/s "
            f"({px * 1e-4:.0f} km2), {of_peak(n * flops / wall / 1e9, 'int8', peaks)} "
            f"(load average after: {os.getloadavg()[0]:.1f})"
        )
