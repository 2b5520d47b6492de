"""Per-parcel backscatter tables: mean VV/VH (dB) of every parcel on every date.

Combines each parcel's class trajectory (with its own planting date and variant), a
per-parcel gain, per-date soil-moisture anomalies, per-parcel per-date jitter, grass
mowing and wind on open water. Pixel-level effects (incidence angle across the scene,
texture, speckle) are added later in :mod:`cropmap.simulate.scene`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cropmap.simulate.phenology import (
    CLASS_CODE,
    CLASSES,
    DEFAULT_TRAJECTORIES,
    mowing_db,
    trajectory_db,
)
from cropmap.simulate.region_spec import RegionSpec, Variant

#: Classes whose level does not follow a planting date; their gain spread is halved.
STATIC_CLASSES = ("water", "urban", "forest", "road")


@dataclass(frozen=True)
class CellTables:
    """Parcel-level quantities.

    Attributes:
        vv: ``(T, N)`` float32 mean VV per date and parcel cell, dB (at 38 deg incidence).
        vh: ``(T, N)`` float32 mean VH, dB.
        slope_vv: ``(N,)`` float32 incidence slope of VV, dB/deg.
        slope_vh: ``(N,)`` float32 incidence slope of VH, dB/deg.
        texture_db: ``(N,)`` float32 texture standard deviation, dB.
        planting: ``(N,)`` float32 planting day of year (NaN for static classes).
        variant: ``(N,)`` variant name per cell.
        phen_vv: ``(T, N)`` float32 part of ``vv`` due to the phenological steps, dB
            (what within-field heterogeneity scales per pixel); zero for static classes.
        phen_vh: ``(T, N)`` float32 same for VH.
    """

    vv: np.ndarray
    vh: np.ndarray
    slope_vv: np.ndarray
    slope_vh: np.ndarray
    texture_db: np.ndarray
    planting: np.ndarray
    variant: np.ndarray
    phen_vv: np.ndarray
    phen_vh: np.ndarray


def _variants(region: RegionSpec, name: str) -> tuple[Variant, ...]:
    return region.variants.get(name, (Variant(),))


def cell_tables(
    region: RegionSpec,
    cell_class: np.ndarray,
    doy: np.ndarray,
    rng: np.random.Generator,
) -> CellTables:
    """Draw every parcel's attributes and evaluate its mean backscatter on each date.

    Args:
        region: region spec (variants, planting distributions, gains, noise levels).
        cell_class: ``(N,)`` class code per parcel cell.
        doy: ``(T,)`` day of year of each acquisition.
        rng: random generator.

    Returns:
        The :class:`CellTables`.
    """
    n, t = len(cell_class), len(doy)
    vv = np.zeros((n, t), dtype=np.float64)
    vh = np.zeros((n, t), dtype=np.float64)
    phen_vv = np.zeros((n, t), dtype=np.float32)
    phen_vh = np.zeros((n, t), dtype=np.float32)
    slope_vv = np.zeros(n, np.float32)
    slope_vh = np.zeros(n, np.float32)
    texture = np.zeros(n, np.float32)
    moist = np.zeros(n, np.float64)
    planting = np.full(n, np.nan, np.float32)
    variant = np.full(n, "default", dtype=object)
    gain_scale = np.ones(n, np.float64)

    for name in CLASSES:
        sel = np.flatnonzero(cell_class == CLASS_CODE[name])
        if len(sel) == 0:
            continue
        variants = _variants(region, name)
        w = np.asarray([v.weight for v in variants], np.float64)
        pick = rng.choice(len(variants), size=len(sel), p=w / w.sum())
        for k, var in enumerate(variants):
            idx = sel[pick == k]
            if len(idx) == 0:
                continue
            traj = var.trajectory or DEFAULT_TRAJECTORIES[name]
            p = rng.normal(var.planting_doy, var.planting_sd, len(idx))
            vigor = np.clip(rng.normal(1.0, region.vigor_sd, len(idx)), 0.6, 1.4)
            a, b = trajectory_db(traj, doy, p, vigor)
            vv[idx] = a + var.offset_vv
            vh[idx] = b + var.offset_vh
            phen_vv[idx] = a - traj.vv
            phen_vh[idx] = b - traj.vh
            if traj.steps:
                planting[idx] = p
            variant[idx] = var.name
            slope_vv[idx] = traj.slope_vv
            slope_vh[idx] = traj.slope_vh
            texture[idx] = traj.texture_db
            moist[idx] = traj.moisture
            if traj.mowing > 0:
                first = rng.normal(135, 12, (len(idx), 1))
                gaps = rng.uniform(30, 50, (len(idx), traj.mowing - 1))
                cuts = np.concatenate([first, first + np.cumsum(gaps, axis=1)], axis=1)
                dvv, dvh = mowing_db(doy, cuts)
                vv[idx] += dvv
                vh[idx] += dvh
            if traj.wind > 0:
                wind = rng.exponential(traj.wind, (len(idx), t))
                vv[idx] += wind
                vh[idx] += wind / 3.0
        if name in STATIC_CLASSES:
            gain_scale[sel] = 0.5

    gain = rng.normal(0.0, region.gain_sd_db, n) * gain_scale
    vv += gain[:, None]
    vh += (gain + rng.normal(0.0, 0.3 * region.gain_sd_db, n) * gain_scale)[:, None]
    wet = rng.normal(0.0, region.moisture_sd_db, t)
    vv += moist[:, None] * wet[None, :]
    vh += 0.6 * moist[:, None] * wet[None, :]
    common = rng.normal(0.0, region.jitter_db, (n, t))
    vv += common + rng.normal(0.0, 0.5 * region.jitter_db, (n, t))
    vh += common + rng.normal(0.0, 0.5 * region.jitter_db, (n, t))
    vv += region.calibration_db[0]
    vh += region.calibration_db[1]
    return CellTables(
        vv=np.ascontiguousarray(vv.T, dtype=np.float32),
        vh=np.ascontiguousarray(vh.T, dtype=np.float32),
        slope_vv=slope_vv,
        slope_vh=slope_vh,
        texture_db=texture,
        planting=planting,
        variant=variant,
        phen_vv=np.ascontiguousarray(phen_vv.T),
        phen_vh=np.ascontiguousarray(phen_vh.T),
    )
