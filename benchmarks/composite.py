"""Benchmark compositing: a 4096 x 4096 scene with 24 dates (VV, VH), korea-rice calendar.

Run: ``.venv/bin/python benchmarks/composite.py [--size 4096] [--dates 24] [--block-rows 512]``

Writes synthetic float32 GeoTIFFs (constant + noise, uncompressed) into a temporary
folder, then composites them in a separate process so that its peak RSS is the
compositing's alone (interpreter and library imports included). Prints wall time, peak
RSS, and the input throughput in MB/s beside this machine's memory bandwidth measured in
the same run. The promise: peak RSS under 1 GB whatever the scene size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import machine_line, memory_bandwidth_mb_s, peak_rss_mb  # noqa: E402


def _composite_child(s1: str, out: str, block_rows: int, workers: int) -> None:
    """Composite in this (child) process and print JSON figures."""
    from cropmap.sar import composite_folder

    t0 = time.perf_counter()
    composite_folder(
        s1, "korea-rice", out, units="linear", block_rows=block_rows, dask_workers=workers
    )
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - t0,
                "cpu_seconds": ru.ru_utime + ru.ru_stime,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


def main() -> None:
    """Write the inputs, composite them in a child process, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--dates", type=int, default=24)
    ap.add_argument("--block-rows", type=int, default=512)
    ap.add_argument("--dask-workers", type=int, default=0)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _composite_child(args.child[0], args.child[1], args.block_rows, args.dask_workers)
        return

    from cropmap.sar.synthetic import series_dates, write_s1_series

    bw = memory_bandwidth_mb_s(size_mb=128, repeats=3)
    # 24 dates every 7 days from 10 May cover the 8 korea-rice periods (10 May-20 Oct)
    days = series_dates(
        dt.date(2021, 5, 10), args.dates, step_days=max(1, 161 // max(1, args.dates - 1))
    )
    with tempfile.TemporaryDirectory(prefix="cropmap-bench-") as tmp:
        s1 = Path(tmp) / "s1"
        t0 = time.perf_counter()
        write_s1_series(s1, days, height=args.size, width=args.size, compress=None)
        t_write = time.perf_counter() - t0
        in_mb = sum(p.stat().st_size for p in s1.glob("*.tif")) / 1e6
        out = Path(tmp) / "composite.tif"
        cmd = [
            sys.executable,
            __file__,
            "--child",
            str(s1),
            str(out),
            "--block-rows",
            str(args.block_rows),
            "--dask-workers",
            str(args.dask_workers),
        ]
        res = subprocess.run(cmd, check=True, capture_output=True, text=True)
        fig = json.loads(res.stdout.strip().splitlines()[-1])
        out_mb = out.stat().st_size / 1e6
    secs = fig["seconds"]
    print(f"machine: {machine_line()}; load average {os.getloadavg()[0]:.1f} at the end")
    print(
        f"scene: {args.size} x {args.size} px, {args.dates} dates x 2 bands float32 "
        f"({in_mb:.0f} MB input, written in {t_write:.1f} s); block rows {args.block_rows}; "
        f"dask workers {args.dask_workers}"
    )
    print(f"composite: {secs:.1f} s, output {out_mb:.0f} MB (8 periods x 2 bands + counts)")
    print(
        f"peak RSS of the compositing process: {fig['peak_rss_mb']:.0f} MB "
        f"(limit 1024 MB: {'OK' if fig['peak_rss_mb'] < 1024 else 'EXCEEDED'})"
    )
    print(
        f"throughput: {in_mb / secs:.0f} MB/s of input  |  memory bandwidth (copy): "
        f"{bw:.0f} MB/s  ->  {100 * in_mb / secs / bw:.1f} % of bandwidth"
    )
    print(
        f"CPU time of the compositing process: {fig['cpu_seconds']:.1f} s "
        f"({in_mb / fig['cpu_seconds']:.0f} MB of input per CPU second, imports included)"
    )


if __name__ == "__main__":
    main()
