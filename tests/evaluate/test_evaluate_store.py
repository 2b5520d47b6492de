"""End to end on a tiny patch store: train / baseline / evaluate, Python API and CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from cropmap.cli.main import app
from cropmap.errors import ModelFileError, PatchStoreError
from cropmap.evaluate.evaluate import evaluate, predict_dataset
from cropmap.models.registry import load_model
from cropmap.train.forest_fit import train_baseline
from cropmap.train.store import train_on_store, unet_for_store
from cropmap.train.trainer import TrainConfig

FAST = {"max_epochs": 3, "batch_size": 2, "progress": "none", "patience": 10}
SMALL = {"widths": (8, 16, 16, 16), "bottleneck": 32, "dropout": 0.0}


def test_unet_config_follows_store_calendar(store):
    from cropmap.data import PatchStore

    cfg = unet_for_store(PatchStore(store), ["VH"])
    assert cfg.n_steps == 8 and cfg.in_channels == 1
    assert cfg.stages == [[0, 1], [2, 3], [4, 5], [6, 7]]


def test_train_and_evaluate_unet(store, tmp_path):
    res = train_on_store(store, tmp_path / "m", bands=["VH"], cfg=TrainConfig(**FAST), **SMALL)
    _, meta = load_model(tmp_path / "m")
    assert meta.bands == ["VH"] and meta.norm == {"mean": {"VH": -18.0}, "std": {"VH": 3.0}}
    assert meta.calendar["name"] == "korea-rice" and meta.region == "korea"
    rep = evaluate(tmp_path / "m", store, "test", out_json=tmp_path / "r.json")
    assert rep["n_patches"] == 2 and rep["kind"] == "recurrent_unet"
    assert rep["n_pixels"] == 2 * 30 * 32  # the two 255 rows are not scored
    assert json.loads((tmp_path / "r.json").read_text())["iou"] == pytest.approx(rep["iou"])
    early = evaluate(tmp_path / "m", store, "test", n_periods=4)
    assert early["n_periods"] == 4 and 0.0 <= early["iou"] <= 1.0
    from cropmap.data import PatchDataset

    preds = list(
        predict_dataset(res.model, PatchDataset(store, "test", bands=["VH"], norm=meta.norm))
    )
    assert [p.patch_id for p in preds] == ["p006", "p007"]
    assert preds[0].prob.shape == (32, 32) and 0 <= preds[0].prob.min() <= preds[0].prob.max() <= 1


def test_baseline_learns_and_evaluates(store, tmp_path):
    rf, meta = train_baseline(
        store, tmp_path / "rf", bands=["VV", "VH"], ratio=True, n_estimators=20, n_jobs=1
    )
    assert rf.n_features_in_ == 8 * 2 + 8
    rep = evaluate(tmp_path / "rf", store, "test")
    assert rep["kind"] == "random_forest" and rep["iou"] > 0.8
    early = evaluate(tmp_path / "rf", store, "test", n_periods=2)
    assert early["iou"] < rep["iou"] + 0.05


def test_band_mismatch_is_explained(store, tmp_path):
    train_baseline(store, tmp_path / "rf", bands=["VH"], n_estimators=2, n_jobs=1)
    meta_path = tmp_path / "rf" / "model.json"
    meta = json.loads(meta_path.read_text())
    assert meta["bands"] == ["VH"]
    with pytest.raises(PatchStoreError, match="not in the patch store"):
        train_baseline(store, tmp_path / "rf2", bands=["HH"], n_estimators=2, n_jobs=1)
    from cropmap.models.registry import ModelMeta

    with pytest.raises(ModelFileError, match="lacks band"):
        ModelMeta(bands=["VV", "VH"], periods=meta["periods"]).check_input(["VH"], 8)


def test_cli_train_baseline_evaluate(store, tmp_path):
    runner = CliRunner()
    r = runner.invoke(
        app,
        [
            "baseline",
            str(store),
            "--bands",
            "VH",
            "--out",
            str(tmp_path / "rf"),
            "--trees",
            "5",
            "--n-jobs",
            "1",
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["evaluate", str(tmp_path / "rf"), str(store), "--split", "test"])
    assert r.exit_code == 0, r.output
    assert "IoU" in r.output and (tmp_path / "rf" / "eval_test.json").is_file()
    r = runner.invoke(
        app,
        [
            "train",
            str(store),
            "--bands",
            "VH",
            "--out",
            str(tmp_path / "m"),
            "--epochs",
            "1",
            "--batch-size",
            "4",
            "--progress",
            "none",
        ],
    )
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "rf" / "eval_test.json").read_text())
    assert set(rep["per_class"]) == {"other", "rice"}
    assert np.array(rep["confusion_matrix"]).sum() == rep["n_pixels"]
