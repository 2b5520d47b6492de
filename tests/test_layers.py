"""The import layers of DESIGN.md, as pyproject's import-linter contract states them.

`lint-imports` (run by `make test`) checks every import statement, nested ones included.
These tests show that it does catch an upward import hidden inside a function, and check
the imports it cannot see: module names given as strings (``importlib.import_module``,
the lazy ``_EXPORTS`` tables of package ``__init__`` files).
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "cropmap"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _layers() -> list[tuple[set[str], bool]]:
    """``[(packages, independent), ...]`` from the top layer down."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    out = []
    for layer in layers:
        sep = ":" if ":" in layer else "|"
        out.append(({p.strip() for p in layer.split(sep)}, sep == "|"))
    return out


def allowed(importer: str, imported: str) -> bool:
    """May top-level package ``importer`` import ``imported`` under the layers contract?"""
    if importer == imported:
        return True
    rank: dict[str, tuple[int, bool]] = {}
    for i, (packages, independent) in enumerate(_layers()):
        for p in packages:
            rank[p] = (i, independent)
    (a, _), (b, independent) = rank[importer], rank[imported]
    return b > a or (a == b and not independent)


def _string_imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of module names a file imports through strings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []

    def literal(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr) and node.values:  # f"cropmap.cli.{name}"
            return literal(node.values[0])
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in ("import_module", "__import__"):
                text = literal(node.args[0])
                if text is not None:
                    found.append((node.lineno, text))
        elif (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Dict)
            and any(getattr(t, "id", "") == "_EXPORTS" for t in node.targets)
        ):
            for v in node.value.values:
                if v is not None and (text := literal(v)) is not None:
                    found.append((v.lineno, text))
    return [(line, m) for line, m in found if m.startswith("cropmap.")]


def _package_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def test_every_top_level_package_has_a_layer() -> None:
    placed = set().union(*(p for p, _ in _layers()))
    present = {_package_of(p) for p in SRC.rglob("*.py")} - {"__init__"}
    assert present <= placed, f"give these a layer in pyproject.toml: {present - placed}"


def test_string_imports_point_down() -> None:
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        importer = _package_of(path)
        if importer == "__init__":
            continue
        for line, module in _string_imports(path):
            imported = module.split(".")[1]
            if imported and not allowed(importer, imported):
                bad.append(f"{path.relative_to(ROOT)}:{line}: cropmap.{importer} -> {module}")
    assert not bad, "imports (as strings) pointing up the layers:\n" + "\n".join(bad)


def test_allowed_follows_the_layers() -> None:
    assert allowed("cli", "experiments") and allowed("infer", "sar")
    assert not allowed("sar", "infer") and not allowed("errors", "io")
    assert not allowed("data", "infer")  # independent siblings


@pytest.mark.parametrize(
    ("victim", "line"),
    [
        ("io/raster.py", "def _sneaky():\n    from cropmap.cli import main\n"),
        ("sar/db.py", "def _sneaky():\n    import cropmap.infer.windows\n"),
    ],
)
def test_lint_imports_catches_an_upward_import_inside_a_function(
    tmp_path: Path, victim: str, line: str
) -> None:
    """A copy of the package with one upward import inside a function breaks the contract."""
    assert LINT_IMPORTS.is_file(), f"{LINT_IMPORTS} missing: run `make install` (dev extras)"
    shutil.copytree(SRC, tmp_path / "cropmap", ignore=shutil.ignore_patterns("__pycache__"))
    with open(tmp_path / "cropmap" / victim, "a", encoding="utf-8") as f:
        f.write("\n\n" + line)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    config = ROOT / "pyproject.toml"
    run = subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    importer = "cropmap." + victim.removesuffix(".py").replace("/", ".")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "BROKEN" in run.stdout and importer in run.stdout, run.stdout
