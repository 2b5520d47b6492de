"""Benchmark patch building: a composite (8 periods x VV, VH) tiled into 256 px patches.

Run: ``.venv/bin/python benchmarks/patches.py [--size 2048] [--workers 1 2]``

Writes a synthetic composite (speckle-like noise in dB, the composite layout) and a
label raster, then builds the patch store once per ``--workers`` value, each in a fresh
folder, and prints patches/s per wall second and per CPU second (this process and its
worker processes), the store's size and the load average. It checks that every build
gives the same manifest. A Korea-size store (12,942 patches of 256 px) needs a
composite of about 29,000 x 29,000 px (54 GB of float32): pass ``--size 29184`` on a
machine with that much disk, or read the per-patch cost printed here.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line  # noqa: E402

#: Patches of the Korean study's store (method.md).
KOREA_PATCHES = 12_942


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _write_inputs(root: Path, size: int, periods: int) -> tuple[Path, Path]:
    """A ``size`` x ``size`` composite (dB, period-major) and labels (30 % target)."""
    import numpy as np
    from rasterio.windows import Window

    from cropmap.io.raster import open_writer, profile_for
    from cropmap.sar.layout import band_names
    from cropmap.sar.synthetic import DEFAULT_CRS, DEFAULT_TRANSFORM

    names = [f"P{t + 1}" for t in range(periods)]
    grid = {"width": size, "height": size, "crs": DEFAULT_CRS, "transform": DEFAULT_TRANSFORM}
    prof = profile_for(count=2 * periods, dtype="float32", nodata=float("nan"), **grid)
    lprof = profile_for(count=1, dtype="uint8", nodata=255, **grid)
    tags = {"PERIODS": ",".join(names), "BANDS": "VV,VH", "UNITS": "dB"}
    rng = np.random.default_rng(0)
    comp, lab = root / "composite.tif", root / "labels.tif"
    with (
        open_writer(comp, prof, band_names(names, ["VV", "VH"]), tags) as dst,
        open_writer(lab, lprof, ["label"]) as ldst,
    ):
        for r in range(0, size, 512):
            h = min(512, size - r)
            win = Window(0, r, size, h)
            block = rng.gamma(4.4, 1 / 4.4, (2 * periods, h, size)).astype(np.float32)
            block = 10 * np.log10(block) - 14
            dst.write(block, window=win)
            ldst.write((rng.random((1, h, size)) < 0.3).astype(np.uint8), window=win)
    return comp, lab


def main() -> None:
    """Write the inputs, build the store with each worker count, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=2048, help="composite side, pixels")
    ap.add_argument("--patch", type=int, default=256, help="patch side, pixels")
    ap.add_argument("--periods", type=int, default=8)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()

    from cropmap.data import build_patches

    print(f"machine: {machine_line()}; load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory(prefix="cropmap-bench-patches-") as tmp:
        root = Path(tmp)
        comp, lab = _write_inputs(root, args.size, args.periods)
        mb = comp.stat().st_size / 1e6
        print(
            f"composite: {args.size} x {args.size} px, {args.periods} periods x VV, VH "
            f"({mb:.0f} MB on disk); patches of {args.patch} px"
        )
        manifests = []
        for n in args.workers:
            out = root / f"store-{n}"
            t0, c0 = time.perf_counter(), _cpu_s()
            m = build_patches(comp, lab, out, size=args.patch, workers=n, split="random")
            secs, cpu = time.perf_counter() - t0, _cpu_s() - c0
            size_mb = sum(p.stat().st_size for p in out.rglob("*.npz")) / 1e6
            k = len(m.patches)
            print(
                f"workers {n}: {k} patches in {secs:.1f} s wall = {k / secs:.2f} patches/s; "
                f"{cpu:.1f} s CPU = {k / cpu:.2f} patches per CPU second "
                f"({1e3 * cpu / k:.0f} ms CPU per patch); store {size_mb:.0f} MB; "
                f"load average {os.getloadavg()[0]:.1f}"
            )
            doc = json.loads((out / "manifest.json").read_text())
            doc.pop("source")
            manifests.append(doc)
    same = all(d == manifests[0] for d in manifests)
    print(f"manifests identical across worker counts: {same}")
    print(
        f"a Korea-size store ({KOREA_PATCHES:,} patches) at the last rate: "
        f"{KOREA_PATCHES / (k / secs) / 60:.0f} min wall on this machine as loaded now, "
        f"{KOREA_PATCHES * cpu / k / 60:.0f} CPU minutes"
    )
    if not same:
        raise SystemExit("the stores differ between worker counts")


if __name__ == "__main__":
    main()
