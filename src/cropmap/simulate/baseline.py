"""How hard is a simulated scene? A locally trained random-forest pixel classifier.

Reads a scene the way a user would (GeoTIFFs + GeoPackage), averages dB per calendar
period, trains scikit-learn's RandomForest on pixels of two diagonal quadrants and
reports the target-class IoU on the other two (a spatial split, so neighbouring pixels
of one parcel do not leak between train and test).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import numpy as np

from cropmap.simulate.phenology import CLASS_CODE


def period_ranges(calendar: str, year: int) -> list[tuple[dt.date, dt.date]]:
    """Date ranges of a calendar preset's periods (``cropmap.sar``) in ``year``."""
    from cropmap.sar.calendars import load_calendar

    return load_calendar(calendar).ranges(year)


def period_means_db(
    scene_dir: str | os.PathLike,
    ranges: list[tuple[dt.date, dt.date]],
    bands: tuple[str, ...] = ("VH",),
) -> np.ndarray:
    """Mean backscatter (dB) per period and band, NaN-aware.

    Args:
        scene_dir: a simulated scene folder.
        ranges: ``(first, last)`` day of each period.
        bands: band names, in the order of the output features.

    Returns:
        ``(P * len(bands), H, W)`` float32 dB, period-major; NaN where a period has no
        valid observation.
    """
    import rasterio

    from cropmap.io.raster import band_index

    files = sorted(Path(scene_dir, "s1").glob("*.tif"))
    out: np.ndarray | None = None
    for p, (a, b) in enumerate(ranges):
        sel = [f for f in files if a <= dt.date.fromisoformat(f.stem) <= b]
        for c, band in enumerate(bands):
            total = cnt = None
            for f in sel:
                with rasterio.open(f) as ds:
                    x = ds.read(band_index(ds, band)).astype(np.float32)
                with np.errstate(divide="ignore", invalid="ignore"):
                    x = 10.0 * np.log10(x)
                ok = np.isfinite(x)
                if total is None:
                    total = np.zeros(x.shape, np.float64)
                    cnt = np.zeros(x.shape, np.int32)
                total[ok] += x[ok]
                cnt += ok
            if out is None:
                with rasterio.open(files[0]) as ds:
                    shape = (ds.height, ds.width)
                out = np.full((len(ranges) * len(bands), *shape), np.nan, np.float32)
            if total is not None and cnt is not None:
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[p * len(bands) + c] = np.where(cnt > 0, total / np.maximum(cnt, 1), np.nan)
    if out is None:
        raise ValueError("period_means_db needs at least one period and one band")
    return out


def class_raster(scene_dir: str | os.PathLike) -> np.ndarray:
    """Rasterize ``parcels.gpkg`` onto the scene grid: ``(H, W)`` uint8 class codes."""
    import geopandas as gpd
    import rasterio
    from rasterio import features

    scene_dir = Path(scene_dir)
    first = sorted((scene_dir / "s1").glob("*.tif"))[0]
    with rasterio.open(first) as ds:
        shape, transform = (ds.height, ds.width), ds.transform
    gdf = gpd.read_file(scene_dir / "parcels.gpkg")
    return features.rasterize(
        zip(gdf.geometry, gdf["crop"].map(CLASS_CODE), strict=True),
        out_shape=shape,
        transform=transform,
        fill=255,
        dtype="uint8",
    )


