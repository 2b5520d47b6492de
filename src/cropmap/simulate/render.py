"""Pixel rendering of one acquisition, block by block.

sigma0 (linear) = PSF * 10 ** ((parcel mean dB + texture dB + slope * (theta - 38)) / 10)
                  * gamma speckle (shape L, mean 1),
with theta the local incidence angle (orbit's centre angle plus the across-swath
gradient) and PSF a 3 x 3 binomial blur (mixed pixels at parcel borders). Swath-edge
strips are set to NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cropmap.simulate.backscatter import CellTables
from cropmap.simulate.parcels import PIXEL_M
from cropmap.simulate.schedule import Acquisition
from cropmap.simulate.speckle import gamma_speckle, texture_field

#: Reference incidence angle of the trajectories, degrees.
INCIDENCE_REF_DEG = 38.0
#: Incidence change across the swath, degrees per metre (about 17 deg over 250 km).
INCIDENCE_GRADIENT_DEG_PER_M = 17.0 / 250_000.0
#: Stored values keep 11 significant bits (relative precision 5e-4, about 0.002 dB, far
#: below speckle), which makes the float32 GeoTIFFs compress to about half.
MANTISSA_MASK = np.uint32(0xFFFFF000)
#: Tilt of the swath edge (columns per row): tracks are not exactly north-south.
EDGE_TILT = 0.06


def _psf(x: np.ndarray, a: int, b: int) -> np.ndarray:
    """Binomial 3 x 3 blur (about 20 m resolution at 10 m spacing) of rows ``a:b`` of x.

    Rows outside ``x`` and the left/right borders repeat the edge.
    """
    p = np.pad(x, ((1, 1), (1, 1)), mode="edge")
    rows = p[a : b + 2]
    v = rows[:-2] + 2.0 * rows[1:-1] + rows[2:]
    return (v[:, :-2] + 2.0 * v[:, 1:-1] + v[:, 2:]) * np.float32(1.0 / 16.0)


@dataclass
class Renderer:
    """Static per-pixel maps of a scene, shared by all acquisitions.

    Attributes:
        labels: ``(H, W)`` int32 parcel cell of every pixel.
        cells: the per-parcel tables.
        static_vv: ``(H, W)`` float32 texture of VV, dB.
        static_vh: ``(H, W)`` float32 texture of VH, dB.
        slope_vv: ``(H, W)`` float32 incidence slope of VV, dB/deg.
        slope_vh: ``(H, W)`` float32 incidence slope of VH, dB/deg.
        looks: equivalent number of looks.
        seed: random key of the scene (speckle streams add the date index and block).
        hetero: ``(H, W)`` float32 within-field factor on the phenological part of the
            backscatter (0 = the parcel's own trajectory), or None for uniform fields.
    """

    labels: np.ndarray
    cells: CellTables
    static_vv: np.ndarray
    static_vh: np.ndarray
    slope_vv: np.ndarray
    slope_vh: np.ndarray
    looks: float
    seed: list[int]
    hetero: np.ndarray | None = None

    @classmethod
    def build(
        cls,
        labels: np.ndarray,
        cells: CellTables,
        looks: float,
        seed: list[int],
        texture_sigma_px: float,
        heterogeneity_sd: float = 0.0,
        heterogeneity_px: float = 3.0,
    ) -> Renderer:
        """Draw the texture fields and gather the per-pixel slopes.

        ``heterogeneity_sd`` > 0 also draws the within-field factor (a smooth field of
        that standard deviation and correlation length ``heterogeneity_px``, clipped to
        +-0.8), from its own random stream, so scenes without it are unchanged.
        """
        n = labels.shape[0]
        trng = np.random.default_rng([*seed, 4])
        f1 = texture_field(trng, n, texture_sigma_px)
        f2 = texture_field(trng, n, texture_sigma_px)
        tex = cells.texture_db[labels]
        f2 *= np.float32(0.714)
        f2 += np.float32(0.7) * f1
        f1 *= tex
        f2 *= tex
        hetero = None
        if heterogeneity_sd > 0:
            hrng = np.random.default_rng([*seed, 7])
            hetero = texture_field(hrng, n, heterogeneity_px)
            hetero *= np.float32(heterogeneity_sd)
            np.clip(hetero, -0.8, 0.8, out=hetero)
        return cls(
            labels=labels,
            cells=cells,
            static_vv=f1,
            static_vh=f2,
            slope_vv=cells.slope_vv[labels],
            slope_vh=cells.slope_vh[labels],
            looks=looks,
            seed=seed,
            hetero=hetero,
        )

    def block(self, ti: int, acq: Acquisition, r0: int, r1: int, bi: int) -> np.ndarray:
        """Render rows ``r0:r1`` of acquisition ``ti``.

        Returns:
            ``(2, r1 - r0, W)`` float32 linear sigma0 (VV, VH), NaN in the swath gap.
        """
        n = self.labels.shape[1]
        cols = np.arange(n, dtype=np.float32)
        across = (cols - n / 2.0) * np.float32(PIXEL_M * INCIDENCE_GRADIENT_DEG_PER_M)
        # ascending passes look east: incidence grows eastwards; descending: westwards
        sign = np.float32(1.0 if acq.direction == "ascending" else -1.0)
        dtheta = (np.float32(acq.incidence_deg - INCIDENCE_REF_DEG) + sign * across)[None, :]
        k = np.float32(np.log(10.0) / 10.0)
        # one halo row each side for the sensor's point-spread function
        h0, h1 = max(r0 - 1, 0), min(r1 + 1, self.labels.shape[0])
        lab = self.labels[h0:h1]
        rng = np.random.default_rng([*self.seed, 5, ti, bi])
        out = np.empty((2, r1 - r0, n), dtype=np.float32)
        bands = (
            (self.cells.vv, self.cells.phen_vv, self.static_vv, self.slope_vv),
            (self.cells.vh, self.cells.phen_vh, self.static_vh, self.slope_vh),
        )
        for b, (table, phen, static, slope) in enumerate(bands):
            db = table[ti][lab]
            if self.hetero is not None:
                db += phen[ti][lab] * self.hetero[h0:h1]
            db += static[h0:h1]
            db += slope[h0:h1] * dtheta
            db *= k
            np.exp(db, out=db)
            mean = _psf(db, r0 - h0, r1 - h0)
            mean *= gamma_speckle(rng, mean.shape, self.looks)
            out[b] = mean
        bits = out.view(np.uint32)
        bits &= MANTISSA_MASK
        if acq.edge_side != "none" and acq.edge_fraction > 0:
            rows = np.arange(r0, r1, dtype=np.float32)
            edge = acq.edge_fraction * n + EDGE_TILT * (rows[:, None] - n / 2.0)
            gap = cols[None, :] < edge if acq.edge_side == "west" else cols[None, :] >= n - edge
            out[:, gap] = np.nan
        return out
