"""Options at the CLI edge: the --out convention and its deprecated spellings."""

from __future__ import annotations

import json
import re

import pytest


def test_positional_out_still_works_with_one_deprecation_line(scene_copy, run_cli) -> None:
    out = scene_copy / "c.tif"
    code, _, err = run_cli(
        "composite", scene_copy / "s1", out, "-c", "korea-rice", "--units", "linear"
    )
    assert code == 0, err
    assert out.exists()
    dep = [ln for ln in err.splitlines() if "deprecated" in ln]
    assert len(dep) == 1 and f"--out {out}" in dep[0], err


def test_progress_is_plain_lines_when_stderr_is_not_a_terminal(scene_copy, run_cli) -> None:
    """``make demo > log 2>&1`` shows progress: a start line, periodic lines, an end line."""
    out = scene_copy / "c.tif"
    code, _, err = run_cli(
        "composite", scene_copy / "s1", "-o", out, "-c", "korea-rice", "--units", "linear"
    )
    assert code == 0, err
    lines = err.splitlines()
    assert "composite: started" in lines, err
    assert any(
        re.fullmatch(r"composite: done, (\d+)/\1 windows \(100%\) in \d\d:\d\d", ln) for ln in lines
    ), err
    assert "\x1b[" not in err


def test_patches_takes_out_as_option_and_positional(scene_copy, run_cli) -> None:
    s = scene_copy
    args = ["patches", s / "composite.tif", s / "labels.tif", "--size", "32", "--split", "random"]
    code, _, err = run_cli(*args, "--out", s / "store")
    assert code == 0, err
    assert json.loads((s / "store" / "manifest.json").read_text())["patches"]
    code, _, err = run_cli(*args[:3], s / "store2", *args[3:])
    assert code == 0 and "deprecated" in err, err
    assert (s / "store2" / "manifest.json").exists()


def test_missing_out_is_one_line_and_exit_2(scene_copy, run_cli) -> None:
    code, _, err = run_cli("composite", scene_copy / "s1", "-c", "korea-rice")
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert code == 2 and len(lines) == 1 and "--out" in lines[0], err


# -- every option of every command, invalid values generated from the configs ------------


def _commands() -> dict:
    import typer.main

    from cropmap.cli.main import app

    return dict(typer.main.get_command(app).commands)


def _invalid_values(accepted) -> list[str]:
    """Values the pydantic type ``accepted`` refuses, read off its constraints."""
    import typing

    import annotated_types as at

    from cropmap.cli.options import Accepts, _plain

    base, meta = _plain(accepted)
    if typing.get_origin(base) is list:
        return _invalid_values(typing.get_args(base)[0])
    values: list[str] = []
    if typing.get_origin(base) is typing.Literal:
        values.append("no-such-choice")
    if base in (int, float):
        values.append("abc")
    low = None
    for m in meta:
        if isinstance(m, at.Ge):
            low = m.ge
            values.append(str(m.ge - 1))
        elif isinstance(m, at.Gt):
            low = m.gt
            values.append(str(m.gt))
        elif isinstance(m, at.Le):
            values.append(str(m.le + 1))
        elif isinstance(m, at.Lt):
            values.append(str(m.lt))
        elif isinstance(m, at.MultipleOf):
            values.append(str(max(low or 0, m.multiple_of) + 1))
        elif isinstance(m, Accepts):
            values.append("not valid")
    return values


def _option_cases() -> list:
    """(command, option, value) for every checked option of every command."""
    from cropmap.cli.options import ACCEPTED_ATTR

    cases = []
    for name, cmd in sorted(_commands().items()):
        for p in cmd.params:
            accepted = getattr(p.callback, ACCEPTED_ATTR, None)
            if accepted is None:
                continue
            for value in _invalid_values(accepted()):
                cases.append(pytest.param(name, p.opts[0], value, id=f"{name}{p.opts[0]}={value}"))
    return cases


def _base_args(cmd, tmp_path) -> list[str]:
    """Dummy inputs and required options under ``tmp_path`` (never read: parsing fails first)."""
    args: list[str] = []
    dummy = {"--out": str(tmp_path / "out"), "--calendar": "korea-rice", "--region": "korea"}
    for p in cmd.params:
        if p.param_type_name == "argument" and p.required:
            args.append(str(tmp_path / f"in_{p.name}"))
        elif p.required:
            args += [p.opts[0], dummy[p.opts[0]]]
    return args


OPTION_CASES = _option_cases()


def test_every_command_has_checked_options() -> None:
    commands = {c[0] for c in (case.values for case in OPTION_CASES)}
    missing = set(_commands()) - commands - {"demo", "experiment", "area", "preview"}
    assert not missing, f"commands whose options are never checked: {missing}"
    assert len(OPTION_CASES) >= 80


def test_every_number_or_choice_option_is_checked() -> None:
    """A new int/float option without a checked type would escape these tests."""
    from cropmap.cli.options import ACCEPTED_ATTR

    unchecked = [
        f"{name} {p.opts[0]}"
        for name, cmd in _commands().items()
        for p in cmd.params
        if p.param_type_name == "option"
        and getattr(p, "bare_type", None) in (int, float)
        and not getattr(p, "is_flag", False)
        and getattr(p.callback, ACCEPTED_ATTR, None) is None
    ]
    assert not unchecked, unchecked


