"""``cropmap --help`` stays light and every command's help teaches with an example."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
import typer.main

from cropmap.cli.main import app

COMMANDS = sorted(typer.main.get_command(app).commands)


def _help_run(argv: list[str], heavy: set[str]) -> tuple[list[str], str]:
    """Run ``cropmap ARGV`` in a fresh interpreter: the ``heavy`` modules it imported,
    and its stdout."""
    code = (
        f"import sys; sys.argv = ['cropmap', *{argv!r}]\n"
        "from cropmap.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(set({sorted(heavy)!r}) & {{m.split('.')[0] for m in sys.modules}}), "
        "file=sys.stderr)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return ast.literal_eval(res.stderr.strip().splitlines()[-1]), res.stdout


def test_root_help_imports_no_heavy_library() -> None:
    heavy, out = _help_run(["--help"], {"torch", "numpy", "rasterio", "lightning", "geopandas"})
    assert heavy == []
    assert "Conventions" in out and "--out" in out


@pytest.mark.parametrize("command", ["train", "finetune"])
def test_training_help_imports_neither_torch_nor_lightning(command: str) -> None:
    """The option defaults come from pydantic configs (train/config.py), not the trainers."""
    heavy, out = _help_run([command, "--help"], {"torch", "lightning"})
    assert heavy == []
    assert "--epochs" in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_has_an_example(command: str) -> None:
    from typer.testing import CliRunner

    res = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert f"Example: cropmap {command}" in " ".join(res.output.split()), res.output
