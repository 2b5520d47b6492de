"""Model directories: round trip, hash check, version check, input checks, RF files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cropmap.errors import ModelFileError
from cropmap.models.random_forest import RandomForestBaseline
from cropmap.models.recurrent_unet import RecurrentUNet, UNetConfig
from cropmap.models.registry import ModelMeta, load_model, read_meta, save_model

PERIODS = [f"P{i}" for i in range(1, 9)]


def make_meta(**kw) -> ModelMeta:
    base = {
        "bands": ["VH"],
        "periods": PERIODS,
        "norm": {"mean": {"VH": -18.0}, "std": {"VH": 4.0}},
        "classes": ["other", "rice"],
        "target": "rice",
    }
    base.update(kw)
    return ModelMeta(**base)


def test_unet_round_trip(tmp_path):
    torch.manual_seed(1)
    m = RecurrentUNet(UNetConfig(recurrence="channel")).eval()
    save_model(tmp_path / "m", m, make_meta())
    m2, meta = load_model(tmp_path / "m")
    assert meta.kind == "recurrent_unet" and meta.arch["recurrence"] == "channel"
    assert len(meta.weights_sha256) == 64
    x = torch.randn(1, 8, 1, 16, 16)
    with torch.no_grad():
        assert torch.equal(m(x), m2(x))
    assert not (tmp_path / "m" / "weights.safetensors").read_bytes().startswith(b"\x80")


def test_tampered_weights_are_refused(tmp_path):
    save_model(tmp_path, RecurrentUNet(UNetConfig()), make_meta())
    w = tmp_path / "weights.safetensors"
    data = bytearray(w.read_bytes())
    data[-1] ^= 0xFF
    w.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="SHA-256"):
        load_model(tmp_path)


def test_other_major_version_is_refused(tmp_path):
    save_model(tmp_path, RecurrentUNet(UNetConfig()), make_meta())
    meta = json.loads((tmp_path / "model.json").read_text())
    meta["cropmap_version"] = "7.0.0"
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="major version"):
        load_model(tmp_path)
    meta["cropmap_version"] = "0.1.0"
    meta["format"] = "cropmap-model/2"
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="format"):
        read_meta(tmp_path)


def test_missing_directory_says_what_it_is(tmp_path):
    with pytest.raises(ModelFileError, match="not a cropmap model directory"):
        load_model(tmp_path / "nope")


def test_check_input_explains_the_difference():
    meta = make_meta()
    meta.check_input(["VH"], 8)
    with pytest.raises(ModelFileError, match=r"select them with bands=\['VH'\]"):
        meta.check_input(["VV", "VH"], 8)
    with pytest.raises(ModelFileError, match="lacks band"):
        make_meta(bands=["VV", "VH"]).check_input(["VH"], 8)
    with pytest.raises(ModelFileError, match="periods=4"):
        meta.check_input(["VH"], 4)
    meta.check_input(["VH"], 4, allow_early=True)
    with pytest.raises(ModelFileError, match="trained on 8"):
        meta.check_input(["VH"], 10, allow_early=True)


def test_forest_round_trip_without_pickle(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 8)).astype(np.float32)
    y = (X[:, 2] < 0).astype(np.uint8)
    rf = RandomForestBaseline(n_estimators=5, n_jobs=1).fit(X, y)
    save_model(tmp_path, rf, make_meta())
    rf2, meta = load_model(tmp_path)
    assert meta.kind == "random_forest" and meta.arch["n_estimators"] == 5
    assert (tmp_path / "forest.safetensors").read_bytes()[8:9] == b"{"  # a JSON header
    np.testing.assert_array_equal(rf.predict_proba(X), rf2.predict_proba(X))


def test_legacy_skops_forest_still_loads_and_is_replaced_on_save(tmp_path):
    """A forest.skops of earlier versions loads (skops installed); a new save removes it."""
    import hashlib

    sio = pytest.importorskip("skops.io")
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    rf = RandomForestBaseline(n_estimators=3, n_jobs=1).fit(X, (X[:, 0] > 0).astype(np.uint8))
    save_model(tmp_path, rf, make_meta())
    (tmp_path / "forest.safetensors").unlink()
    sio.dump(rf.forest_, tmp_path / "forest.skops")
    meta = json.loads((tmp_path / "model.json").read_text())
    meta["weights_sha256"] = hashlib.sha256((tmp_path / "forest.skops").read_bytes()).hexdigest()
    (tmp_path / "model.json").write_text(json.dumps(meta))
    old, _ = load_model(tmp_path)
    np.testing.assert_array_equal(rf.predict_proba(X), old.predict_proba(X))
    save_model(tmp_path, old, make_meta())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forest.safetensors", "model.json"]


def test_non_safetensors_weights_are_a_clean_error(tmp_path):
    import hashlib

    save_model(tmp_path, RecurrentUNet(UNetConfig()), make_meta())
    payload = b"\x80\x04not a safetensors file"
    (tmp_path / "weights.safetensors").write_bytes(payload)
    meta = json.loads((tmp_path / "model.json").read_text())
    meta["weights_sha256"] = hashlib.sha256(payload).hexdigest()
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="not a valid safetensors file"):
        load_model(tmp_path)


def test_model_json_with_old_n_steps_name_still_loads(tmp_path):
    torch.manual_seed(2)
    cfg = UNetConfig(n_periods=4, widths=(4, 4), bottleneck=4, stages=[[0, 1], [2, 3]])
    m = RecurrentUNet(cfg).eval()
    save_model(tmp_path / "m", m, make_meta(periods=[]))
    path = tmp_path / "m" / "model.json"
    raw = json.loads(path.read_text())
    assert raw["arch"]["n_periods"] == 4 and "n_steps" not in raw["arch"]
    raw["arch"]["n_steps"] = raw["arch"].pop("n_periods")  # a file of an earlier cropmap
    path.write_text(json.dumps(raw))
    m2, meta = load_model(tmp_path / "m")
    assert meta.n_periods == 4 and m2.config.n_periods == 4
    assert meta.period_names == ["P1", "P2", "P3", "P4"]
    x = torch.randn(1, 4, 1, 16, 16)
    with torch.no_grad():
        assert torch.equal(m(x), m2(x))


def test_meta_properties_for_inference():
    meta = make_meta(
        bands=["VV", "VH"], norm={"mean": {"VV": -12.0, "VH": -19.0}, "std": {"VV": 4.0, "VH": 4.5}}
    )
    assert meta.norm_mean == (-12.0, -19.0) and meta.norm_std == (4.0, 4.5)
    assert meta.n_outputs == 1 and meta.scale == 16 and meta.time_padding == "tip"
    assert make_meta(classes=["a", "rice", "b"], arch={"widths": [4, 8]}).n_outputs == 3
    assert make_meta(arch={"widths": [4, 8]}).scale == 4
    with pytest.raises(ModelFileError, match=r"normalization statistics \(std\) for 'VH'"):
        _ = make_meta(norm={"mean": {"VH": -18.0}, "std": {}}).norm_std
    with pytest.raises(ModelFileError, match="tiled prediction needs a recurrent_unet"):
        make_meta(kind="random_forest").require_kind("recurrent_unet", "tiled prediction")


def test_check_input_selectable_accepts_extra_bands_only():
    meta = make_meta()
    meta.check_input(["VV", "VH"], 8, selectable=True)
    with pytest.raises(ModelFileError, match="lacks band"):
        meta.check_input(["VV"], 8, selectable=True)
