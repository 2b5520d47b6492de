"""Band expansion: kernels matched by name, function preserved with zero-init."""

from __future__ import annotations

import numpy as np
import pytest

from cropmap.errors import ModelFileError
from cropmap.transfer import expand_first_conv, expand_state_dict


def _weight(c: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(16, c, 3, 3)).astype(np.float32)


def test_copy_matches_by_name_not_position():
    w = _weight(2)  # old order VV, VH
    out = expand_first_conv(w, ["VV", "VH"], ["VH", "VV"])
    np.testing.assert_array_equal(out[:, 0], w[:, 1])
    np.testing.assert_array_equal(out[:, 1], w[:, 0])


@pytest.mark.parametrize("method", ["zero", "mean", "copy"])
def test_methods_fill_new_band(method):
    w = _weight(1)
    out = expand_first_conv(w, ["VH"], ["VV", "VH"], method=method, sources={"VV": "VH"})
    assert out.shape == (16, 2, 3, 3)
    np.testing.assert_array_equal(out[:, 1], w[:, 0])  # VH kept, now in channel 1
    expected = {"zero": np.zeros_like(w[:, 0]), "mean": w.mean(1), "copy": w[:, 0]}[method]
    np.testing.assert_allclose(out[:, 0], expected)


def test_default_is_zero():
    out = expand_first_conv(_weight(1), ["VH"], ["VV", "VH"])
    assert not out[:, 0].any() and out[:, 1].any()


def test_copy_without_source_explains():
    with pytest.raises(ModelFileError, match="needs a source band for new band 'VV'"):
        expand_first_conv(_weight(1), ["VH"], ["VV", "VH"], method="copy")


def test_copy_from_unknown_band_explains():
    with pytest.raises(ModelFileError, match="has no band 'HH'"):
        expand_first_conv(_weight(1), ["VH"], ["VV", "VH"], method="copy", sources={"VV": "HH"})


def test_bad_method_and_shape_mismatch():
    with pytest.raises(ModelFileError, match="valid: copy, mean, zero"):
        expand_first_conv(_weight(1), ["VH"], ["VV", "VH"], method="nope")
    with pytest.raises(ModelFileError, match="2 input channels"):
        expand_first_conv(_weight(2), ["VH"], ["VV", "VH"])
    with pytest.raises(ModelFileError, match="unique"):
        expand_first_conv(_weight(1), ["VH"], ["VH", "VH"])


def test_zero_init_preserves_vh_outputs(make_model):
    """A VH model expanded to VV|VH gives the same output whatever VV holds."""
    import torch

    torch.manual_seed(0)
    vh_model, key = make_model(1)
    vvvh_model, _ = make_model(2)
    state = expand_state_dict(vh_model.state_dict(), key, ["VH"], ["VV", "VH"])
    vvvh_model.load_state_dict(state)
    vh_model.eval()
    vvvh_model.eval()
    x_vh = torch.randn(2, 8, 1, 32, 32)
    x_vv = torch.randn(2, 8, 1, 32, 32) * 3
    with torch.no_grad():
        ref = vh_model(x_vh)
        out = vvvh_model(torch.cat([x_vv, x_vh], dim=2))
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    # and a non-zero VV kernel does change the output (the test can fail)
    state2 = expand_state_dict(
        vh_model.state_dict(), key, ["VH"], ["VV", "VH"], method="copy", sources={"VV": "VH"}
    )
    vvvh_model.load_state_dict(state2)
    with torch.no_grad():
        assert not torch.allclose(vvvh_model(torch.cat([x_vv, x_vh], dim=2)), ref)


def test_missing_key():
    with pytest.raises(ModelFileError, match="no first-conv weight"):
        expand_state_dict({"a.b": _weight(1)}, "encoder.x", ["VH"], ["VV", "VH"])
