"""One set of rules for "preset name | YAML file | dict" (calendars, mappings, experiments)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cropmap.data.mappings import load_mapping
from cropmap.errors import CalendarError, ConfigError, VectorError
from cropmap.experiments.config import load_config
from cropmap.io.presets import YamlPresets
from cropmap.sar.calendars import load_calendar


@pytest.fixture
def presets(tmp_path: Path) -> YamlPresets:
    folder = tmp_path / "presets"
    folder.mkdir()
    (folder / "alpha.yaml").write_text("origin: preset alpha\n")
    (folder / "beta.yaml").write_text("origin: preset beta\n")
    (folder / "template.yaml").write_text("origin: template\n")
    (folder / "notes.txt").write_text("not a preset\n")
    return YamlPresets(
        "widget",
        folder,
        VectorError,
        shape="with an 'origin' field",
        hint="`make-widget > {name}` writes one",
        exclude=frozenset({"template"}),
    )


def test_names_are_the_yaml_stems_without_the_excluded(presets: YamlPresets) -> None:
    assert presets.names() == ["alpha", "beta"]


def test_preset_file_and_dict(presets: YamlPresets, tmp_path: Path, monkeypatch) -> None:
    assert presets.load("alpha") == ({"origin": "preset alpha"}, "widget preset alpha")
    own = tmp_path / "own.yaml"
    own.write_text("origin: own file\n")
    assert presets.load(own) == ({"origin": "own file"}, f"widget file {own}")
    assert presets.load({"origin": "dict"}) == ({"origin": "dict"}, "widget (dict)")
    # a file in the working folder named like a preset wins over the preset
    monkeypatch.chdir(tmp_path)
    Path("beta").write_text("origin: user's beta\n")
    assert presets.load("beta") == ({"origin": "user's beta"}, "widget file beta")


def test_unknown_name_is_one_line_naming_value_presets_and_hint(presets: YamlPresets) -> None:
    with pytest.raises(VectorError) as err:
        presets.load("gamma/my.yaml")
    assert str(err.value) == (
        "widget 'gamma/my.yaml' not found: not a file and not a preset "
        "(presets: alpha, beta); `make-widget > my.yaml` writes one"
    )
    with pytest.raises(VectorError, match="'template' not found"):
        presets.path("template")  # excluded: not a preset


def test_a_folder_is_not_a_file(presets: YamlPresets, tmp_path: Path) -> None:
    with pytest.raises(VectorError, match="not a file and not a preset"):
        presets.load(tmp_path)


def test_bad_yaml_and_a_top_level_that_is_no_mapping(presets: YamlPresets, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("origin: [1, 2\n")
    with pytest.raises(VectorError) as err:
        presets.load(bad)
    assert str(err.value) == (
        f"widget file {bad}: not valid YAML: expected ',' or ']', but got '<stream end>' "
        "(line 2, column 1)"
    )
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    with pytest.raises(
        VectorError,
        match=f"^widget file {re.escape(str(listed))}: must be a YAML mapping "
        "with an 'origin' field, not list$",
    ):
        presets.load(listed)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(VectorError, match="must be a YAML mapping .* not NoneType"):
        presets.load(empty)


@pytest.mark.parametrize(
    "load, error, kind, a_preset",
    [
        (load_calendar, CalendarError, "calendar", "korea-rice"),
        (load_mapping, VectorError, "mapping", "france-rpg"),
        (load_config, ConfigError, "experiment config", "poster"),
    ],
)
def test_the_three_loaders_share_the_rules_and_the_message(
    load, error, kind, a_preset, tmp_path: Path, monkeypatch
) -> None:
    with pytest.raises(error) as err:
        load("nope")
    msg = str(err.value)
    assert msg.startswith(f"{kind} 'nope' not found: not a file and not a preset (presets: ")
    assert a_preset in msg and "\n" not in msg
    load(a_preset)  # the preset loads by name
    monkeypatch.chdir(tmp_path)
    Path(a_preset).write_text("- a list\n")  # a file of that name wins over the preset
    with pytest.raises(error, match=f"^{kind} file {a_preset}: must be a YAML mapping"):
        load(a_preset)
