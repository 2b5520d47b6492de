"""Random-forest baseline on arrays: features, balanced sampling, sklearn conventions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from cropmap.models.random_forest import RandomForestBaseline, balanced_sample, pixel_features


def test_pixel_features_layout_and_ratio():
    x = np.zeros((2, 2, 3, 4), dtype=np.float32)
    x[:, 0] = -10.0  # VV
    x[:, 1] = -25.0  # VH
    x[1, 1, 0, 0] = np.nan
    f = pixel_features(x, ["VV", "VH"], ratio=True, fill={"VH": -20.0})
    assert f.shape == (12, 2 * 2 + 2)
    assert f[0].tolist() == [-10.0, -25.0, -10.0, -20.0, -15.0, -10.0]
    with pytest.raises(ValueError, match="needs bands VV and VH"):
        pixel_features(x[:, 1:], ["VH"], ratio=True)


def test_balanced_sample_caps_and_ignores():
    y = np.array([0] * 100 + [1] * 10 + [255] * 50)
    idx = balanced_sample(y, 1000, np.random.default_rng(0))
    assert (y[idx] == 0).sum() == 10 and (y[idx] == 1).sum() == 10
    assert not (y[idx] == 255).any()
    idx = balanced_sample(y, 4, np.random.default_rng(0))
    assert idx.size == 8


def test_forest_follows_sklearn_conventions_and_learns():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 4)).astype(np.float32)
    y = (X[:, 0] + 0.1 * X[:, 1] > 1.0).astype(np.uint8)  # about 16 % positive
    y[:50] = 255
    rf = RandomForestBaseline(n_estimators=10, max_samples_per_class=200, n_jobs=1)
    assert not hasattr(rf, "forest_")
    assert rf.fit(X, y) is rf
    assert rf.n_samples_fit_ == 400 and list(rf.classes_) == [0, 1]
    assert clone(rf).get_params()["max_samples_per_class"] == 200
    acc = (rf.predict(X[50:]) == y[50:]).mean()
    assert acc > 0.9
    proba = rf.class_probabilities(X[:5], 3)
    assert proba.shape == (5, 3) and np.allclose(proba[:, 2], 0)
