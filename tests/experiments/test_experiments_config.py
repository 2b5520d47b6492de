"""Experiment config validation."""

from __future__ import annotations

import pytest

from cropmap.errors import ConfigError
from cropmap.experiments.config import demo_config_path, load_config, parse_config

BASE = {
    "regions": {"korea": {}, "spain": {"size": 256}},
    "pretrain": {"region": "korea"},
    "transfers": [{"finetune": "spain", "test": ["spain"]}],
}


def test_defaults():
    cfg = parse_config(BASE)
    assert cfg.strategies == ["RF", "RI", "FT", "FT_E"]
    assert cfg.features == [["VH"], ["VV", "VH"]]
    assert cfg.calendar_of("spain") == "spain-rice" and cfg.target_of("spain") == "rice"


@pytest.mark.parametrize(
    "patch, match",
    [
        ({"strategies": ["FT", "XX"]}, "unknown strategy 'XX'"),
        ({"transfers": [{"finetune": "peru", "test": ["spain"]}]}, "peru"),
        ({"features": [["VH", "VH"]]}, "unique"),
        ({"bogus": 1}, "bogus"),
        ({"finetune_lr": 0}, "finetune_lr"),
        ({"regions": {"korea": {}, "spain": {}, "mars": {}}}, "mars"),
    ],
)
def test_bad_configs(patch, match):
    with pytest.raises(ConfigError, match=match):
        parse_config({**BASE, **patch})


def test_load_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("regions: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_demo_preset_valid():
    cfg = load_config(demo_config_path())
    assert {"korea", "spain", "france", "netherlands"} <= set(cfg.regions)


def test_cli_bad_config_exits_2(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("regions: {}\npretrain: {region: korea}\ntransfers: []\n")
    proc = subprocess.run(
        [sys.executable, "-m", "cropmap.cli.main", "experiment", str(bad), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "error:" in proc.stderr and "korea" in proc.stderr
