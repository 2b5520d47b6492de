"""Measure this machine's own limits so benchmark figures can be printed beside them.

Every benchmark script imports these; nothing here is hard-coded, since machines vary.
"""

from __future__ import annotations

import os
import platform
import resource
import time

import numpy as np


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


def conv_peak_gflops(threads: int | None = None, seconds: float = 1.0) -> float:
    """Best achieved GFLOP/s of a 3x3 conv2d forward over a few shapes (torch, float32).

    The shapes span the Recurrent U-Net's layers (16 channels at 256 px to 256 at 32 px).
    """
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    best = 0.0
    for ch, px in ((16, 256), (64, 64), (256, 32)):
        x = torch.randn(8, ch, px, px)
        conv = torch.nn.Conv2d(ch, ch, 3, padding=1, bias=False)
        flops = 2.0 * 9 * ch * ch * px * px * x.shape[0]
        with torch.inference_mode():
            conv(x)
            n, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < seconds / 3:
                conv(x)
                n += 1
            dt = (time.perf_counter() - t0) / n
        best = max(best, flops / dt / 1e9)
    return best


def machine_line() -> str:
    """One line describing the machine (CPU count, platform)."""
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs"
