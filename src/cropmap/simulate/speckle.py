"""Speckle and texture: multiplicative gamma noise and spatially correlated texture.

Fully developed speckle in a multi-looked intensity image is gamma distributed with
shape L (the equivalent number of looks) and mean 1 (Lee 1981; Ulaby et al.). Texture
is a static, spatially correlated log-normal modulation inside parcels.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def gamma_speckle(rng: np.random.Generator, shape: tuple[int, ...], looks: float) -> np.ndarray:
    """Multiplicative speckle: gamma(shape=L, scale=1/L), mean 1, variance 1/L.

    Args:
        rng: random generator.
        shape: output shape.
        looks: equivalent number of looks L (> 0).

    Returns:
        float32 array of speckle factors.
    """
    out = rng.standard_gamma(np.float32(looks), size=shape, dtype=np.float32)
    out *= np.float32(1.0 / looks)
    return out


def texture_field(rng: np.random.Generator, size: int, sigma_px: float = 1.5) -> np.ndarray:
    """Zero-mean, unit-std, spatially correlated Gaussian field (dB per unit of texture).

    Args:
        rng: random generator.
        size: the field is ``(size, size)``.
        sigma_px: correlation length (Gaussian smoothing), pixels.

    Returns:
        float32 ``(size, size)`` field.
    """
    f = rng.standard_normal((size, size), dtype=np.float32)
    if sigma_px > 0:
        f = ndimage.gaussian_filter(f, sigma_px, mode="reflect")
    f -= f.mean()
    f /= f.std() + np.float32(1e-12)
    return f


def enl(intensity: np.ndarray) -> float:
    """Equivalent number of looks of a homogeneous area: mean^2 / variance (linear).

    Args:
        intensity: linear intensities of one homogeneous area (any shape; NaN ignored).
    """
    x = np.asarray(intensity, dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(x.mean() ** 2 / x.var())