@pytest.mark.parametrize(("command", "option", "value"), OPTION_CASES)
def test_invalid_option_value_is_one_line_exit_2_and_writes_nothing(
    command, option, value, tmp_path, run_cli
) -> None:
    cmd = _commands()[command]
    code, out, err = run_cli(command, *_base_args(cmd, tmp_path), option, value)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith(f"error: {option}: "), err
    assert repr(value) in lines[0] or value in lines[0], lines[0]
    assert "accepted" in lines[0] or "valid" in lines[0], lines[0]
    assert "Traceback" not in err and out == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("command", "config", "options"),
    [
        ("train", "cropmap.train.trainer:TrainConfig", "cropmap.cli.model:TRAIN_OPTIONS"),
        ("simulate", "cropmap.simulate.scene:SceneConfig", None),
        (
            "finetune",
            "cropmap.train.config:FinetuneConfig",
            "cropmap.cli.experiment:FINETUNE_OPTIONS",
        ),
    ],
)
def test_options_check_what_their_config_checks(command, config, options) -> None:
    """Each constrained config field a command exposes is checked with the field's own type."""
    import importlib

    from cropmap.cli.options import ACCEPTED_ATTR, field_type

    def load(ref):
        module, name = ref.split(":")
        return getattr(importlib.import_module(module), name)

    model = load(config)
    names = (
        load(options) if options else {f: f"--{f.replace('_', '-')}" for f in model.model_fields}
    )
    by_opt = {o: p for p in _commands()[command].params for o in p.opts}
    checked = 0
    for field, info in model.model_fields.items():
        param = by_opt.get(names.get(field, ""))
        if param is None or not info.metadata:
            continue
        accepted = getattr(param.callback, ACCEPTED_ATTR, None)
        if field == "max_time_s":  # minutes on the CLI, seconds in the config
            continue
        assert accepted is not None and accepted() == field_type(model, field), field
        checked += 1
    assert checked >= 3


def test_patches_on_labels_of_another_grid_leaves_no_store(scene_copy, run_cli) -> None:
    """The store folder must not survive a failed ``patches`` (it would pass for a result)."""
    import rasterio
    from rasterio.transform import Affine

    s = scene_copy
    with rasterio.open(s / "labels.tif") as ds:
        profile, data = ds.profile, ds.read()
    t = profile["transform"]
    profile["transform"] = Affine(t.a, t.b, t.c + 5000, t.d, t.e, t.f)
    with rasterio.open(s / "shifted.tif", "w", **profile) as ds:
        ds.write(data)
    out = s / "store"
    code, _, err = run_cli("patches", s / "composite.tif", s / "shifted.tif", "-o", out)
    errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert code == 2 and len(errors) == 1, err
    assert not out.exists()
    assert not [p.name for p in s.iterdir() if p.name.startswith(".store")]


def test_train_failing_on_its_input_leaves_no_model_folder(scene_copy, run_cli) -> None:
    s = scene_copy
    code, _, err = run_cli(
        "patches", s / "composite.tif", s / "labels.tif", "-o", s / "p", "--size", "32",
        "--split", "random",
    )  # fmt: skip
    assert code == 0, err
    out = s / "model"
    code, _, err = run_cli("train", s / "p", "-o", out, "--bands", "HH", "--epochs", "1")
    assert code == 2 and err.strip().splitlines()[-1].startswith("error:"), err
    assert not out.exists()


@pytest.mark.slow
def test_train_in_a_log_prints_plain_epoch_lines(scene_copy, run_cli) -> None:
    """Without a terminal, training prints one plain line per epoch instead of a bar."""
    s = scene_copy
    args = ["patches", s / "composite.tif", s / "labels.tif", "-o", s / "p", "--size", "32"]
    code, _, err = run_cli(*args, "--split", "random")
    assert code == 0, err
    code, out, err = run_cli("train", s / "p", "-o", s / "m", "--bands", "VH", "--epochs", "1")
    assert code == 0, err
    assert "\x1b[" not in err
    assert any(re.search(r"(?i)epoch", ln) for ln in err.splitlines()), err
    assert "model written to" in out


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["train", "P", "-o", "OUT", "--crop", "20"], r"--crop: 20 .*multiple of 16"),
        (["train", "P", "-o", "OUT", "--bands", "VV,XX"], r"--bands: .*XX.*accepted"),
        (["patches", "C", "L", "-o", "OUT", "--fractions", "0.5,0.6,0"], r"--fractions: "),
        (["finetune", "M", "P", "-o", "OUT", "--max-patches", "0"], r"--max-patches: '0'"),
        (["simulate", "--region", "korea", "-o", "OUT", "--size", "3"], r"--size: 3 .*>= 16"),
    ],
)
def test_hand_picked_option_errors_from_the_issue(args, pattern, tmp_path, run_cli) -> None:
    """The cases the review found (pydantic dumps, tracebacks), plus list-valued options."""
    args = [str(tmp_path / a) if a in ("P", "C", "L", "M", "OUT") else a for a in args]
    code, _, err = run_cli(*args)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and re.search(pattern, lines[0]), err
    assert not (tmp_path / "OUT").exists()
