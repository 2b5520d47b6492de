"""Benchmark tiled prediction: px/s, peak RSS and fraction of peak per engine and precision.

Run: ``.venv/bin/python benchmarks/predict.py [--size 1024] [--large 10980] [--skip-large]
[--large-only] [--model DIR] [--seam-model TRAINED_DIR --seam-input COMPOSITE.tif]``

1. Measures this machine's 3x3 conv peak per precision (``_machine.conv_peaks``: fp32
   NCHW, bf16 autocast + channels-last, int8 QDQ in onnxruntime; 2 threads).
2. Builds a default Recurrent U-Net (widths 16-32-64-128, VV+VH, 8 periods; random
   seeded weights, or ``--model``), exports it to ONNX, and counts the FLOPs of one
   256 x 256 window with ``torch.utils.flop_counter.FlopCounterMode``.
3. Writes one synthetic 1024 x 1024 composite (8 periods x VV, VH, dB) and mosaics it
   into larger inputs with GDAL VRTs (no extra disk).
4. For each engine and precision (torch fp32/bf16, onnx fp32/int8; int8 also with 512 px
   windows and on Dask), predicts a ``--size`` square input in its own process and prints
   kpx/s, peak RSS and GFLOP/s as a fraction of the conv peak of that precision.
5. RSS scaling: onnx int8 on 2048 x 2048, and the pipeline with a no-op engine on
   2048 x 2048 and ``--large`` x ``--large``.
6. Seam check: tiled maps (256 px windows, overlap 0 / 32 / 64; 512 px windows, overlap
   64 / 128) versus a one-pass map of the same 768 px crop (torch fp32); pass a trained
   model and its composite (``--seam-model``, ``--seam-input``).
7. Runs ``cropmap predict`` with its defaults end to end on a ``--large`` square mosaic
   and prints wall time, peak RSS, kpx/s, km2/s and the fraction of the int8 peak
   (``_large.py``; ``--large-only`` runs just this).

Timings on a CPU shared with other jobs are lower than on a quiet machine: the conv peaks
are measured in the same run so the two can be compared.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import conv_peaks, machine_line, of_peak, peak_rss_mb, peaks_line  # noqa: E402

BASE = 1024  # side of the synthetic composite tile mosaicked into larger inputs
PERIODS = [f"P{i}" for i in range(1, 9)]


# ----------------------------------------------------------------------------- inputs
def write_base(path: Path, bands: list[str], seed: int = 0) -> Path:
    """A 1024 x 1024 composite: fields with a rice-like VH dip, speckle-like noise, dB."""
    import numpy as np
    from rasterio.crs import CRS
    from rasterio.transform import from_origin

    from cropmap.io.raster import write_geotiff

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:BASE, 0:BASE]
    rice = (np.sin(yy / 23.0) * np.cos(xx / 31.0)) > 0.2
    arr = np.empty((8, len(bands), BASE, BASE), np.float32)
    for t in range(8):
        vh = np.where(rice, -25.0 + 2.0 * t, -16.0) + rng.normal(0, 1.5, (BASE, BASE))
        for c, b in enumerate(bands):
            arr[t, c] = vh + (7.0 if b == "VV" else 0.0)
    write_geotiff(
        path,
        arr.reshape(-1, BASE, BASE),
        crs=CRS.from_epsg(32652),
        transform=from_origin(300000.0, 4000000.0, 10.0, 10.0),
        nodata=float("nan"),
        descriptions=[f"{p}_{b}" for p in PERIODS for b in bands],
        tags={"PERIODS": ",".join(PERIODS), "BANDS": ",".join(bands), "UNITS": "dB"},
    )
    return path


def write_mosaic(base: Path, out: Path, size: int, width: int | None = None) -> Path:
    """A ``size`` rows x ``width`` (default ``size``) cols VRT tiling ``base``."""
    import rasterio

    with rasterio.open(base) as ds:
        count, desc, tags, t = ds.count, ds.descriptions, ds.tags(), ds.transform
        crs_wkt = ds.crs.to_wkt()
    width = width or size
    geo = f"{t.c}, {t.a}, {t.b}, {t.f}, {t.d}, {t.e}"
    meta = "".join(f'<MDI key="{k}">{v}</MDI>' for k, v in tags.items() if k != "AREA_OR_POINT")
    parts = [
        f'<VRTDataset rasterXSize="{width}" rasterYSize="{size}">',
        f"<SRS>{crs_wkt}</SRS><GeoTransform>{geo}</GeoTransform>",
        f"<Metadata>{meta}</Metadata>",
    ]
    n, m = math.ceil(size / BASE), math.ceil(width / BASE)
    for b in range(1, count + 1):
        parts.append(f'<VRTRasterBand dataType="Float32" band="{b}">')
        parts.append(f"<Description>{desc[b - 1]}</Description><NoDataValue>nan</NoDataValue>")
        for i in range(n):
            for j in range(m):
                w, h = min(BASE, width - j * BASE), min(BASE, size - i * BASE)
                parts.append(
                    f'<SimpleSource><SourceFilename relativeToVRT="0">{base}</SourceFilename>'
                    f"<SourceBand>{b}</SourceBand>"
                    f'<SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>'
                    f'<DstRect xOff="{j * BASE}" yOff="{i * BASE}" xSize="{w}" ySize="{h}"/>'
                    "</SimpleSource>"
                )
        parts.append("</VRTRasterBand>")
    parts.append("</VRTDataset>")
    out.write_text("\n".join(parts))
    return out


def make_model(out: Path) -> Path:
    """Default Recurrent U-Net (VV, VH; 8 periods), seeded random weights."""
    import torch

    from cropmap.models.recurrent_unet import RecurrentUNet
    from cropmap.models.registry import ModelMeta, save_model

    torch.manual_seed(0)
    meta = ModelMeta(
        bands=["VV", "VH"],
        periods=PERIODS,
        norm={"mean": {"VV": -12.0, "VH": -19.0}, "std": {"VV": 4.0, "VH": 4.5}},
        classes=["other", "rice"],
        target="rice",
    )
    save_model(out, RecurrentUNet(in_channels=2).eval(), meta)
    return out


def window_flops(model_dir: Path, window: int = 256) -> float:
    """FLOPs of one ``window x window`` forward pass (FlopCounterMode; multiply-add = 2)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from cropmap.models.registry import load_model

    model, meta = load_model(model_dir)
    x = torch.zeros(1, meta.n_periods, len(meta.bands), window, window)
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model.eval()(x)
    return float(counter.get_total_flops())


