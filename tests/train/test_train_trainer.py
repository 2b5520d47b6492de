"""train_model: learns, writes the model directory, resumes, respects frozen parameters."""

from __future__ import annotations

import json

import pytest
import torch

from cropmap.models.recurrent_unet import RecurrentUNet, UNetConfig
from cropmap.models.registry import ModelMeta, load_model
from cropmap.train.trainer import TrainConfig, train_model

META = ModelMeta(periods=[f"P{i}" for i in range(1, 9)], bands=["VH"])


def fast_cfg(**kw) -> TrainConfig:
    base = {"max_epochs": 4, "batch_size": 4, "progress": "none", "patience": 10}
    base.update(kw)
    return TrainConfig(**base)


def small_model() -> RecurrentUNet:
    torch.manual_seed(0)
    return RecurrentUNet(UNetConfig(widths=(8, 16, 16, 16), bottleneck=32, dropout=0.0))


def test_train_writes_model_dir_and_learns(tmp_path, toy_data):
    train, val = toy_data
    res = train_model(small_model(), train, val, fast_cfg(max_epochs=8), tmp_path, META)
    for name in (
        "weights.safetensors",
        "model.json",
        "learning_curves.png",
        "train_config.json",
        "checkpoints/best.ckpt",
        "checkpoints/last.ckpt",
    ):
        assert (tmp_path / name).is_file(), name
    assert res.epochs_run == 8 and len(res.history) == 8
    assert res.best_val_iou > 0.5
    assert res.history[-1]["train_loss"] < res.history[0]["train_loss"]
    model, meta = load_model(tmp_path)
    assert meta.history[res.best_epoch]["val_iou"] == pytest.approx(res.best_val_iou)
    assert meta.train_config["batch_size"] == 4
    assert meta.arch["widths"] == [8, 16, 16, 16]
    # the saved weights are the best epoch's, identical to what train_model returned
    x = torch.stack([val[i][0] for i in range(2)])
    with torch.no_grad():
        assert torch.allclose(model(x), res.model.eval()(x))


def test_same_seed_same_weights(tmp_path, toy_data):
    train, val = toy_data
    a = train_model(small_model(), train, val, fast_cfg(max_epochs=1), tmp_path / "a", META)
    b = train_model(small_model(), train, val, fast_cfg(max_epochs=1), tmp_path / "b", META)
    assert (
        json.loads((tmp_path / "a/model.json").read_text())["weights_sha256"]
        == json.loads((tmp_path / "b/model.json").read_text())["weights_sha256"]
    )
    assert a.history[0]["train_loss"] == pytest.approx(b.history[0]["train_loss"])


def test_resume_continues_from_last_checkpoint(tmp_path, toy_data):
    train, val = toy_data
    train_model(small_model(), train, val, fast_cfg(max_epochs=2), tmp_path, META)
    res = train_model(
        small_model(), train, val, fast_cfg(max_epochs=4, resume=True), tmp_path, META
    )
    assert [r["epoch"] for r in res.history] == [0, 1, 2, 3]
    assert len(list((tmp_path / "logs").glob("version_*"))) == 2
    fresh = train_model(small_model(), train, val, fast_cfg(max_epochs=1), tmp_path, META)
    assert len(fresh.history) == 1  # a fresh run ignores earlier runs' logs and checkpoints


def test_only_trainable_parameters_change(tmp_path, toy_data):
    train, val = toy_data
    model = small_model()
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith("encoder."))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    res = train_model(model, train, val, fast_cfg(max_epochs=1), tmp_path, META)
    after = res.model.state_dict()
    assert not torch.equal(before["encoder.0.conv1.0.weight"], after["encoder.0.conv1.0.weight"])
    for key in (
        "decoder.0.conv1.0.weight",
        "head.weight",
        "bottleneck.0.0.weight",
        "decoder.0.conv1.1.running_mean",
    ):
        assert torch.equal(before[key], after[key]), key


def test_max_time_budget_stops_training(tmp_path, toy_data):
    train, val = toy_data
    res = train_model(
        small_model(), train, val, fast_cfg(max_epochs=500, max_time_s=3), tmp_path, META
    )
    assert res.elapsed_s < 30 and res.epochs_run < 500


@pytest.mark.slow
def test_ddp_two_cpu_processes(tmp_path, toy_data):
    train, val = toy_data
    cfg = fast_cfg(max_epochs=2, accelerator="cpu", devices=2, strategy="ddp_spawn")
    res = train_model(small_model(), train, val, cfg, tmp_path, META)
    assert res.epochs_run == 2
    model, _ = load_model(tmp_path)
    assert (tmp_path / "checkpoints/best.ckpt").is_file()
    assert res.best_val_iou is not None


def test_random_crops(tmp_path, toy_data):
    train, val = toy_data
    res = train_model(
        small_model(), train, val, fast_cfg(max_epochs=1, crop_size=16), tmp_path, META
    )
    assert res.epochs_run == 1 and res.best_val_iou is not None
    with pytest.raises(ValueError, match="multiple of 16"):
        train_model(small_model(), train, val, fast_cfg(crop_size=24), tmp_path / "b", META)


def test_cosine_schedule_decays_lr(tmp_path, toy_data):
    train, val = toy_data
    res = train_model(
        small_model(), train, val, fast_cfg(max_epochs=3, scheduler="cosine"), tmp_path, META
    )
    lrs = [r["lr"] for r in res.history]
    assert lrs[0] > lrs[1] > lrs[2] > 0.05e-3
    cfg = fast_cfg(max_epochs=2, scheduler="none", lr=1e-3)
    flat = train_model(small_model(), train, val, cfg, tmp_path / "f", META)
    assert [r["lr"] for r in flat.history] == pytest.approx([1e-3, 1e-3])


def test_training_runs_in_train_mode_after_an_earlier_eval(tmp_path, toy_data):
    """train_model returns its model in eval mode; a second call (LP_FT's phase 2) must
    train with dropout and batch norm in training mode again."""
    train, val = toy_data
    torch.manual_seed(0)
    model = RecurrentUNet(UNetConfig(widths=(8, 16, 16, 16), bottleneck=32, dropout=0.3))
    first = train_model(model, train, val, fast_cfg(max_epochs=1), tmp_path / "a", META)
    assert not first.model.training  # what a later phase receives
    seen: list[tuple[bool, bool]] = []
    drop = first.model.encoder[0].drop
    bn = first.model.encoder[0].conv1[1]

    def record(mod, args):  # noqa: ANN001 - forward pre-hook
        if torch.is_grad_enabled():  # training steps only, not validation
            seen.append((drop.training, bn.training))

    handle = drop.register_forward_pre_hook(record)
    train_model(first.model, train, val, fast_cfg(max_epochs=1), tmp_path / "b", META)
    handle.remove()
    assert seen and all(d and b for d, b in seen)
