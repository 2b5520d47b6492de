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