# ----------------------------------------------------------------------------- child
def own_peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM), in MB.

    ``getrusage``'s ``ru_maxrss`` of a child started by ``subprocess`` keeps the parent's
    peak from before ``exec``, so it cannot tell engines apart; ``VmHWM`` belongs to the
    process's own address space. Falls back to ``ru_maxrss`` off Linux.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return peak_rss_mb()


def child(job: dict) -> None:
    """Predict in this process and print one JSON line of figures."""
    import numpy as np

    from cropmap.infer import ENGINES, predict_raster
    from cropmap.infer.windows import window_rows
    from cropmap.models.registry import read_meta

    class NullEngine:
        """Zero logits: the whole pipeline except the network."""

        def __init__(self, model_dir: str, **_: object) -> None:
            self.meta = read_meta(model_dir)

        def __call__(self, x: np.ndarray) -> np.ndarray:
            return np.zeros((x.shape[0], 1, *x.shape[-2:]), np.float32)

    ENGINES["null"] = NullEngine
    kwargs = {
        "window": job.get("window", 256),
        "overlap": job.get("overlap"),
        "batch_size": job.get("batch_size", 4),
        "engine": job["engine"],
        "precision": job.get("precision", "fp32"),
        "onnx_path": job.get("onnx") if job["engine"] == "onnx" else None,
        "threads": job.get("threads", 2),
    }
    workers_rss = workers_cpu = 0.0
    t0, c0 = time.perf_counter(), time.process_time()
    if job.get("dask"):
        from distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=job["dask"],
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            cpu0 = client.run(time.process_time)
            t0, c0 = time.perf_counter(), time.process_time()  # cluster start not counted
            predict_raster(
                job["model"],
                job["input"],
                job["out"],
                scheduler=cluster.scheduler_address,
                **kwargs,
            )
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            cpu1 = client.run(time.process_time)
            workers_cpu = sum(cpu1[k] - cpu0[k] for k in cpu1)
            workers_rss = sum(client.run(own_peak_rss_mb).values())
    else:
        predict_raster(job["model"], job["input"], job["out"], **kwargs)
    if not job.get("dask"):
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    import rasterio

    with rasterio.open(job["input"]) as ds:
        h, w = ds.height, ds.width
    ov = job.get("overlap")
    ov = min(64, job.get("window", 256) // 4) if ov is None else ov
    n_win = sum(len(r) for r in window_rows(h, w, job.get("window", 256), ov))
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu + workers_cpu,
                "px": h * w,
                "windows": n_win,
                "rss_mb": own_peak_rss_mb() + workers_rss,
            }
        )
    )