def _features(scene_dir: Path, bands: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-pixel features ``(H*W, F)``, class codes ``(H, W)`` and target code of a scene."""
    meta = json.loads((scene_dir / "scene.json").read_text())
    ranges = period_ranges(meta["calendar"], meta["config"]["year"])
    x = period_means_db(scene_dir, ranges, bands)
    return x.reshape(x.shape[0], -1).T, class_raster(scene_dir), CLASS_CODE[meta["target"]]


def _forest(n_trees: int, seed: int):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=n_trees, max_depth=16, n_jobs=2, random_state=seed, min_samples_leaf=2
    )


def _iou(pred: np.ndarray, truth: np.ndarray) -> float:
    union = int(((pred == 1) | (truth == 1)).sum())
    return int(((pred == 1) & (truth == 1)).sum()) / union if union else float("nan")


def local_rf_iou(
    scene_dir: str | os.PathLike,
    bands: tuple[str, ...] = ("VH",),
    n_train: int = 20000,
    n_trees: int = 100,
    seed: int = 0,
) -> dict[str, float]:
    """Train a pixel random forest on two quadrants and test it on the other two.

    Features are per-period means (dB) over the region's calendar (scene.json).

    Args:
        scene_dir: a simulated scene folder (with scene.json).
        bands: features per period (``("VH",)`` or ``("VV", "VH")``).
        n_train: training pixels sampled (at most).
        n_trees: trees of the forest.
        seed: sampling and forest seed.

    Returns:
        ``{"iou": ..., "target_fraction": ..., "n_train": ..., "n_test": ...}``.
    """
    feats, cls, target = _features(Path(scene_dir), bands)
    h, w = cls.shape
    rr, cc = np.mgrid[0:h, 0:w]
    train_q = ((rr < h // 2) == (cc < w // 2)).ravel()
    valid = np.isfinite(feats).all(axis=1) & (cls.ravel() != 255)
    y = (cls.ravel() == target).astype(np.uint8)
    rng = np.random.default_rng(seed)
    tr = np.flatnonzero(valid & train_q)
    te = np.flatnonzero(valid & ~train_q)
    tr = rng.choice(tr, size=min(n_train, len(tr)), replace=False)
    rf = _forest(n_trees, seed).fit(feats[tr], y[tr])
    return {
        "iou": _iou(rf.predict(feats[te]), y[te]),
        "target_fraction": float(y[valid].mean()),
        "n_train": int(len(tr)),
        "n_test": int(len(te)),
    }


def transfer_rf_iou(
    source_dir: str | os.PathLike,
    target_dir: str | os.PathLike,
    bands: tuple[str, ...] = ("VH",),
    n_train: int = 20000,
    n_trees: int = 100,
    seed: int = 0,
) -> float:
    """IoU on a target scene of a forest trained on a source scene (each on its calendar)."""
    fs, cs, ts = _features(Path(source_dir), bands)
    ft, ct, tt = _features(Path(target_dir), bands)
    vs = np.flatnonzero(np.isfinite(fs).all(axis=1) & (cs.ravel() != 255))
    vt = np.isfinite(ft).all(axis=1) & (ct.ravel() != 255)
    tr = np.random.default_rng(seed).choice(vs, size=min(n_train, len(vs)), replace=False)
    rf = _forest(n_trees, seed).fit(fs[tr], (cs.ravel()[tr] == ts).astype(np.uint8))
    return _iou(rf.predict(ft[vt]), (ct.ravel()[vt] == tt).astype(np.uint8))


def rf_report(
    out_dir: str | os.PathLike,
    regions: tuple[str, ...] = ("korea", "spain", "france", "netherlands"),
    size: int = 512,
    year: int = 2022,
    seed: int = 0,
) -> list[dict]:
    """Simulate each region and measure local RF IoU with VH and with VV+VH features.

    Also, for rice regions other than Korea, the IoU of a VH forest trained on Korea
    (``korea_to_here_vh``): a first look at the domain shift.

    Returns:
        One row per region: ``region``, ``target``, ``iou_vh``, ``iou_vvvh`` (and
        ``korea_to_here_vh``).
    """
    from cropmap.simulate.scene import simulate_scene

    dirs = {r: simulate_scene(r, size, year, seed, Path(out_dir) / r) for r in regions}
    rows = []
    for region, d in dirs.items():
        meta = json.loads((d / "scene.json").read_text())
        row = {
            "region": region,
            "target": meta["target"],
            "iou_vh": round(local_rf_iou(d, ("VH",), seed=seed)["iou"], 3),
            "iou_vvvh": round(local_rf_iou(d, ("VV", "VH"), seed=seed)["iou"], 3),
        }
        if "korea" in dirs and region != "korea" and meta["target"] == "rice":
            row["korea_to_here_vh"] = round(transfer_rf_iou(dirs["korea"], d, seed=seed), 3)
        rows.append(row)
    return rows


__all__ = [
    "class_raster",
    "local_rf_iou",
    "period_means_db",
    "rf_report",
    "transfer_rf_iou",
]
