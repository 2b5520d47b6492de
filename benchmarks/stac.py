"""Benchmark the STAC path against the folder path on the same simulated scene.

Run: ``.venv/bin/python benchmarks/stac.py [--size 512] [--tiles 2] [--region spain]``

Simulates a scene, writes it as a static STAC catalogue (``tiles`` items per date), then
composites the whole scene twice in this process, from the folder of GeoTIFFs and from
the catalogue (odc-stac, lazy, read-ahead), both after their imports. Prints both wall
times, whether the outputs are identical bytes, and the peak RSS of the process beside
the machine's memory bandwidth. The promise: identical outputs; the STAC path's cost
on local files is printed beside the folder path's (same process, after imports).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import memory_bandwidth_mb_s, peak_rss_mb  # noqa: E402


def main() -> None:
    """Run the benchmark and print one line per figure."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=512, help="scene side, pixels")
    ap.add_argument("--tiles", type=int, default=2, help="STAC items per date")
    ap.add_argument("--region", default="spain", help="simulated region")
    args = ap.parse_args()

    import odc.stac  # noqa: F401  (imports before timing)
    import rasterio

    from cropmap.sar import composite_folder
    from cropmap.sar.stac import composite_stac
    from cropmap.simulate import simulate_scene
    from cropmap.simulate.stac_catalog import COLLECTION, write_stac_catalog

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        scene = simulate_scene(args.region, args.size, 2022, 0, root / "scene")
        meta = json.loads((scene / "scene.json").read_text())
        cat = write_stac_catalog(scene, tiles=args.tiles)
        x0, y0 = meta["transform"][2], meta["transform"][5]
        bbox = (x0, y0 - 10 * args.size, x0 + 10 * args.size, y0)
        cal = meta["calendar"]

        t = time.perf_counter()
        folder = composite_folder(scene / "s1", cal, root / "folder.tif", year=2022)
        t_folder = time.perf_counter() - t
        t = time.perf_counter()
        stac = composite_stac(
            cat, COLLECTION, cal, root / "stac.tif", year=2022, bbox=bbox, bbox_crs=meta["crs"]
        )
        t_stac = time.perf_counter() - t
        with rasterio.open(folder) as a, rasterio.open(stac) as b:
            same = a.read().tobytes() == b.read().tobytes()
        n_dates = len(list((scene / "s1").glob("*.tif")))
    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"scene: {args.region}, {args.size} x {args.size} px, {n_dates} dates, calendar {cal}")
    print(f"folder composite: {t_folder:.2f} s")
    print(f"STAC composite ({args.tiles} items per date, mosaicked): {t_stac:.2f} s")
    print(f"identical bytes: {same}")
    print(f"peak RSS of this process: {peak_rss_mb():.0f} MB")
    print(f"memory bandwidth (copy), this run: {memory_bandwidth_mb_s():,.0f} MB/s")
    print(f"load average (1 min): {load}")


if __name__ == "__main__":
    main()