def run_child(job: dict) -> dict:
    """Run :func:`child` in a fresh interpreter; return its figures."""
    res = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(job)],
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        raise RuntimeError(f"child failed: {res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- seams
def seam_check(model_dir: Path, composite: Path, tmp: Path, side: int = 768) -> list[str]:
    """Tiled (256 and 512 px windows) versus one-pass maps of a ``side`` square crop.

    Both run torch fp32, so the difference is the tiling's alone.
    """
    import numpy as np
    import rasterio
    from rasterio.windows import Window

    from cropmap.infer import predict_raster
    from cropmap.infer.cog import dequantize

    crop = tmp / "seam_crop.tif"
    with rasterio.open(composite) as ds:
        prof = ds.profile | {"width": side, "height": side, "tiled": False}
        prof.pop("blockxsize", None), prof.pop("blockysize", None)
        prof["transform"] = ds.window_transform(Window(0, 0, side, side))
        with rasterio.open(crop, "w", **prof) as dst:
            dst.write(ds.read(window=Window(0, 0, side, side)))
            dst.descriptions = ds.descriptions
            dst.update_tags(**ds.tags())
    fp32 = {"engine": "torch", "precision": "fp32"}
    whole = predict_raster(model_dir, crop, tmp / "seam_whole.tif", window=side, overlap=0, **fp32)
    with rasterio.open(whole) as ds:
        ref = ds.read()
    lines = []
    for window, overlap in ((256, 0), (256, 32), (256, 64), (512, 64), (512, 128)):
        tiled = predict_raster(
            model_dir,
            crop,
            tmp / f"seam_{window}_{overlap}.tif",
            window=window,
            overlap=overlap,
            **fp32,
        )
        with rasterio.open(tiled) as ds:
            got = ds.read()
        d = np.abs(dequantize(got[0]) - dequantize(ref[0]))
        agree = float((got[1] == ref[1]).mean())
        lines.append(
            f"  window {window}, overlap {overlap:3d}: |p_tiled - p_one_pass| "
            f"mean {np.nanmean(d):.4f}, "
            f"p99 {np.nanpercentile(d, 99):.4f}, max {np.nanmax(d):.4f}; "
            f"class agreement {agree:.4%}"
        )
    return lines


# ----------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, default=1024, help="input side for px/s per engine")
    ap.add_argument("--large", type=int, default=10980, help="large input side (RSS, target)")
    ap.add_argument("--model", type=Path, help="model dir (default: random default U-Net)")
    ap.add_argument("--seam-model", type=Path, help="model for the seam check (a trained one)")
    ap.add_argument("--seam-input", type=Path, help="composite for the seam check")
    ap.add_argument("--skip-seams", action="store_true")
    ap.add_argument("--skip-large", action="store_true", help="skip the end-to-end --large run")
    ap.add_argument(
        "--large-only",
        action="store_true",
        help="only run `cropmap predict` (defaults) end to end on the --large input",
    )
    ap.add_argument("--cli-args", default="", help="extra options for --large-only's predict")
    args = ap.parse_args()
    if args.child:
        child(json.loads(args.child))
        return

    print(f"machine: {machine_line()} (shared with other jobs: timings are lower bounds)")
    peaks = conv_peaks(threads=2)
    print(peaks_line(peaks) + " (2 threads)")
    if args.large_only:
        from _large import large_cli

        large_cli(args.large, args.model, peaks, args.cli_args.split())
        return
    with tempfile.TemporaryDirectory(prefix="cropmap-bench-predict-") as tdir:
        tmp = Path(tdir)
        model = args.model or make_model(tmp / "model")
        from cropmap.infer import export_onnx
        from cropmap.models.registry import read_meta

        info = read_meta(model)
        t0 = time.perf_counter()
        export_onnx(model, tmp / "model.onnx")
        print(f"ONNX export: {time.perf_counter() - t0:.1f} s")
        flops = window_flops(model)
        print(
            f"model: bands {list(info.bands)}, {info.n_periods} periods; "
            f"{flops / 1e9:.2f} GFLOP per 256 x 256 window (FlopCounterMode)"
        )
        base = write_base(tmp / "base.tif", list(info.bands))
        inputs = {s: write_mosaic(base, tmp / f"in_{s}.vrt", s) for s in {args.size, 2048}}
        inputs[args.large] = write_mosaic(base, tmp / f"in_{args.large}.vrt", args.large)
        inputs["tall"] = write_mosaic(base, tmp / "in_tall.vrt", args.large, 2048)

        def job(engine: str, size: int | str) -> dict:
            return {
                "model": str(model),
                "input": str(inputs[size]),
                "out": str(tmp / f"map_{engine}_{size}.tif"),
                "engine": engine,
                "onnx": str(tmp / "model.onnx"),
            }

        print(f"\nper engine and precision, {args.size} x {args.size} input, batch 4:")
        setups = [
            ("torch", "fp32", 256, "1 process x 2 threads", {"threads": 2}),
            ("torch", "bf16", 256, "1 process x 2 threads", {"threads": 2}),
            ("onnx", "fp32", 256, "1 process x 2 threads", {"threads": 2}),
            ("onnx", "int8", 256, "1 process x 2 threads", {"threads": 2}),
            ("onnx", "int8", 512, "1 process x 2 threads", {"threads": 2, "batch_size": 1}),
            ("onnx", "int8", 256, "Dask 2 workers x 1 thread", {"threads": 1, "dask": 2}),
        ]
        rates = {}
        for engine, prec, win, label, extra in setups:
            r = run_child(job(engine, args.size) | {"precision": prec, "window": win} | extra)
            rates[(engine, prec, win, label)] = r
            # compute per window scales with its area (the network is fully convolutional)
            gflops = r["windows"] * flops * (win / 256) ** 2 / r["wall"] / 1e9
            print(
                f"  {engine:5s} {prec} window {win} {label:26s}: "
                f"{r['px'] / r['wall'] / 1e3:6.1f} kpx/s  peak RSS {r['rss_mb']:5.0f} MB  "
                f"{of_peak(gflops, prec, peaks)}"
            )
        print("\npeak RSS versus raster size:")
        r = run_child(job("onnx", 2048) | {"precision": "int8"})
        onnx_rss = r["rss_mb"]
        print(f"  onnx int8, 2048 x 2048: peak RSS {onnx_rss:.0f} MB ({r['wall']:.0f} s)")
        null_rss = {}
        for size in (2048, "tall", args.large):
            r = run_child(job("null", size))
            null_rss[size] = r["rss_mb"]
            shape = f"{args.large} x 2048" if size == "tall" else f"{size} x {size}"
            print(
                f"  pipeline without network (no-op engine), {shape} (rows x cols): "
                f"peak RSS {r['rss_mb']:.0f} MB ({r['px'] / r['wall'] / 1e6:.2f} Mpx/s, "
                f"{r['windows']} windows)"
            )
        grow = null_rss[args.large] - null_rss[2048]
        print(
            f"  => onnx on {args.large} x {args.large}: {onnx_rss:.0f} + "
            f"({null_rss[args.large]:.0f}"
            f" - {null_rss[2048]:.0f}) = {onnx_rss + grow:.0f} MB expected peak RSS (the growth "
            "is the strip buffers, proportional to the width)"
        )
        print("\n" + peaks_line(conv_peaks(threads=2)) + " (again)")

        if not args.skip_seams:
            seam_in = args.seam_input or base
            seam_model = args.seam_model or Path(model)
            print(f"\nseam check, {seam_model.name} on {seam_in.name} (768 x 768 crop, torch):")
            for line in seam_check(seam_model, seam_in, tmp):
                print(line)
    if not args.skip_large:
        from _large import large_cli

        large_cli(args.large, args.model, peaks, args.cli_args.split())


if __name__ == "__main__":
    main()
