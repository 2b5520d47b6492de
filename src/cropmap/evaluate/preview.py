"""A small PNG quick-look of a class map: colours, legend with areas, extent and scale in metres.

The class band is read already downsampled (``out_shape``, nearest): GDAL serves it from
the map's internal overviews, so memory is the preview's size (at most ``max_px`` squared
bytes plus the figure), never the full map's, even for a 10980 x 10980 scene.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from cropmap.evaluate.mapped import CLASS_BAND, MappedArea, map_classes
from cropmap.infer.cog import NODATA
from cropmap.io.atomic import atomic_path
from cropmap.io.raster import env, open_raster, read_checked
from cropmap.io.style import class_colours

#: Longest side of the preview raster in pixels.
MAX_PX = 800


def read_decimated(map_path: str | os.PathLike, max_px: int = MAX_PX) -> tuple[np.ndarray, dict]:
    """Class band downsampled so its longer side is at most ``max_px`` ``(h, w)`` uint8.

    Returns:
        The array and ``{"bounds", "crs", "classes", "step"}`` (``step`` = map pixels per
        preview pixel along each axis).
    """
    from rasterio.enums import Resampling

    with open_raster(map_path) as ds, env():
        step = max(1, math.ceil(max(ds.width, ds.height) / max_px))
        shape = (max(1, ds.height // step), max(1, ds.width // step))
        arr = read_checked(ds, CLASS_BAND, out_shape=shape, resampling=Resampling.nearest)
        meta = {
            "bounds": tuple(ds.bounds),
            "crs": ds.crs,
            "classes": map_classes(ds.tags()),
            "step": step,
            "units": ds.crs.linear_units if ds.crs is not None and ds.crs.is_projected else "",
        }
    return arr, meta


def _scale_length(width_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 x 10^k metres) of about a fifth of the width."""
    target = width_m / 5.0
    k = 10 ** math.floor(math.log10(target))
    return max(m * k for m in (1, 2, 5) if m * k <= target)


def write_preview(
    map_path: str | os.PathLike,
    png_path: str | os.PathLike,
    *,
    area: MappedArea | None = None,
    max_px: int = MAX_PX,
) -> Path:
    """Write a PNG quick-look of a cropmap map's class band (atomically).

    Args:
        map_path: map written by ``cropmap predict``.
        png_path: output PNG.
        area: mapped areas for the legend (from :func:`cropmap.evaluate.mapped.mapped_area`).
        max_px: longest side of the downsampled class raster.

    Returns:
        ``png_path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    arr, meta = read_decimated(map_path, max_px)
    classes: list[str] = meta["classes"]
    cmap = class_colours(len(classes), NODATA)
    lut = np.zeros((256, 4), np.float32)
    for v, c in cmap.items():
        lut[v] = np.array(c, np.float32) / 255.0
    left, bottom, right, top = meta["bounds"]
    metric = meta["units"] in {"metre", "meter", "m"}
    fig = Figure(figsize=(7.0, 6.0), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(
        arr,
        cmap=ListedColormap(lut),
        vmin=0,
        vmax=255,
        interpolation="nearest",
        extent=(left, right, bottom, top),
    )
    unit = "m" if metric else (meta["units"] or "map units")
    ax.set_xlabel(f"easting ({unit})")
    ax.set_ylabel(f"northing ({unit})")
    ax.ticklabel_format(style="plain", useOffset=False)
    ax.tick_params(labelsize=7)
    crs = meta["crs"].to_string() if meta["crs"] is not None else "no CRS"
    ax.set_title(
        f"{Path(map_path).name}  ({crs}; {right - left:,.0f} x {top - bottom:,.0f} {unit}; "
        f"1 preview px = {meta['step']} map px)",
        fontsize=8,
    )
    if metric:
        length = _scale_length(right - left)
        x0, y0 = left + 0.05 * (right - left), bottom + 0.05 * (top - bottom)
        ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=3)
        label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
        ax.text(x0 + length / 2, y0 + 0.02 * (top - bottom), label, ha="center", fontsize=8)
    hectares = area.hectares if area is not None else None
    handles = []
    for i, name in enumerate(classes):
        text = name if hectares is None else f"{name}: {hectares[i]:,.1f} ha"
        handles.append(Patch(facecolor=lut[i], edgecolor="black", label=text))
    handles.append(Patch(facecolor="white", edgecolor="black", label="nodata"))
    ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.9)
    fig.tight_layout()
    png_path = Path(png_path)
    with atomic_path(png_path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    return png_path
