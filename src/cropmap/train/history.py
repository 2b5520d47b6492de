"""Training history: read Lightning's CSV logs and plot learning curves."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from cropmap.io.atomic import atomic_path

CURVE_KEYS = ("train_loss", "val_loss", "val_iou")


def read_history(log_root: str | Path) -> list[dict[str, Any]]:
    """One row per epoch (``epoch``, ``step``, ``train_loss``, ``val_loss``, ``val_iou``).

    Reads every ``metrics.csv`` under ``log_root`` (one per run, so a resumed run adds
    its epochs); a later row of the same epoch wins.
    """
    rows: dict[int, dict[str, Any]] = {}
    for path in sorted(Path(log_root).rglob("metrics.csv"), key=lambda p: p.stat().st_mtime):
        with open(path, newline="", encoding="utf-8") as fh:
            for rec in csv.DictReader(fh):
                if not rec.get("epoch"):
                    continue
                epoch = int(float(rec["epoch"]))
                row = rows.setdefault(epoch, {"epoch": epoch})
                for key, val in rec.items():
                    if key == "epoch" or val in ("", None):
                        continue
                    num = float(val)
                    row[key] = int(num) if key == "step" else num
    return [rows[e] for e in sorted(rows)]


def plot_learning_curves(history: list[dict[str, Any]], out_path: str | Path) -> Path:
    """Write a PNG with the losses (left) and the validation IoU (right) per epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_iou) = plt.subplots(1, 2, figsize=(9, 3.5))
    for key in ("train_loss", "val_loss"):
        pts = [(r["epoch"], r[key]) for r in history if key in r and math.isfinite(r[key])]
        if pts:
            ax_loss.plot(*zip(*pts, strict=True), marker="o", label=key)
    pts = [(r["epoch"], r["val_iou"]) for r in history if "val_iou" in r]
    if pts:
        ax_iou.plot(*zip(*pts, strict=True), marker="o", color="tab:green")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_iou.set(xlabel="epoch", ylabel="IoU (target)", title="validation IoU", ylim=(0, 1))
    if ax_loss.lines:
        ax_loss.legend()
    fig.tight_layout()
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return Path(out_path)
