"""``cropmap --help`` stays light and every command's help teaches with an example."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer.main

from cropmap.cli.main import app

COMMANDS = sorted(typer.main.get_command(app).commands)


def test_root_help_imports_no_heavy_library() -> None:
    code = (
        "import sys; sys.argv = ['cropmap', '--help']\n"
        "from cropmap.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = {'torch', 'numpy', 'rasterio', 'lightning', 'geopandas'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}), file=sys.stderr)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stderr.strip() == "[]", res.stderr
    assert "Conventions" in res.stdout and "--out" in res.stdout


@pytest.mark.parametrize("command", ["train", "finetune"])
def test_training_help_imports_neither_torch_nor_lightning(command: str) -> None:
    """The option defaults come from pydantic configs (train/config.py), not the trainers."""
    code = (
        f"import sys; sys.argv = ['cropmap', {command!r}, '--help']\n"
        "from cropmap.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted({'torch', 'lightning'} & {m.split('.')[0] for m in sys.modules}), "
        "file=sys.stderr)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stderr.strip() == "[]", res.stderr
    assert "--epochs" in res.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_has_an_example(command: str) -> None:
    from typer.testing import CliRunner

    res = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert res.exit_code == 0, res.output
    assert f"Example: cropmap {command}" in " ".join(res.output.split()), res.output
