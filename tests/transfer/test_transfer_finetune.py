"""finetune(): VH model -> VV,VH fine-tuning on a tiny simulated patch store, API and CLI."""

from __future__ import annotations

import json

import pytest

from cropmap.errors import ConfigError


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory):
    """A tiny VH 'pretrained' model directory and a tiny Spain-like patch store."""
    import torch

    from cropmap.experiments import parse_config
    from cropmap.experiments.regions import prepare_region
    from cropmap.models import ModelMeta, RecurrentUNet, UNetConfig, save_model

    root = tmp_path_factory.mktemp("ft")
    cfg = parse_config(
        {
            "patch_size": 64,
            "regions": {"korea": {"size": 64}, "spain": {"size": 192, "seed": 2}},
            "pretrain": {"region": "korea"},
            "transfers": [{"finetune": "spain", "test": ["spain"]}],
        }
    )
    region = prepare_region(cfg, "spain", root / "data")
    torch.manual_seed(0)
    model = RecurrentUNet(UNetConfig(in_channels=1, widths=(4, 4, 4, 4), bottleneck=8))
    norm = {"mean": {"VH": -17.0}, "std": {"VH": 4.0}}
    save_model(
        root / "pre", model, ModelMeta(bands=["VH"], norm=norm, periods=[str(i) for i in range(8)])
    )
    return root, region.patches


TRAIN = {"max_epochs": 1, "batch_size": 4, "augment": None, "progress": "none"}


@pytest.mark.slow
def test_finetune_expands_and_freezes(tiny_setup):
    from cropmap.models import load_model
    from cropmap.transfer import finetune

    root, patches = tiny_setup
    res = finetune(
        root / "pre", patches, root / "ft_e", strategy="FT_E", bands=["VV", "VH"], train=TRAIN
    )
    model, meta = load_model(root / "ft_e")
    assert meta.bands == ["VV", "VH"]
    assert meta.norm["mean"]["VH"] == -17.0  # pretrained statistics kept for VH
    assert "VV" in meta.norm["mean"]  # the store's for the new band
    assert model.encoder[0].conv1[0].weight.shape[1] == 2
    assert 0 < res.trainable_params < res.total_params
    assert meta.train_config["transfer"]["strategy"] == "FT_E"
    with pytest.raises(ConfigError, match="not a network"):
        finetune(root / "pre", patches, root / "rf", strategy="RF")


@pytest.mark.slow
def test_expansion_warm_up_and_first_layer_lr(tiny_setup):
    from cropmap.models import load_model
    from cropmap.transfer import ExpansionConfig, finetune

    root, patches = tiny_setup
    exp = ExpansionConfig(method="zero", lr_factor=10.0, warmup_fraction=0.5)
    train = {**TRAIN, "max_epochs": 2}
    res = finetune(
        root / "pre",
        patches,
        root / "warm",
        strategy="FT_EO",
        bands=["VV", "VH"],
        train=train,
        expansion=exp,
    )
    model, meta = load_model(root / "warm")
    assert {h["phase"] for h in res.history} == {0, 1}  # warm-up, then FT_EO
    assert meta.train_config["lr_scale"] == {"encoder.0.conv1.": 10.0}
    assert meta.train_config["transfer"]["expansion"]["warmup_fraction"] == 0.5
    vv = model.encoder[0].conv1[0].weight[:, 0]
    assert vv.abs().sum() > 0  # the zero-initialised VV kernel was trained
    frozen = res.model.decoder[0].conv1[0].weight
    pre_model, _ = load_model(root / "pre")
    assert torch_equal(frozen, pre_model.decoder[0].conv1[0].weight)  # FT_EO: decoder frozen


def torch_equal(a, b) -> bool:
    import torch

    return bool(torch.equal(a, b))


@pytest.mark.slow
def test_finetune_cli(tiny_setup):
    from typer.testing import CliRunner

    from cropmap.cli.main import app

    root, patches = tiny_setup
    out = root / "cli_ft"
    result = CliRunner().invoke(
        app,
        [
            "finetune",
            str(root / "pre"),
            str(patches),
            "--strategy",
            "HEAD",
            "--bands",
            "VV,VH",
            "--expansion",
            "copy",
            "--source",
            "VV=VH",
            "--epochs",
            "1",
            "--max-patches",
            "2",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "HEAD: trained 5 of" in result.output
    assert "val_iou" in result.output + result.stderr  # one line per epoch, not a bar
    meta = json.loads((out / "model.json").read_text())
    assert meta["train_config"]["transfer"]["n_train_patches"] == 2
