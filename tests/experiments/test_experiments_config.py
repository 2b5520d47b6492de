"""Experiment config validation."""

from __future__ import annotations

import pytest

from cropmap.errors import ConfigError, RenamedKeyWarning
from cropmap.experiments.config import (
    demo_config_path,
    load_config,
    parse_config,
    template_config_path,
)

BASE = {
    "regions": {"korea": {}, "spain": {"size": 256}},
    "pretrain": {"region": "korea"},
    "transfers": [{"finetune": "spain", "test": ["spain"]}],
}


def test_defaults():
    cfg = parse_config(BASE)
    assert cfg.strategies == ["RF", "RI", "FT", "FT_E"]
    assert cfg.bands == [["VH"], ["VV", "VH"]]
    assert cfg.calendar_of("spain") == "spain-rice" and cfg.target_of("spain") == "rice"


@pytest.mark.parametrize(
    "patch, match",
    [
        ({"strategies": ["FT", "XX"]}, "unknown strategy 'XX'"),
        ({"transfers": [{"finetune": "peru", "test": ["spain"]}]}, "peru"),
        ({"bands": [["VH", "VH"]]}, "unique"),
        ({"bands": [["VH"]], "features": [["VV"]]}, "not both"),
        ({"bogus": 1}, "bogus"),
        ({"finetune_lr": 0}, "finetune_lr"),
        ({"regions": {"korea": {}, "spain": {}, "mars": {}}}, "mars"),
    ],
)
def test_bad_configs(patch, match):
    with pytest.raises(ConfigError, match=match):
        parse_config({**BASE, **patch})


def test_features_is_a_deprecated_alias_of_bands():
    """``features`` (top level, pretrain, label_efficiency) and ``map_features`` still
    read, as ``bands``/``map_bands``, with one warning per key naming the new name."""
    old = {
        **BASE,
        "pretrain": {"region": "korea", "features": ["VV"]},
        "features": [["VV", "VH"]],
        "map_features": ["VV", "VH"],
        "label_efficiency": {"finetune": "spain", "test": ["spain"], "features": ["VV"]},
    }
    with pytest.warns(RenamedKeyWarning) as caught:
        cfg = parse_config(old)
    messages = sorted(str(w.message) for w in caught)
    assert messages == [
        "experiment config key 'features' is deprecated; use 'bands'",
    ] * 3 + ["experiment config key 'map_features' is deprecated; use 'map_bands'"]
    assert cfg.bands == [["VV", "VH"]] and cfg.map_bands == ["VV", "VH"]
    assert cfg.pretrain.bands == ["VV"]
    assert cfg.label_efficiency is not None and cfg.label_efficiency.bands == ["VV"]
    assert "features" not in cfg.model_dump()


def test_presets_use_the_current_key_names():
    import warnings

    from cropmap.experiments.config import preset_names, preset_path

    for path in [template_config_path(), *map(preset_path, preset_names())]:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RenamedKeyWarning)
            load_config(path)


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


def test_template_valid_and_named_when_a_config_is_missing(tmp_path):
    cfg = load_config(template_config_path())
    assert set(cfg.regions) == {"korea", "spain"} and cfg.strategies == ["RF", "FT_E"]
    with pytest.raises(ConfigError, match="--template > my_study.yaml"):
        load_config(tmp_path / "my_study.yaml")


def test_real_data_paths_checked_at_load(tmp_path):
    s1 = tmp_path / "s1"
    regions = {"korea": {}, "mine": {"s1_dir": str(s1), "parcels": str(tmp_path / "p.gpkg")}}
    spec = {**BASE, "regions": regions, "transfers": [{"finetune": "mine", "test": ["mine"]}]}
    with pytest.raises(ConfigError, match=r"region .mine.: s1_dir .*s1 is not a folder"):
        parse_config(spec)
    s1.mkdir()
    with pytest.raises(ConfigError, match=r"parcels file .*p.gpkg not found"):
        parse_config(spec)
    (tmp_path / "p.gpkg").write_bytes(b"")
    assert parse_config(spec).regions["mine"].s1_dir == s1


def test_cli_template_prints_a_loadable_config(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "cropmap.cli.main", "experiment", "--template"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "t.yaml").write_text(proc.stdout)
    assert load_config(tmp_path / "t.yaml") == load_config(template_config_path())


def test_poster_preset_by_name():
    from cropmap.experiments.outputs import _columns
    from cropmap.experiments.runner import plan_cells

    cfg = load_config("poster")
    assert cfg.patch_size == 256 and cfg.seeds == [0, 1, 2]
    assert {"RF", "RI", "FT", "FT_E", "ZS"} == set(cfg.strategies)
    assert len(_columns(cfg)) == 10  # the poster's columns
    sizes = {name: spec.size for name, spec in cfg.regions.items()}
    assert sizes == {"korea": 2560, "spain": 1536, "france": 2048, "netherlands": 2560}
    assert cfg.evaluate_source and cfg.early_season
    assert cfg.pretrain.train["patience"] and cfg.train["patience"]  # early stopping
    assert len(plan_cells(cfg)) == 3 * 2 * 5 * 3
    assert [k.seed for k in plan_cells(cfg)][:30] == [0] * 30  # seed 0 first
    with pytest.raises(ConfigError, match=r"presets: demo, poster\)"):
        load_config("posterr")
