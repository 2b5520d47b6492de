"""Pixel-based random-forest baseline (the paper's "RF" strategy).

Features of a pixel are its composites: ``T x C`` dB values, period-major
(``P1_VV, P1_VH, P2_VV, ...``), optionally followed by the ``T`` cross-polarization
ratios ``VH_dB - VV_dB`` (the log of VH/VV). NaN (nodata) becomes the band's mean.

:class:`RandomForestBaseline` follows scikit-learn conventions: ``__init__`` stores
parameters, ``fit`` returns ``self``, fitted attributes end in ``_``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import RandomForestClassifier

IGNORE = 255


def pixel_features(
    x: np.ndarray,
    bands: Sequence[str],
    *,
    ratio: bool = False,
    fill: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Per-pixel feature rows from one patch.

    Args:
        x: ``(T, C, H, W)`` float dB composites (NaN = nodata).
        bands: the ``C`` band names, in order.
        ratio: append ``VH_dB - VV_dB`` per period (needs both bands).
        fill: value per band for NaN (e.g. the training mean); 0 where absent.

    Returns:
        ``(H * W, T * C [+ T])`` float32, row-major over pixels.
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 4 or x.shape[1] != len(bands):
        raise ValueError(f"x must be (T, C={len(bands)}, H, W), got {x.shape}")
    t, c, h, w = x.shape
    x = x.copy()
    for i, band in enumerate(bands):
        nan = np.isnan(x[:, i])
        if nan.any():
            x[:, i][nan] = float((fill or {}).get(band, 0.0))
    feats = [x.reshape(t * c, h * w)]
    if ratio:
        if "VV" not in bands or "VH" not in bands:
            raise ValueError(f"the VH/VV ratio needs bands VV and VH, got {list(bands)}")
        feats.append(
            x[:, list(bands).index("VH")].reshape(t, -1)
            - x[:, list(bands).index("VV")].reshape(t, -1)
        )
    return np.concatenate(feats, axis=0).T.copy()


def balanced_sample(
    y: np.ndarray, max_per_class: int | None, rng: np.random.Generator, ignore: int = IGNORE
) -> np.ndarray:
    """Indices of a class-balanced sample: at most ``max_per_class`` pixels per class.

    Every class keeps ``min(count, cap)`` pixels, where ``cap`` is ``max_per_class``
    lowered to the rarest class's count (so classes end up equally represented);
    pixels labelled ``ignore`` are never drawn.
    """
    y = np.asarray(y).ravel()
    classes = [c for c in np.unique(y) if c != ignore]
    if not classes:
        return np.zeros(0, dtype=np.int64)
    counts = {c: int((y == c).sum()) for c in classes}
    cap = min(counts.values())
    if max_per_class is not None:
        cap = min(cap, max_per_class)
    picks = [rng.choice(np.flatnonzero(y == c), size=cap, replace=False) for c in classes]
    return np.sort(np.concatenate(picks))


class RandomForestBaseline(ClassifierMixin, BaseEstimator):
    """Random forest over per-pixel composite features with class-balanced sampling.

    Args:
        n_estimators: trees.
        max_depth: tree depth limit (``None`` = unlimited).
        max_samples_per_class: cap of training pixels per class after balancing.
        ratio: whether the features include ``VH_dB - VV_dB`` (recorded for callers
            that build features with :func:`pixel_features`).
        n_jobs: parallel jobs of scikit-learn.
        random_state: seed of the sampling and the forest.
    """

    def __init__(
        self,
        n_estimators: int = 100,
        max_depth: int | None = 16,
        max_samples_per_class: int | None = 50_000,
        ratio: bool = False,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.max_samples_per_class = max_samples_per_class
        self.ratio = ratio
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> RandomForestBaseline:
        """Fit on feature rows ``X`` ``(N, F)`` and labels ``y`` ``(N,)`` (255 = ignore)."""
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y).ravel()
        if X.shape[0] != y.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} labels")
        rng = np.random.default_rng(self.random_state)
        idx = balanced_sample(y, self.max_samples_per_class, rng)
        if idx.size == 0:
            raise ValueError("no labelled pixels to fit on (all ignore)")
        self.forest_ = RandomForestClassifier(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
        ).fit(X[idx], y[idx])
        self.classes_ = self.forest_.classes_
        self.n_features_in_ = self.forest_.n_features_in_
        self.n_samples_fit_ = int(idx.size)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities ``(N, n_classes)`` in the order of ``classes_``."""
        return self.forest_.predict_proba(np.asarray(X, dtype=np.float32))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class per row ``(N,)``."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def class_probabilities(self, X: np.ndarray, n_classes: int) -> np.ndarray:
        """Probabilities ``(N, n_classes)`` indexed by class value (absent classes get 0)."""
        proba = self.predict_proba(X)
        out = np.zeros((proba.shape[0], n_classes), dtype=np.float32)
        for j, c in enumerate(self.classes_):
            if 0 <= int(c) < n_classes:
                out[:, int(c)] = proba[:, j]
        return out
