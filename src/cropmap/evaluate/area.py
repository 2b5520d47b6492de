"""Good-practice area estimation: the stratified estimator of Olofsson et al. (2014).

A map's pixel counts are biased estimates of area: every omission and commission error
moves area from one class to another. Olofsson, Foody, Herold, Stehman, Woodcock and
Wulder (2014), "Good practices for estimating area and assessing accuracy of land
change", Remote Sensing of Environment 148: 42-57, estimate the area of each class from
a *reference sample* instead, using the map only as the stratification:

* strata ``h`` = map classes, with mapped pixel counts ``N_h`` and area weights
  ``W_h = N_h / N``;
* a sample of ``n_h`` units in stratum ``h`` (stratified random, or simple random /
  systematic, post-stratified), each with its map class ``i`` and reference class ``j``,
  counted in the error matrix ``n_ij``.

Estimators (rows = map, columns = reference):

* area proportions ``p_ij = W_i n_ij / n_i.``; area of class ``k``:
  ``p_.k = sum_i W_i n_ik / n_i.``, ``A_k = N p_.k`` pixels;
* ``S(p_.k) = sqrt(sum_i W_i^2 q_ik (1 - q_ik) / (n_i. - 1))`` with ``q_ik = n_ik / n_i.``,
  and the 95 % confidence interval ``A_k +- 1.96 N S(p_.k)``;
* user's accuracy ``U_i = p_ii / p_i.``, ``V(U_i) = U_i (1 - U_i) / (n_i. - 1)``;
* producer's accuracy ``P_j = p_jj / p_.j`` with the paper's variance formula (below);
* overall accuracy ``O = sum_j p_jj``, ``V(O) = sum_i W_i^2 U_i (1 - U_i) / (n_i. - 1)``.

Pure numpy; :mod:`cropmap.evaluate.area_io` reads maps and reference files for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from cropmap.errors import ConfigError

#: Normal quantile of a two-sided 95 % confidence interval.
Z95 = 1.959963984540054


@dataclass(frozen=True)
class AreaEstimate:
    """Result of :func:`stratified_estimate`; arrays are indexed by class ``(K,)``.

    Attributes:
        classes: class names, in map-class order.
        counts: error matrix of sample counts ``(K, K)``, rows = map, columns = reference.
        mapped_pixels: mapped pixel count of each class (the strata sizes ``N_h``).
        pixel_area_ha: area of one pixel in hectares.
        proportions: error matrix in estimated area proportions ``p_ij`` ``(K, K)``.
        users, users_ci: user's accuracy and its 95 % half-width (0..1).
        producers, producers_ci: producer's accuracy and its 95 % half-width (0..1).
        overall, overall_ci: overall accuracy and its 95 % half-width (0..1).
        area_ha, area_ci_ha: stratified area of each class and its 95 % half-width (ha).
        mapped_ha: area of each class as mapped (pixel counting), in hectares.
    """

    classes: tuple[str, ...]
    counts: np.ndarray
    mapped_pixels: np.ndarray
    pixel_area_ha: float
    proportions: np.ndarray
    users: np.ndarray
    users_ci: np.ndarray
    producers: np.ndarray
    producers_ci: np.ndarray
    overall: float
    overall_ci: float
    area_ha: np.ndarray
    area_ci_ha: np.ndarray
    mapped_ha: np.ndarray
    notes: tuple[str, ...] = field(default=())

    def rows(self) -> list[dict[str, Any]]:
        """One dict per class: accuracies, mapped and estimated area (ha), with 95 % CIs."""
        out = []
        for k, name in enumerate(self.classes):
            out.append(
                {
                    "class": name,
                    "sample_n": int(self.counts[k].sum()),
                    "mapped_ha": float(self.mapped_ha[k]),
                    "area_ha": float(self.area_ha[k]),
                    "area_ci95_ha": float(self.area_ci_ha[k]),
                    "area_low_ha": float(self.area_ha[k] - self.area_ci_ha[k]),
                    "area_high_ha": float(self.area_ha[k] + self.area_ci_ha[k]),
                    "users_accuracy": float(self.users[k]),
                    "users_ci95": float(self.users_ci[k]),
                    "producers_accuracy": float(self.producers[k]),
                    "producers_ci95": float(self.producers_ci[k]),
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: per-class rows, overall accuracy, both error matrices."""
        return {
            "method": "stratified estimator, Olofsson et al. 2014 (RSE 148:42-57)",
            "confidence": 0.95,
            "classes": list(self.classes),
            "pixel_area_ha": self.pixel_area_ha,
            "mapped_pixels": [int(v) for v in self.mapped_pixels],
            "overall_accuracy": self.overall,
            "overall_ci95": self.overall_ci,
            "per_class": self.rows(),
            "error_matrix_counts": self.counts.astype(int).tolist(),
            "error_matrix_area_proportions": self.proportions.tolist(),
            "notes": list(self.notes),
        }


