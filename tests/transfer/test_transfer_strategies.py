"""Strategies freeze exactly the documented parameter groups."""

from __future__ import annotations

import pytest

from cropmap.errors import ConfigError, ModelFileError
from cropmap.transfer import STRATEGIES, apply_phase, get_strategy, group_of, prepare_model

#: the documented trained groups per strategy (first phase)
DOCUMENTED = {
    "RI": {"encoder", "bottleneck", "decoder", "head"},
    "FT": {"encoder", "bottleneck", "decoder", "head"},
    "FT_E": {"encoder", "bottleneck"},
    "FT_EO": {"encoder"},
    "FT_D": {"bottleneck", "decoder", "head"},
    "HEAD": {"head"},
    "LP_FT": {"head"},
}


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_freezes_exactly_documented(name, make_model):
    model, _ = make_model(1)
    pretrained, _ = make_model(1)
    n = prepare_model(name, model, pretrained.state_dict())
    trained = {group_of(k) for k, p in model.named_parameters() if p.requires_grad}
    frozen = {group_of(k) for k, p in model.named_parameters() if not p.requires_grad}
    assert trained == DOCUMENTED[name]
    assert not trained & frozen
    assert n == sum(p.numel() for p in model.parameters() if p.requires_grad) > 0


def test_ft_e_decoder_frozen_names(make_model):
    model, _ = make_model(1)
    prepare_model("FT_E", model, make_model(1)[0].state_dict())
    for k, p in model.named_parameters():
        assert p.requires_grad == (not k.startswith(("decoder.", "head.")))


def test_pretrained_weights_loaded_only_when_pretrained(make_model):
    import torch

    src, _ = make_model(1)
    ft, _ = make_model(1)
    ri, _ = make_model(1)
    prepare_model("FT", ft, src.state_dict())
    prepare_model("RI", ri, src.state_dict())
    k = next(iter(src.state_dict()))
    assert torch.equal(ft.state_dict()[k], src.state_dict()[k])
    assert not torch.equal(ri.state_dict()[k], src.state_dict()[k])


def test_lp_ft_second_phase_trains_all(make_model):
    model, _ = make_model(1)
    s = get_strategy("LP_FT")
    n_head = prepare_model(s, model, make_model(1)[0].state_dict())
    n_all = apply_phase(model, s.phases[1], label="LP_FT")
    assert n_all == sum(p.numel() for p in model.parameters()) > n_head
    assert s.phases[1].lr_factor < 1.0


def test_errors():
    with pytest.raises(ConfigError, match="valid: RF, RI, FT"):
        get_strategy("FT_X")
    with pytest.raises(ModelFileError, match="no known group"):
        group_of("stem.weight")
    with pytest.raises(ConfigError, match="does not train"):
        prepare_model("RF", None)
    assert set(STRATEGIES) >= {"RF", "RI", "FT", "FT_E", "FT_D", "HEAD", "LP_FT"}


def test_needs_pretrained(make_model):
    with pytest.raises(ConfigError, match="needs pretrained"):
        prepare_model("FT", make_model(1)[0], None)


def test_frozen_batchnorm_statistics_unchanged(make_model):
    import torch
    from torch import nn

    model, _ = make_model(1)
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    prepare_model("FT_E", model, make_model(1)[0].state_dict())
    before = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
    model.train()
    model(torch.randn(2, 8, 1, 32, 32) * 5 + 3)
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed, "encoder batch norms should update"
    assert all(k.startswith("encoder.") or k.startswith("bottleneck.") for k in changed)
    # unfreezing everything lets decoder statistics move again
    apply_phase(model, get_strategy("FT").phases[0])
    model(torch.randn(2, 8, 1, 32, 32) * 5 + 3)
    assert any(
        not torch.equal(model.state_dict()[k], before[k]) for k in before if k.startswith("decoder")
    )


def test_zero_shot_trains_nothing(make_model):
    import torch

    model, _ = make_model(1)
    src, _ = make_model(1)
    assert prepare_model("ZS", model, src.state_dict()) == 0
    assert not any(p.requires_grad for p in model.parameters())
    k = next(iter(src.state_dict()))
    assert torch.equal(model.state_dict()[k], src.state_dict()[k])


def test_first_conv_part_trains_only_the_first_layer(make_model):
    from cropmap.transfer.strategies import Phase

    model, first = make_model(2)
    n = apply_phase(model, Phase(("first_conv",)))
    trained = {k for k, p in model.named_parameters() if p.requires_grad}
    assert first in trained and all(k.startswith("encoder.0.conv1.") for k in trained)
    assert n == sum(p.numel() for p in model.parameters() if p.requires_grad)
