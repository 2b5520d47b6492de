"""Map figures in the poster's layout: per test patch, RGB composite, truth, predictions.

Each row of the figure is one test patch (or one fine-tuning source for the same
patch); its panels are (a) an RGB of the first three VH composites (periods 1, 2, 3 as
red, green, blue, each stretched between its 2nd and 98th percentile in dB), (b) the
ground truth, then one panel per strategy's predicted class. Target class is drawn in
yellow, other in dark blue, ignored / nodata pixels in white.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cropmap.io.atomic import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

IGNORE = 255
#: colours of class 0 (other), 1 (target) and ignore
CLASS_COLOURS = np.array([[0.12, 0.19, 0.42], [0.98, 0.84, 0.15], [1.0, 1.0, 1.0]])


@dataclass
class MapRow:
    """One row of the figure.

    Attributes:
        label: row title (e.g. ``Spain -> France, VH``).
        vh: ``(T, H, W)`` VH composites in dB (NaN = nodata); the first three make the RGB.
        truth: ``(H, W)`` uint8 labels (0, 1, 255).
        predictions: strategy name -> ``(H, W)`` predicted class (0/1, 255 = nodata).
        scores: optional strategy name -> IoU shown in the panel title.
    """

    label: str
    vh: np.ndarray
    truth: np.ndarray
    predictions: Mapping[str, np.ndarray]
    scores: Mapping[str, float] = field(default_factory=dict)


def rgb_composite(vh: np.ndarray, lo: float = 2.0, hi: float = 98.0) -> np.ndarray:
    """``(H, W, 3)`` float RGB in [0, 1] from the first three periods of ``vh`` ``(T, H, W)``.

    Each channel is stretched between its ``lo`` and ``hi`` percentiles; NaN -> white.
    With fewer than three periods the last one is repeated.
    """
    vh = np.asarray(vh, dtype=np.float32)
    idx = [min(i, vh.shape[0] - 1) for i in range(3)]
    rgb = np.empty((*vh.shape[1:], 3), dtype=np.float32)
    for ch, t in enumerate(idx):
        band = vh[t]
        finite = band[np.isfinite(band)]
        a, b = np.percentile(finite, [lo, hi]) if finite.size else (0.0, 1.0)
        rgb[..., ch] = np.clip((band - a) / max(b - a, 1e-6), 0, 1)
    rgb[~np.isfinite(vh[idx]).all(axis=0)] = 1.0
    return rgb


def class_image(labels: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` colours of a class raster (0 other, 1 target, 255 ignore)."""
    lab = np.asarray(labels)
    idx = np.where(lab == IGNORE, 2, np.clip(lab, 0, 1)).astype(np.intp)
    return CLASS_COLOURS[idx]


def maps_figure(rows: Sequence[MapRow], strategies: Sequence[str], title: str = "") -> Figure:
    """Build the figure: one row per :class:`MapRow`, columns RGB, truth, strategies.

    Strategies without a prediction in any row get no column (they did not run); a
    strategy missing in only some rows shows a grey "not run" panel there, never a
    blank one that reads like an empty map.

    Returns:
        A matplotlib ``Figure`` (Agg backend; caller saves or closes it).
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    strategies = [s for s in strategies if any(s in row.predictions for row in rows)]
    n_cols = 2 + len(strategies)
    fig = Figure(figsize=(1.9 * n_cols, 2.3 * len(rows) + 0.6), dpi=80)
    axes = fig.subplots(len(rows), n_cols, squeeze=False)
    for r, row in enumerate(rows):
        panels = [("RGB VH P1-P3", rgb_composite(row.vh)), ("truth", class_image(row.truth))]
        missing = set()
        for s in strategies:
            pred = row.predictions.get(s)
            if pred is None:
                missing.add(len(panels))
                img = np.full((*row.truth.shape, 3), 0.85)
            else:
                img = class_image(pred)
            score = row.scores.get(s)
            panels.append((s if score is None else f"{s} IoU {score:.2f}", img))
        for c, (name, img) in enumerate(panels):
            ax = axes[r, c]
            ax.imshow(img, interpolation="nearest")
            if c in missing:
                ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(name, fontsize=8)
            if c == 0:
                ax.set_ylabel(row.label, fontsize=8)
    handles = [
        Patch(color=CLASS_COLOURS[0], label="other"),
        Patch(color=CLASS_COLOURS[1], label="target crop"),
        Patch(facecolor=CLASS_COLOURS[2], edgecolor="0.5", label="ignore"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return fig


def save_figure(fig: Figure, path: str | Path, dpi: int = 80) -> Path:
    """Save a matplotlib figure as PNG atomically and return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return path
