"""Benchmark the scene simulator: wall time and peak RSS of a 2048 x 2048 scene.

Run: ``.venv/bin/python benchmarks/simulate.py [--size 2048] [--region korea] [--year 2022]``

Prints the time per stage-free end-to-end call, the number of acquisitions, the output
volume, and the machine's memory bandwidth measured in the same run (the simulator is
mostly memory-bound: gathers, exp, gamma draws and DEFLATE).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line, memory_bandwidth_mb_s, peak_rss_mb  # noqa: E402


def main() -> None:
    """Simulate one scene in a temporary folder and print the figures."""
    from cropmap.simulate import simulate_scene

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--region", default="korea")
    ap.add_argument("--year", type=int, default=2022)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    rss0 = peak_rss_mb()
    with tempfile.TemporaryDirectory(prefix="cropmap-bench-") as tmp:
        t0 = time.perf_counter()
        out = simulate_scene(args.region, args.size, args.year, args.seed, Path(tmp) / "scene")
        wall = time.perf_counter() - t0
        files = sorted((out / "s1").glob("*.tif"))
        mb = sum(f.stat().st_size for f in files) / 1e6
        gpkg_mb = (out / "parcels.gpkg").stat().st_size / 1e6
    rss = peak_rss_mb()
    bw = memory_bandwidth_mb_s(size_mb=128, repeats=3)  # after, so it does not inflate RSS
    px = args.size * args.size * len(files) * 2
    print(f"machine: {machine_line()}; copy bandwidth {bw:,.0f} MB/s")
    print(
        f"simulate {args.region} {args.size}x{args.size}, {len(files)} acquisitions: "
        f"{wall:.1f} s ({px / wall / 1e6:.1f} Mpx/s over both bands), "
        f"peak RSS {rss:.0f} MB (after imports: {rss0:.0f} MB), "
        f"GeoTIFFs {mb:.0f} MB, parcels.gpkg {gpkg_mb:.1f} MB"
    )


if __name__ == "__main__":
    main()
