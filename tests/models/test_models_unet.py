"""Recurrent U-Net layout, recurrence, skips and time padding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cropmap.errors import ModelFileError
from cropmap.models.recurrent_unet import (
    RecurrentUNet,
    UNetConfig,
    count_flops,
    count_parameters,
)
from cropmap.models.time_padding import pad_time, tip_indices


def small(**kw) -> RecurrentUNet:
    torch.manual_seed(0)
    return RecurrentUNet(UNetConfig(**kw)).eval()


def test_output_shapes_and_parameter_prefixes():
    m = small()
    assert m(torch.randn(2, 8, 1, 32, 32)).shape == (2, 1, 32, 32)
    m3 = small(in_channels=2, n_classes=3)
    assert m3(torch.randn(1, 8, 2, 16, 16)).shape == (1, 3, 16, 16)
    prefixes = {n.split(".")[0] for n, _ in m.named_parameters()}
    assert prefixes == {"encoder", "bottleneck", "decoder", "head"}
    first = dict(m3.named_parameters())[RecurrentUNet.FIRST_CONV]
    assert first.shape == (16, 2, 3, 3)


def test_layer_widths_follow_the_method():
    m = small()
    # bottleneck takes T x 128 channels -> 256
    assert m.bottleneck[0][0].weight.shape == (256, 8 * 128, 3, 3)
    # decoder widths 128-64-32-16, each block sees len(stages) x width skip channels
    assert [b.conv2[0].out_channels for b in m.decoder] == [128, 64, 32, 16]
    assert m.decoder[0].conv1[0].in_channels == 256 + 4 * 128
    assert m.decoder[3].conv1[0].in_channels == 32 + 4 * 16
    assert [e.conv2[0].out_channels for e in m.encoder] == [16, 32, 64, 128]


def test_recurrence_carries_earlier_steps():
    """With a non-zero recurrent weight, changing step 0 changes step 1's features."""
    for kind in ("conv1x1", "channel"):
        m = small(recurrence=kind)
        enc = m.encoder[0]
        with torch.no_grad():
            if enc.recur is not None:
                enc.recur.weight.fill_(0.5)
            else:
                enc.recur_weight.fill_(0.5)
        x = torch.randn(1, 8, 1, 16, 16)
        x2 = x.clone()
        x2[:, 0] += 3.0
        f1 = enc(x.flatten(0, 1), 8)
        f2 = enc(x2.flatten(0, 1), 8)
        assert not torch.allclose(f1[:, 1], f2[:, 1])
        # steps never see the future
        x3 = x.clone()
        x3[:, 5] += 3.0
        f3 = enc(x3.flatten(0, 1), 8)
        assert torch.allclose(f1[:, :5], f3[:, :5])


def test_skip_is_max_over_stage_periods():
    """Swapping the two periods of a stage leaves the output unchanged when W = 0."""
    m = small()
    x = torch.randn(1, 8, 1, 16, 16)
    swapped = x[:, [1, 0, 2, 3, 4, 5, 6, 7]]
    # the bottleneck concatenates steps in order, so zero its weights of steps 0 and 1
    with torch.no_grad():
        m.bottleneck[0][0].weight[:, :256] = 0
    assert torch.allclose(m(x), m(swapped), atol=1e-5)
    assert not torch.allclose(m(x), m(x[:, [2, 1, 0, 3, 4, 5, 6, 7]]), atol=1e-5)


def test_early_season_input_is_padded():
    m = small()
    x = torch.randn(1, 3, 1, 16, 16)
    assert torch.allclose(m(x), m(pad_time(x, 8, "tip")))
    with pytest.raises(ModelFileError, match="at most 8"):
        m(torch.randn(1, 9, 1, 16, 16))
    with pytest.raises(ModelFileError, match="band"):
        m(torch.randn(1, 8, 2, 16, 16))
    with pytest.raises(ModelFileError, match="multiples of 16"):
        m(torch.randn(1, 8, 1, 20, 16))


def test_tip_indices_mirror_backwards():
    assert tip_indices(3, 8) == [0, 1, 2, 2, 1, 0, 0, 1]
    assert tip_indices(1, 4) == [0, 0, 0, 0]
    assert tip_indices(5, 8) == [0, 1, 2, 3, 4, 4, 3, 2]
    assert tip_indices(8, 8) == list(range(8))
    x = np.arange(3, dtype=np.float32).reshape(3, 1, 1, 1)
    assert pad_time(x, 6, "tip", time_dim=0).ravel().tolist() == [0, 1, 2, 2, 1, 0]
    assert pad_time(x, 5, "zeros", time_dim=0).ravel().tolist() == [0, 1, 2, 0, 0]
    with pytest.raises(ValueError, match="valid: tip, zeros"):
        pad_time(x, 5, "mirror", time_dim=0)


def test_config_rejects_bad_stages():
    with pytest.raises(ValueError, match="outside"):
        UNetConfig(n_steps=4)  # default stages reach step 7


def test_parameter_and_flop_counts():
    m = small()
    n = count_parameters(m)
    assert 3_000_000 < n < 5_000_000
    f32 = count_flops(m, (1, 8, 1, 32, 32))
    f64 = count_flops(m, (1, 8, 1, 64, 64))
    assert f64 == pytest.approx(4 * f32, rel=0.01)  # convs scale with pixels


def test_fold_batchnorm_keeps_outputs():
    from cropmap.models.recurrent_unet import fold_batchnorm

    m = small()
    gen = torch.Generator().manual_seed(0)
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.normal_(0, 0.5, generator=gen)
            mod.running_var.uniform_(0.5, 2.0, generator=gen)
            mod.weight.data.uniform_(0.5, 1.5, generator=gen)
    folded = fold_batchnorm(m)
    assert not any(isinstance(x, torch.nn.BatchNorm2d) for x in folded.modules())
    x = torch.randn(2, 8, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(m(x), folded(x), atol=1e-4)


def test_stage_max_equals_amax_in_values_and_pair_gradients():
    """Skips take the max over each stage's periods; chained maximum = amax (ties too)."""
    from cropmap.models.recurrent_unet import _max_over

    feats = torch.randn(2, 8, 3, 4, 4)
    feats[:, 1] = feats[:, 0]  # ties: both sides must get half the gradient, as with amax
    for steps in ([0, 1], [2, 3, 4], [5]):
        torch.testing.assert_close(_max_over(feats, steps), feats[:, steps].amax(dim=1))
    a = feats.clone().requires_grad_()
    b = feats.clone().requires_grad_()
    _max_over(a, [0, 1]).sum().backward()
    a_grad = a.grad
    b[:, [0, 1]].amax(dim=1).sum().backward()
    torch.testing.assert_close(a_grad, b.grad)
