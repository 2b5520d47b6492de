"""Figures of the simulator: per-class mean trajectories and a scene quick-look.

``make_doc_figures`` regenerates ``docs/img/sim_*.png`` (``cropmap simulate-plots``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cropmap.simulate.phenology import CLASSES

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.figure import Figure

#: A colour per class (shared by the trajectory plot and the parcel map).
CLASS_COLORS: dict[str, str] = {
    "rice": "#1f77b4",
    "barley": "#d4a017",
    "maize": "#ff7f0e",
    "soybean": "#8c564b",
    "vegetables": "#e377c2",
    "fallow": "#bcbd22",
    "grassland": "#2ca02c",
    "water": "#17becf",
    "urban": "#7f7f7f",
    "forest": "#0b4d1a",
    "road": "#000000",
    "wheat": "#9467bd",
    "wetland": "#98df8a",
}


def _save_small(fig: Figure, out_path: Path, colors: int = 96) -> Path:
    """Save a figure as a palette PNG (small files for the docs)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    buf.seek(0)
    img = Image.open(buf).convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    img.save(out_path, optimize=True)
    return out_path


def _read_scene(
    scene_dir: Path, max_px: int = 512
) -> tuple[list[dt.date], np.ndarray, np.ndarray, gpd.GeoDataFrame]:
    """Read dates, dB stacks (T, 2, h, w) and the rasterized class map of a scene."""
    import geopandas as gpd
    import rasterio
    from rasterio import features

    files = sorted((scene_dir / "s1").glob("*.tif"))
    dates = [dt.date.fromisoformat(f.stem) for f in files]
    with rasterio.open(files[0]) as ds:
        n = min(ds.height, max_px)
        transform, shape = ds.transform, (n, n)
    stack = np.empty((len(files), 2, n, n), np.float32)
    for i, f in enumerate(files):
        with rasterio.open(f) as ds:
            stack[i] = ds.read(window=((0, n), (0, n)))
    with np.errstate(divide="ignore", invalid="ignore"):
        stack = 10.0 * np.log10(stack)
    gdf = gpd.read_file(scene_dir / "parcels.gpkg")
    code = {c: i for i, c in enumerate(CLASSES)}
    classes = features.rasterize(
        zip(gdf.geometry, gdf["crop"].map(code), strict=True),
        out_shape=shape,
        transform=transform,
        fill=255,
        dtype="uint8",
    )
    return dates, stack, classes, gdf


def plot_trajectories(scene_dirs: dict[str, Path], out_path: Path) -> Path:
    """Per-class median VV and VH (dB) against date, one row per region.

    Args:
        scene_dirs: region name -> simulated scene folder.
        out_path: PNG to write.
    """
    import matplotlib
    import matplotlib.dates

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(scene_dirs), 2, figsize=(10, 2.4 * len(scene_dirs)), dpi=80)
    axes = np.atleast_2d(axes)
    for row, (region, d) in enumerate(scene_dirs.items()):
        dates, stack, classes, _ = _read_scene(Path(d))
        for ci, cname in enumerate(CLASSES):
            m = classes == ci
            if m.sum() < 30:
                continue
            for b in range(2):
                vals = np.nanmedian(stack[:, b][:, m], axis=1)
                ax = axes[row, b]
                lw = 2.2 if cname in ("rice", "barley") else 1.0
                ax.plot(dates, vals, color=CLASS_COLORS[cname], lw=lw, label=cname)
        for b, band in enumerate(("VV", "VH")):
            ax = axes[row, b]
            ax.set_title(f"{region}: median {band} (dB)", fontsize=9)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=7)
            ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%b"))
    handles, names = [], []
    for ax in axes.ravel():
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in names:
                handles.append(h)
                names.append(lab)
    fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    _save_small(fig, out_path)
    plt.close(fig)
    return out_path


def plot_quicklook(scene_dir: Path, out_path: Path, max_px: int = 384) -> Path:
    """Quick-look: RGB of three VH dates (flooding, growth, peak) beside the parcel map."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    dates, stack, classes, gdf = _read_scene(Path(scene_dir), max_px)
    meta = json.loads((Path(scene_dir) / "scene.json").read_text())
    picks = []
    for month, day in ((5, 30), (7, 10), (8, 20)):
        want = dt.date(dates[0].year, month, day)
        picks.append(int(np.argmin([abs((d - want).days) for d in dates])))
    rgb = np.stack([stack[i, 1] for i in picks], axis=-1)
    h2 = rgb.shape[0] // 2 * 2
    rgb = rgb[:h2, :h2].reshape(h2 // 2, 2, h2 // 2, 2, 3).mean(axis=(1, 3))  # 20 m looks
    rgb = np.clip((rgb + 27.0) / 17.0, 0, 1)
    rgb = np.nan_to_num(rgb, nan=0.0)
    cmap = ListedColormap([CLASS_COLORS[c] for c in CLASSES])
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.6), dpi=80)
    axes[0].imshow(rgb, interpolation="nearest")
    axes[0].set_title("VH (dB) RGB: " + ", ".join(dates[i].isoformat() for i in picks), fontsize=8)
    shown = np.ma.masked_equal(classes, 255)
    axes[1].imshow(shown, cmap=cmap, vmin=-0.5, vmax=len(CLASSES) - 0.5, interpolation="nearest")
    axes[1].set_title(f"parcels ({meta['config']['region']}), colour = crop", fontsize=8)
    handles = [
        matplotlib.patches.Patch(color=CLASS_COLORS[c], label=c)
        for c in CLASSES
        if (gdf["crop"] == c).any()
    ]
    axes[1].legend(handles=handles, fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    _save_small(fig, out_path)
    plt.close(fig)
    return out_path


def make_doc_figures(
    out_dir: str | os.PathLike = "docs/img", size: int = 384, year: int = 2022, seed: int = 0
) -> list[Path]:
    """Simulate one small scene per region and write the documentation PNGs.

    Writes ``sim_trajectories.png`` (all regions) and ``sim_quicklook_<region>.png``.
    """
    from cropmap.simulate.regions import REGIONS
    from cropmap.simulate.scene import simulate_scene

    out = Path(out_dir)
    written = []
    with tempfile.TemporaryDirectory(prefix="cropmap-sim-") as tmp:
        dirs = {}
        for region in REGIONS:
            dirs[region] = simulate_scene(region, size, year, seed, Path(tmp) / region)
            written.append(plot_quicklook(dirs[region], out / f"sim_quicklook_{region}.png"))
        written.insert(0, plot_trajectories(dirs, out / "sim_trajectories.png"))
    return written