def error_matrix(map_class: npt.ArrayLike, ref_class: npt.ArrayLike, n_classes: int) -> np.ndarray:
    """Sample counts ``n_ij`` ``(K, K)`` from per-unit map and reference class indices ``(n,)``.

    Raises:
        ConfigError: a class index outside ``0..n_classes-1``, or lengths differ.
    """
    m = np.asarray(map_class, dtype=np.int64).ravel()
    r = np.asarray(ref_class, dtype=np.int64).ravel()
    if m.shape != r.shape:
        raise ConfigError(f"{m.size} map classes but {r.size} reference classes")
    for name, v in (("map", m), ("reference", r)):
        bad = (v < 0) | (v >= n_classes)
        if bad.any():
            raise ConfigError(
                f"{name} class {int(v[bad][0])} outside 0..{n_classes - 1} "
                f"({int(bad.sum())} sample units)"
            )
    return np.bincount(m * n_classes + r, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes
    )


def _check(counts: npt.ArrayLike, mapped: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    counts = np.asarray(counts, dtype=np.float64)
    mapped = np.asarray(mapped, dtype=np.float64)
    k = mapped.size
    if counts.shape != (k, k):
        raise ConfigError(f"error matrix of shape {counts.shape} for {k} mapped classes")
    if (counts < 0).any() or (mapped < 0).any():
        raise ConfigError("sample counts and mapped pixel counts must be non-negative")
    if mapped.sum() <= 0:
        raise ConfigError("the map has no mapped pixels (all nodata?)")
    n_i = counts.sum(axis=1)
    unsampled = (mapped > 0) & (n_i == 0)
    if unsampled.any():
        raise ConfigError(
            f"map class(es) {np.flatnonzero(unsampled).tolist()} have mapped pixels but no "
            "reference sample unit; sample every stratum (2 units at least for a variance, "
            "50 or more advised; cropmap sample draws them)"
        )
    return counts, mapped


def stratified_estimate(
    counts: npt.ArrayLike,
    mapped_pixels: npt.ArrayLike,
    *,
    pixel_area_ha: float = 1.0,
    classes: tuple[str, ...] | list[str] | None = None,
) -> AreaEstimate:
    """Stratified area, accuracy and 95 % CIs from an error matrix and mapped pixel counts.

    Args:
        counts: sample counts ``(K, K)``, rows = map class (stratum), columns = reference.
        mapped_pixels: pixels mapped as each class ``(K,)`` (``N_h``; any area unit works,
            the areas come out in that unit times ``pixel_area_ha``).
        pixel_area_ha: area of one pixel in hectares (e.g. ``0.01`` for 10 m pixels).
        classes: class names (default ``"0".."K-1"``).

    Returns:
        An :class:`AreaEstimate`. A stratum with one sample unit gets a zero-variance
        term (its ``n_i. - 1`` is 0); the result's ``notes`` say so.

    Raises:
        ConfigError: shapes differ, negative counts, no mapped pixels, or a mapped class
            without any sample unit.
    """
    n, N_h = _check(counts, mapped_pixels)
    k = N_h.size
    names = tuple(classes) if classes is not None else tuple(str(i) for i in range(k))
    if len(names) != k:
        raise ConfigError(f"{len(names)} class names for {k} classes")
    notes: list[str] = []
    N = N_h.sum()
    W = N_h / N
    n_i = n.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(n_i[:, None] > 0, n / n_i[:, None], 0.0)  # q_ij = n_ij / n_i.
        dof = n_i - 1.0
        if ((n_i == 1) & (N_h > 0)).any():
            notes.append("a stratum has a single sample unit: its variance term is taken as 0")
        inv = np.where(dof > 0, 1.0 / dof, 0.0)
        p = W[:, None] * q  # p_ij: area proportions
        p_ref = p.sum(axis=0)  # p_.j
        p_map = p.sum(axis=1)  # p_i. (= W_i where sampled)
        diag = np.diag(p)
        users = np.where(p_map > 0, diag / p_map, np.nan)
        producers = np.where(p_ref > 0, diag / p_ref, np.nan)
        overall = float(diag.sum())
        var_users = users * (1 - users) * inv
        var_overall = float(np.nansum(W**2 * np.nan_to_num(var_users)))
        # variance of the area proportion of each reference class
        var_p_ref = (W[:, None] ** 2 * q * (1 - q) * inv[:, None]).sum(axis=0)
        # variance of producer's accuracy, with estimated reference totals N_.j (pixels)
        N_ref = (N_h[:, None] * q).sum(axis=0)
        var_prod = np.full(k, np.nan)
        for j in range(k):
            if N_ref[j] <= 0:
                continue
            own = N_h[j] ** 2 * (1 - producers[j]) ** 2 * users[j] * (1 - users[j]) * inv[j]
            others = sum(N_h[i] ** 2 * q[i, j] * (1 - q[i, j]) * inv[i] for i in range(k) if i != j)
            var_prod[j] = (np.nan_to_num(own) + producers[j] ** 2 * others) / N_ref[j] ** 2
    area_px = N * p_ref
    area_ci_px = Z95 * N * np.sqrt(var_p_ref)
    return AreaEstimate(
        classes=names,
        counts=n.astype(np.int64),
        mapped_pixels=N_h,
        pixel_area_ha=float(pixel_area_ha),
        proportions=p,
        users=users,
        users_ci=Z95 * np.sqrt(var_users),
        producers=producers,
        producers_ci=Z95 * np.sqrt(var_prod),
        overall=overall,
        overall_ci=float(Z95 * np.sqrt(var_overall)),
        area_ha=area_px * pixel_area_ha,
        area_ci_ha=area_ci_px * pixel_area_ha,
        mapped_ha=N_h * pixel_area_ha,
        notes=tuple(notes),
    )
