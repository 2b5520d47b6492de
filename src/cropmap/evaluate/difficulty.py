"""How hard are the simulated regions? The poster's RF row, on the real pipeline.

A pixel random forest needs no deep training, so its IoU is the cleanest measure of
how hard a region (and a transfer between two regions) is. This module computes the
poster's ten RF cells on simulated scenes with exactly the functions a user runs:
:func:`cropmap.simulate.simulate_scene` -> :func:`cropmap.sar.composite_folder` (the
region's calendar preset) -> :func:`cropmap.data.labels.rasterize_parcels` ->
:class:`cropmap.models.RandomForestBaseline` on :func:`cropmap.models.pixel_features`
-> :class:`cropmap.evaluate.metrics.SegmentationMetrics`.

The scene is cut into tiles of ``tile`` pixels that are split into train/val/test by
:func:`cropmap.data.splits.block_split` (whole blocks of ``block`` x ``block`` tiles), as
the experiment runner splits its patches. A forest is fitted on the training tiles of
the fine-tuning region and scored on the test tiles of each test region (its own, or
another one: a cross-region cell). Run ``i`` of ``seeds`` simulates every region with
scene seed ``seeds[i]`` and seeds the forest with it, so the spread covers both the
landscape and the forest.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from cropmap.errors import ConfigError
from cropmap.evaluate.poster import POSTER_COLUMNS, POSTER_IOU
from cropmap.io.atomic import atomic_write_text

log = logging.getLogger(__name__)

#: The poster's ten RF cells (fine-tune region, test region) in its column order.
CELLS: tuple[tuple[str, str], ...] = tuple(dict.fromkeys((ft, te) for ft, te, _ in POSTER_COLUMNS))
#: Feature sets of the poster's columns.
FEATURES: tuple[tuple[str, ...], ...] = (("VH",), ("VV", "VH"))
#: The poster's RF row (IoU of the target class): cell -> (VH, VV+VH).
POSTER_RF: dict[tuple[str, str], tuple[float, float]] = {
    (ft, te): (POSTER_IOU[("RF", ft, te, "VH")], POSTER_IOU[("RF", ft, te, "VV,VH")])
    for ft, te in CELLS
}
#: Scene sides (pixels) of the ``poster`` experiment preset.
POSTER_SIZES: dict[str, int] = {"korea": 2560, "spain": 1536, "france": 2048, "netherlands": 2560}


class RFSettings(BaseModel):
    """Random-forest settings (the experiment presets' ``rf`` block)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    n_estimators: int = Field(60, ge=1)
    max_depth: int | None = Field(14, ge=1)
    max_samples_per_class: int | None = Field(20_000, ge=1)
    n_jobs: int = 2


def scene_sizes(size: str | None = None, scale: float = 1.0, tile: int = 256) -> dict[str, int]:
    """Scene side per region from a ``--size`` text and a ``--scale`` factor.

    Args:
        size: ``None`` (the poster preset's sizes, :data:`POSTER_SIZES`), one number of
            pixels for every region, or ``region=px`` pairs separated by commas (other
            regions keep the poster's size).
        scale: factor on every size (e.g. 0.5 for a quicker check).
        tile: sizes are rounded down to a multiple of it, at least 3 tiles (train,
            val and test each need one).

    Raises:
        ConfigError: unparseable text, unknown region or non-positive value.
    """
    sizes = dict(POSTER_SIZES)
    text = (size or "").strip()
    bad = ConfigError(
        f"--size {size!r} is not a number of pixels or region=px pairs "
        "(e.g. 768 or spain=768,france=1024)"
    )
    if text and "=" not in text:
        if not text.isdigit():
            raise bad
        sizes = dict.fromkeys(sizes, int(text))
    elif text:
        for part in text.split(","):
            name, _, value = (p.strip() for p in part.partition("="))
            if name not in sizes:
                raise ConfigError(
                    f"--size: unknown region {name!r}; use one of: {', '.join(sizes)}"
                )
            if not value.isdigit():
                raise bad
            sizes[name] = int(value)
    if scale <= 0 or any(v <= 0 for v in sizes.values()):
        raise ConfigError(f"--size and --scale must be positive, got {size!r} and {scale}")
    return {k: max(3 * tile, int(v * scale) // tile * tile) for k, v in sizes.items()}


@dataclass(frozen=True)
class PreparedScene:
    """Composite and labels of one simulated scene (cached on disk).

    Attributes:
        region: simulator region.
        composite: ``T x C`` band GeoTIFF in dB (period-major, bands VV, VH).
        labels: uint8 label raster on the composite's grid (1 target, 0 other, 255 ignore).
        target: target crop name.
    """

    region: str
    composite: Path
    labels: Path
    target: str


def prepare_scene(
    region: str, size: int, year: int, seed: int, cache_dir: str | os.PathLike
) -> PreparedScene:
    """Simulate, composite and rasterize one scene, or reuse the cached result.

    The cache key holds the region, size, year, seed and
    :func:`cropmap.simulate.simulator_fingerprint` (a hash of the region's physics), so a
    change to the simulator never reuses stale scenes. The per-date GeoTIFFs are deleted
    once composited (the seed re-makes them identically).

    Args:
        region: simulator region.
        size: scene side, pixels (10 m).
        year: season year.
        seed: simulator seed.
        cache_dir: folder of cached scenes.

    Returns:
        The :class:`PreparedScene`.
    """
    from cropmap.data.labels import rasterize_parcels
    from cropmap.sar import composite_folder
    from cropmap.simulate import get_region, simulate_scene, simulator_fingerprint

    spec = get_region(region)
    key = f"{spec.name}-{size}px-{year}-s{seed}-{simulator_fingerprint(spec.name)[:12]}"
    root = Path(cache_dir) / key
    out = PreparedScene(spec.name, root / "composite.tif", root / "labels.tif", spec.target)
    if (root / "done.json").is_file():
        return out
    if root.exists():
        shutil.rmtree(root)
    scene = simulate_scene(spec.name, size, year, seed, root / "scene")
    composite_folder(scene / "s1", spec.calendar, out.composite, year=year, units="linear")
    shutil.rmtree(scene / "s1")
    rasterize_parcels(scene / "parcels.gpkg", out.composite, out.labels, mapping={spec.target: 1})
    meta = {"region": spec.name, "size": size, "year": year, "seed": seed, "key": key}
    atomic_write_text(root / "done.json", json.dumps(meta, indent=2) + "\n")
    return out


def read_scene(scene: PreparedScene) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Read a prepared scene.

    Returns:
        ``(x, bands, y)``: composites ``(T, C, H, W)`` float32 dB, their band names,
        labels ``(H, W)`` uint8.
    """
    from cropmap.io.raster import open_raster
    from cropmap.sar.layout import composite_layout

    with open_raster(scene.composite) as ds:
        periods, bands = composite_layout(ds)
        x = ds.read().astype(np.float32)
    with open_raster(scene.labels) as ds:
        y = ds.read(1)
    return x.reshape(len(periods), len(bands), *x.shape[1:]), list(bands), y


def split_masks(
    shape: tuple[int, int],
    tile: int,
    seed: int,
    block: int = 2,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
) -> dict[str, np.ndarray]:
    """Train/val/test pixel masks from a spatial block split of ``tile`` px tiles.

    Args:
        shape: ``(H, W)`` of the scene.
        tile: tile side, pixels (the patch size of an experiment).
        seed: split seed.
        block: block side in tiles (whole blocks go to one split).
        fractions: train, val, test shares.

    Returns:
        split name -> ``(H, W)`` bool mask; pixels outside full tiles are in no split.
    """
    from cropmap.data.splits import block_split

    h, w = shape
    origins = [(r, c) for r in range(0, h - tile + 1, tile) for c in range(0, w - tile + 1, tile)]
    rows = [r for r, _ in origins]
    cols = [c for _, c in origins]
    splits = block_split(rows, cols, tile, fractions, seed, block=block)
    masks = {s: np.zeros(shape, dtype=bool) for s in ("train", "val", "test")}
    for (r, c), s in zip(origins, splits, strict=True):
        masks[s][r : r + tile, c : c + tile] = True
    return masks


@dataclass
class _Region:
    x: np.ndarray
    bands: list[str]
    y: np.ndarray
    masks: dict[str, np.ndarray]


def _features(
    reg: _Region, bands: Sequence[str], mask: np.ndarray, fill: Mapping[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Pixel features ``(N, F)`` of ``bands`` under ``mask`` and their labels ``(N,)``."""
    from cropmap.models import pixel_features

    idx = [reg.bands.index(b) for b in bands]
    rows = np.flatnonzero(mask.ravel())
    x = reg.x[:, idx].reshape(reg.x.shape[0], len(idx), -1)[:, :, rows]
    return pixel_features(x[..., None], list(bands), fill=fill), reg.y.ravel()[rows]


def fit_and_score(
    train: _Region, tests: Mapping[str, _Region], bands: Sequence[str], rf: RFSettings, seed: int
) -> dict[str, float]:
    """Fit a forest on ``train``'s training pixels; target IoU on each test region's test pixels."""
    import torch

    from cropmap.evaluate.metrics import SegmentationMetrics
    from cropmap.models import RandomForestBaseline

    sel = train.masks["train"] & (train.y != 255)
    idx = [train.bands.index(b) for b in bands]
    fill = {b: float(np.nanmean(train.x[:, i][:, sel])) for b, i in zip(bands, idx, strict=True)}
    X, y = _features(train, bands, train.masks["train"], fill)
    model = RandomForestBaseline(**rf.model_dump(), random_state=seed).fit(X, y)
    out = {}
    for name, reg in tests.items():
        Xt, yt = _features(reg, bands, reg.masks["test"], fill)
        metrics = SegmentationMetrics(["other", "target"], target_index=1)
        for a in range(0, len(Xt), 500_000):
            pred = model.predict(Xt[a : a + 500_000]).astype(np.int64)
            metrics.update(torch.from_numpy(pred), torch.from_numpy(yt[a : a + 500_000]))
        out[name] = metrics.target_iou()
    return out


def difficulty_runs(
    cache_dir: str | os.PathLike,
    sizes: Mapping[str, int],
    *,
    year: int = 2021,
    seeds: Sequence[int] = (0, 1, 2),
    tile: int = 256,
    block: int = 2,
    rf: RFSettings | None = None,
    cells: Sequence[tuple[str, str]] = CELLS,
    features: Sequence[tuple[str, ...]] = FEATURES,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """IoU of every (cell, features, seed).

    Args:
        cache_dir: folder of cached scenes (composites and labels).
        sizes: scene side per region, pixels.
        year: season year of every scene.
        seeds: scene and forest seeds, one run each.
        tile: split tile side, pixels (an experiment's patch size).
        block: split block side, tiles.
        rf: forest settings (default: the experiment presets').
        cells: (fine-tune region, test region) pairs.
        features: band sets.
        progress: called with one line per finished step.

    Returns:
        Rows ``{"finetune", "test", "features", "seed", "iou"}``.
    """
    rf = rf or RFSettings()
    say = progress or log.info
    regions = sorted({r for cell in cells for r in cell})
    rows: list[dict[str, Any]] = []
    for seed in seeds:
        data: dict[str, _Region] = {}
        for r in regions:
            scene = prepare_scene(r, sizes[r], year, seed, cache_dir)
            x, bands, y = read_scene(scene)
            data[r] = _Region(x, bands, y, split_masks(y.shape, tile, seed, block))
            say(f"seed {seed}: {r} ready ({sizes[r]} px)")
        for ft in dict.fromkeys(c[0] for c in cells):
            tests = {t: data[t] for f, t in cells if f == ft}
            for feats in features:
                ious = fit_and_score(data[ft], tests, feats, rf, seed)
                for t, iou in ious.items():
                    rows.append(
                        {
                            "finetune": ft,
                            "test": t,
                            "features": ",".join(feats),
                            "seed": seed,
                            "iou": iou,
                        }
                    )
                    say(f"seed {seed}: RF {ft}->{t} {','.join(feats)}: IoU {iou:.3f}")
    return rows


def summarize(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Mean and standard deviation over seeds per cell, beside the poster's value.

    Returns:
        One row per (finetune, test, features): ``mean``, ``std``, ``n``, ``poster``,
        ``diff`` (mean minus poster; None where the poster has no such cell).
    """
    groups: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        groups.setdefault((r["finetune"], r["test"], r["features"]), []).append(float(r["iou"]))
    out = []
    for (ft, te, feats), v in groups.items():
        poster = POSTER_RF.get((ft, te))
        ref = None if poster is None else poster[0 if feats == "VH" else 1]
        mean = statistics.fmean(v)
        out.append(
            {
                "finetune": ft,
                "test": te,
                "features": feats,
                "mean": mean,
                "std": statistics.stdev(v) if len(v) > 1 else 0.0,
                "n": len(v),
                "poster": ref,
                "diff": None if ref is None else mean - ref,
            }
        )
    return out


def format_summary(summary: Sequence[Mapping[str, Any]]) -> str:
    """A markdown table of :func:`summarize`'s rows."""
    lines = [
        "| fine-tune | test | features | RF IoU mean +- std (n) | poster | diff |",
        "|---|---|---|---|---|---|",
    ]
    for s in summary:
        poster = "" if s["poster"] is None else f"{s['poster']:.2f}"
        diff = "" if s["diff"] is None else f"{s['diff']:+.3f}"
        lines.append(
            f"| {s['finetune']} | {s['test']} | {s['features']} | "
            f"{s['mean']:.3f} +- {s['std']:.3f} ({s['n']}) | {poster} | {diff} |"
        )
    return "\n".join(lines)


__all__ = [
    "CELLS",
    "FEATURES",
    "POSTER_RF",
    "POSTER_SIZES",
    "PreparedScene",
    "RFSettings",
    "difficulty_runs",
    "fit_and_score",
    "format_summary",
    "prepare_scene",
    "read_scene",
    "scene_sizes",
    "split_masks",
    "summarize",
]
