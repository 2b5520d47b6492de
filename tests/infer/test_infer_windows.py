"""Window grid and blending weights."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cropmap.infer.windows import WEIGHT_FLOOR, axis_starts, blend_weights, ramp, window_rows


@settings(max_examples=60, deadline=None)
@given(
    length=st.integers(1, 3000),
    size=st.integers(16, 512),
    frac=st.floats(0.0, 0.5),
)
def test_axis_starts_cover_and_stay_inside(length: int, size: int, frac: float) -> None:
    overlap = min(int(size * frac), size - 1)
    starts = axis_starts(length, size, overlap)
    ext = min(size, length)
    assert starts[0] == 0
    assert starts == sorted(set(starts))
    assert all(0 <= s <= length - ext for s in starts)
    covered = np.zeros(length, bool)
    for s in starts:
        covered[s : s + ext] = True
    assert covered.all()
    gaps = np.diff(starts)
    assert (gaps <= size - overlap).all()  # neighbours overlap at least `overlap`


def test_last_window_clamped() -> None:
    assert axis_starts(1000, 256, 64) == [0, 192, 384, 576, 744]
    assert axis_starts(100, 256, 64) == [0]
    rows = window_rows(100, 1000, 256, 64)
    assert len(rows) == 1 and rows[0][-1].col == 744 and rows[0][0].height == 100


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (256, 256), (256, -1)])
def test_axis_starts_rejects_bad_args(size: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        axis_starts(500, size, overlap)


@pytest.mark.parametrize("overlap", [8, 32, 64])
def test_ramps_are_a_partition_of_unity(overlap: int) -> None:
    size = 256
    w = ramp(size, overlap, floor=0.0)
    stride = size - overlap
    total = np.zeros(size + stride)
    total[:size] += w
    total[stride:] += w
    inner = total[overlap : size + stride - overlap]
    np.testing.assert_allclose(inner, 1.0, atol=1e-12)
    assert w[0] < 0.01 and w[size // 2] == 1.0


def test_blend_weights_floor_and_shape() -> None:
    w = blend_weights(200, 256, 64)
    assert w.shape == (200, 256) and w.dtype == np.float32
    assert w.min() >= WEIGHT_FLOOR * WEIGHT_FLOOR * 0.999
    assert w[100, 128] == 1.0
    assert not w.flags.writeable
    np.testing.assert_allclose(w, w[::-1, ::-1])
