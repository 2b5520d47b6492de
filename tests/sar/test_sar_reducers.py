"""Reducers agree with numpy's NaN-aware functions; NaN never enters a result."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cropmap.errors import CalendarError
from cropmap.sar.reducers import REDUCERS, reduce_stack

NUMPY = {"min": np.nanmin, "max": np.nanmax, "median": np.nanmedian, "mean": np.nanmean}


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 6),
    nan_share=st.floats(0.0, 0.9),
    name=st.sampled_from(sorted(REDUCERS)),
)
def test_reducers_match_numpy(seed, n, nan_share, name):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-30, 5, (n, 2, 3, 4)).astype(np.float32)
    x[rng.random(x.shape) < nan_share] = np.nan
    got = reduce_stack(x, name, average="db")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = NUMPY[name](x, axis=0)
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert np.array_equal(np.isnan(got), np.isnan(x).all(axis=0))


def test_unknown_reducer_lists_valid_ones():
    with pytest.raises(CalendarError, match="min, mean, max, median"):
        reduce_stack(np.zeros((1, 1, 2, 2), np.float32), "mode")
