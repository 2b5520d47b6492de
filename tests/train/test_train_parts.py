"""CBT schedule, losses, augmentations and optimizer parameter groups."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cropmap.models.recurrent_unet import RecurrentUNet, UNetConfig
from cropmap.train.augment import Augment, AugmentConfig, flip, rot90, temporal_shift
from cropmap.train.chronological import ChronologicalSchedule, chronological_batch
from cropmap.train.losses import LOSSES, bce_loss, dice_loss, make_loss
from cropmap.train.module import param_groups


def test_schedule_cycles_step_counts():
    s = ChronologicalSchedule(4)
    assert [s.steps_for(i) for i in range(9)] == [1, 2, 3, 4, 1, 2, 3, 4, 1]
    s2 = ChronologicalSchedule(8, min_steps=6)
    assert [s2.steps_for(i) for i in range(4)] == [6, 7, 8, 6]
    assert ChronologicalSchedule(8, enabled=False).steps_for(3) == 8
    # aligned to the epoch: rising cycle, the epoch's last batch sees all steps
    assert [s.steps_for(i, 6) for i in range(6)] == [3, 4, 1, 2, 3, 4]
    assert [s.steps_for(i, 3) for i in range(3)] == [2, 3, 4]
    with pytest.raises(ValueError):
        ChronologicalSchedule(4, min_steps=5)


def test_chronological_batch_mirrors_observed_steps():
    x = torch.arange(8.0).view(1, 8, 1, 1, 1).expand(2, 8, 1, 2, 2)
    out = chronological_batch(x, 3)
    assert out[0, :, 0, 0, 0].tolist() == [0, 1, 2, 2, 1, 0, 0, 1]
    zeros = chronological_batch(x, 3, "zeros")
    assert zeros[0, :, 0, 0, 0].tolist() == [0, 1, 2, 0, 0, 0, 0, 0]


def test_losses_ignore_255_and_weight_positives():
    logits = torch.tensor([[[[3.0, -3.0], [0.0, 5.0]]]])
    y = torch.tensor([[[1, 0], [1, 255]]])
    y_other = torch.tensor([[[1, 0], [1, 0]]])
    base = bce_loss(logits, y)
    assert base < bce_loss(logits, y_other)  # the ignored pixel would cost a lot
    assert bce_loss(logits, y, pos_weight=3.0) > base
    perfect = torch.tensor([[[[9.0, -9.0], [9.0, -9.0]]]])
    assert dice_loss(perfect, y) < 0.01 < dice_loss(-perfect, y)
    for name in LOSSES:
        assert torch.isfinite(make_loss(name)(logits, y))
    assert torch.isfinite(
        make_loss("bce+dice")(torch.randn(2, 3, 4, 4), torch.randint(0, 3, (2, 4, 4)))
    )
    with pytest.raises(ValueError, match="valid: bce, dice, bce\\+dice"):
        make_loss("focal")


def test_augmentations():
    x = np.arange(4, dtype=np.float32).reshape(4, 1, 1, 1) * np.ones((4, 1, 2, 3), np.float32)
    assert temporal_shift(x, 1)[:, 0, 0, 0].tolist() == [0, 0, 1, 2]
    assert temporal_shift(x, -1)[:, 0, 0, 0].tolist() == [1, 2, 3, 3]
    img = np.arange(6).reshape(2, 3)
    xs = np.broadcast_to(img, (4, 1, 2, 3))
    fx, fy = flip(xs, img, "h")
    assert fy.tolist() == [[2, 1, 0], [5, 4, 3]] and np.array_equal(fx[0, 0], fy)
    rx, ry = rot90(xs, img, 1)
    assert ry.shape == (3, 2) and np.array_equal(rx[2, 0], ry)
    aug = Augment(AugmentConfig(shift_prob=1.0), seed=3)
    xt, yt = aug(torch.from_numpy(np.ascontiguousarray(xs)).float(), torch.from_numpy(img))
    assert isinstance(xt, torch.Tensor) and torch.equal(xt[0, 0], yt.float())  # same geometry
    seen = {tuple(aug(xs, img)[1].ravel()) for _ in range(30)}
    assert len(seen) > 2


def test_param_groups_skip_frozen_and_scale_lr():
    m = RecurrentUNet(UNetConfig())
    for n, p in m.named_parameters():
        p.requires_grad_(not n.startswith("decoder."))
    groups = param_groups(m, 1e-3, {"encoder.": 0.1, "encoder.0.": 0.5})
    lrs = sorted(g["lr"] for g in groups)
    assert lrs == pytest.approx([1e-4, 5e-4, 1e-3])
    n_train = sum(p.numel() for g in groups for p in g["params"])
    assert n_train == sum(
        p.numel() for n, p in m.named_parameters() if not n.startswith("decoder.")
    )
