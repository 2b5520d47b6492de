"""Benchmark compositing: a 4096 x 4096 scene with 24 dates (VV, VH), korea-rice calendar.

Run: ``.venv/bin/python benchmarks/composite.py [--size 4096] [--dates 24] [--threads N]``

Writes synthetic float32 GeoTIFFs (constant + noise, uncompressed) into a temporary
folder, then composites them in a separate process so that its peak RSS is the
compositing's alone (interpreter and library imports included). Prints:

- wall time, CPU time and peak RSS of the real run (``composite_folder``), and the input
  throughput per wall second and per CPU second, beside the load average: on a shared
  machine the wall figure is what the process got, the CPU figure what it needs;
- where the CPU time goes, stage by stage (``_composite_stages.py``: GDAL reads, nodata
  masking and units, reducers, valid counts, compressed writes), in one thread;
- the limits measured in the same run: memory bandwidth (copy), and the ceiling the
  stages allow on this machine's CPUs if it had them to itself.

The promise: peak RSS under 1 GB whatever the scene size.
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

from _composite_stages import STAGES, cpu_s, stage_cpu  # noqa: E402
from _machine import machine_line, memory_bandwidth_mb_s, peak_rss_mb  # noqa: E402


def _composite_child(s1: str, out: str, block_rows: int, workers: int, threads: int) -> None:
    """Composite in this (child) process and print JSON figures."""
    from cropmap.sar import composite_folder

    t0, c0 = time.perf_counter(), cpu_s()
    composite_folder(
        s1,
        "korea-rice",
        out,
        units="linear",
        block_rows=block_rows,
        dask_workers=workers,
        threads=threads or None,
    )
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - t0,
                "cpu_seconds": cpu_s() - c0,
                "system_seconds": ru.ru_stime,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


def _run_child(*args: str) -> dict:
    cmd = [sys.executable, __file__, *args]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _report(args: argparse.Namespace, in_mb: float, t_write: float, fig: dict, st: dict) -> None:
    bw = memory_bandwidth_mb_s(size_mb=128, repeats=3)
    ncpu = os.cpu_count() or 1
    secs, cpu = fig["seconds"], fig["cpu_seconds"]
    load = os.getloadavg()
    print(f"machine: {machine_line()}; load average {load[0]:.1f} (1 min) at the end")
    print(
        f"scene: {args.size} x {args.size} px, {args.dates} dates x 2 bands float32 "
        f"({in_mb:.0f} MB input, written in {t_write:.1f} s); block rows {args.block_rows}; "
        f"threads {args.threads or 'default'}; dask workers {args.dask_workers}"
    )
    print(
        f"composite: {secs:.1f} s wall, {cpu:.1f} s CPU ({cpu / secs:.2f} CPUs busy on "
        f"average; system time {fig['system_seconds']:.1f} s)"
    )
    print(
        f"peak RSS of the compositing process: {fig['peak_rss_mb']:.0f} MB "
        f"(limit 1024 MB: {'OK' if fig['peak_rss_mb'] < 1024 else 'EXCEEDED'})"
    )
    print(
        f"throughput: {in_mb / secs:.0f} MB/s of input (wall) | {in_mb / cpu:.0f} MB of input "
        f"per CPU second | memory bandwidth (copy): {bw:.0f} MB/s -> "
        f"{100 * in_mb / secs / bw:.1f} % of bandwidth"
    )
    total = sum(st.values())
    print(f"where the CPU time goes (one thread, {total:.1f} s CPU over all stages):")
    print(f"  {'stage':16s} {'CPU s':>7s} {'share':>6s} {'MB input / CPU s':>17s}")
    for name in STAGES:
        s = st[name]
        rate = f"{in_mb / s:17.0f}" if s > 0 else f"{'-':>17s}"
        print(f"  {name:16s} {s:7.2f} {100 * s / total:5.1f}% {rate}")
    top = max(STAGES, key=lambda k: st[k])
    ceiling = in_mb / total * min(ncpu, args.threads or ncpu)
    print(
        f"limit: the stages need {1e3 * total / in_mb:.2f} ms CPU per MB of input; with "
        f"{min(ncpu, args.threads or ncpu)} CPUs to itself this machine could composite at "
        f"most {ceiling:.0f} MB/s (the goal is 1000 MB/s). The largest stage is '{top}' "
        f"({100 * st[top] / total:.0f} %); each stage makes one or more passes over every "
        f"value, at {in_mb / total / bw * 100:.1f} % of the copy bandwidth per CPU in all."
    )
    rest = total - st["write"]
    print(
        f"  without compressing the outputs (compress='none': {st['write']:.2f} s of "
        f"ZSTD + floating-point predictor saved, larger files) the ceiling "
        f"would be {in_mb / max(rest, 1e-9) * min(ncpu, args.threads or ncpu):.0f} MB/s"
    )
    if load[0] > ncpu:
        print(
            f"note: load average {load[0]:.1f} on {ncpu} CPUs: other jobs shared the CPUs, "
            "so the wall figures are upper bounds of the time; the CPU figures are not."
        )


def main() -> None:
    """Write the inputs, composite them in a child process, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--dates", type=int, default=24)
    ap.add_argument("--block-rows", type=int, default=512)
    ap.add_argument("--dask-workers", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="0: the library's default")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--stages-child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _composite_child(*args.child, args.block_rows, args.dask_workers, args.threads)
        return
    if args.stages_child:
        print(json.dumps(stage_cpu(args.stages_child, "korea-rice", args.block_rows)))
        return

    from cropmap.sar.synthetic import series_dates, write_s1_series

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
        opts = ["--block-rows", str(args.block_rows), "--threads", str(args.threads)]
        fig = _run_child(
            "--child", str(s1), str(out), *opts, "--dask-workers", str(args.dask_workers)
        )
        stages = _run_child("--stages-child", str(s1), *opts)
    _report(args, in_mb, t_write, fig, stages)


if __name__ == "__main__":
    main()
