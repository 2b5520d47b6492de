"""Forests as arrays in safetensors (forest_file.py): exact round trip, clear refusals."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import save_file
from sklearn.ensemble import RandomForestClassifier

from cropmap.errors import ModelFileError
from cropmap.models.forest_file import forest_arrays, load_forest, save_forest


@pytest.fixture(scope="module")
def fitted() -> tuple[RandomForestClassifier, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5)).astype(np.float32)
    y = np.select([X[:, 0] > 0.5, X[:, 1] > 0], [5, 2], 0)  # three classes, not 0..2
    forest = RandomForestClassifier(n_estimators=7, max_depth=None, random_state=3, n_jobs=1)
    return forest.fit(X, y), X


def test_round_trip_predicts_the_same(tmp_path, fitted):
    forest, X = fitted
    back = load_forest(save_forest(forest, tmp_path / "f.safetensors"))
    assert back.classes_.tolist() == [0, 2, 5]
    assert back.get_params() == forest.get_params()
    assert [t.tree_.node_count for t in back.estimators_] == [
        t.tree_.node_count for t in forest.estimators_
    ]
    X_new = np.random.default_rng(1).normal(size=(2000, 5)).astype(np.float32)
    for data in (X, X_new):
        np.testing.assert_array_equal(forest.predict_proba(data), back.predict_proba(data))
        np.testing.assert_array_equal(forest.predict(data), back.predict(data))


def test_a_missing_node_field_is_named(tmp_path, fitted):
    arrays, metadata = forest_arrays(fitted[0])
    del arrays["threshold"]
    save_file(arrays, str(tmp_path / "f.safetensors"), metadata=metadata)
    with pytest.raises(ModelFileError, match=r"lacks the node fields \['threshold'\]"):
        load_forest(tmp_path / "f.safetensors")


def test_another_format_is_refused(tmp_path, fitted):
    arrays, metadata = forest_arrays(fitted[0])
    save_file(arrays, str(tmp_path / "f.safetensors"), metadata={**metadata, "format": "x/2"})
    with pytest.raises(ModelFileError, match="has format 'x/2'"):
        load_forest(tmp_path / "f.safetensors")
    (tmp_path / "g.safetensors").write_bytes(b"\x80\x04 a pickle")
    with pytest.raises(ModelFileError, match="not a valid safetensors file"):
        load_forest(tmp_path / "g.safetensors")


def test_multi_output_forests_are_refused(fitted):
    X = fitted[1]
    two = RandomForestClassifier(n_estimators=2, random_state=0).fit(
        X, np.c_[X[:, 0] > 0, X[:, 1] > 0]
    )
    with pytest.raises(ValueError, match="single-output"):
        forest_arrays(two)
