"""Model files: tampered, foreign or mismatched ones are refused with a precise message.

Nothing is ever unpickled: a pickle planted as the weights file must not run.
"""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def store(tiny_scene: Path, tmp_path_factory) -> Path:
    from cropmap.data import build_patches

    out = tmp_path_factory.mktemp("store") / "patches"
    build_patches(
        tiny_scene / "composite.tif", tiny_scene / "labels.tif", out, size=32, split="random"
    )
    return out


def _model(tmp_path: Path, *, bands=("VH",), n_steps=8) -> Path:
    from cropmap.models import RecurrentUNet, UNetConfig
    from cropmap.models.registry import ModelMeta, save_model

    stages = [[i, i + 1] for i in range(0, n_steps, 2)]
    cfg = UNetConfig(
        in_channels=len(bands), n_steps=n_steps, widths=(4, 4, 4, 4), bottleneck=4, stages=stages
    )
    meta = ModelMeta(
        arch=cfg.model_dump(),
        bands=list(bands),
        periods=[f"P{i + 1}" for i in range(n_steps)],
        norm={"mean": {b: -15.0 for b in bands}, "std": {b: 4.0 for b in bands}},
    )
    save_model(tmp_path / "model", RecurrentUNet(cfg), meta)
    return tmp_path / "model"


def _evaluate(run_cli, model: Path, store: Path) -> tuple[int, str]:
    code, _, err = run_cli("evaluate", model, store, "--split", "test", "--json", model / "e.json")
    return code, err


def test_sound_model_evaluates(tmp_path, store, run_cli) -> None:
    model = _model(tmp_path)
    code, err = _evaluate(run_cli, model, store)
    assert code == 0, err
    assert "iou" in json.loads((model / "e.json").read_text())


def test_tampered_weights_are_refused(tmp_path, store, run_cli) -> None:
    model = _model(tmp_path)
    weights = model / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0xFF
    weights.write_bytes(bytes(data))
    code, err = _evaluate(run_cli, model, store)
    assert code == 2 and re.search(r"(?i)hash|sha256|tamper", err), err


def test_model_from_another_major_version_is_refused(tmp_path, store, run_cli) -> None:
    model = _model(tmp_path)
    meta = json.loads((model / "model.json").read_text())
    meta["cropmap_version"] = "7.2.0"
    (model / "model.json").write_text(json.dumps(meta))
    code, err = _evaluate(run_cli, model, store)
    assert code == 2 and "7.2.0" in err, err


def test_model_with_other_bands_explains_the_fix(tmp_path, store, run_cli) -> None:
    model = _model(tmp_path, bands=("HH",))
    code, err = _evaluate(run_cli, model, store)
    assert code == 2 and "HH" in err and re.search(r"VV|VH", err), err


def test_model_with_other_number_of_steps_explains_the_fix(tmp_path, store, run_cli) -> None:
    model = _model(tmp_path, n_steps=6)
    code, err = _evaluate(run_cli, model, store)
    assert code == 2 and re.search(r"\b8\b.*\b6\b|\b6\b.*\b8\b", err), err


class _Bomb:
    """Unpickling this writes a marker file: proof that a loader executed code."""

    marker = ""

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "executed"))


def test_pickle_planted_as_weights_is_never_executed(tmp_path, store, run_cli) -> None:
    model = _model(tmp_path)
    marker = tmp_path / "pwned"
    bomb = _Bomb()
    bomb.marker = str(marker)
    payload = pickle.dumps(bomb)
    (model / "weights.safetensors").write_bytes(payload)
    meta = json.loads((model / "model.json").read_text())
    import hashlib

    meta["weights_sha256"] = hashlib.sha256(payload).hexdigest()  # a careful attacker
    (model / "model.json").write_text(json.dumps(meta))
    code, err = _evaluate(run_cli, model, store)
    assert code == 2, err
    assert not marker.exists()
