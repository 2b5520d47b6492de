"""Options at the CLI edge: the --out convention and its deprecated spellings."""

from __future__ import annotations

import json
import re


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
