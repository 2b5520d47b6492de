"""A tiny simulated scene shared by the robustness tests, plus a CLI runner."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


def build_scene(root: Path, size: int, seed: int) -> Path:
    """Simulate a Korea-like scene in ``root``, composite it and rasterize its labels."""
    import warnings

    from cropmap.data import rasterize_parcels
    from cropmap.sar import composite_folder
    from cropmap.simulate import simulate_scene

    simulate_scene("korea", size, 2022, seed, root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        composite_folder(root / "s1", "korea-rice", root / "composite.tif", units="linear")
        rasterize_parcels(root / "parcels.gpkg", root / "composite.tif", root / "labels.tif")
    return root


@pytest.fixture(scope="session")
def scene_builder() -> Callable[[Path, int, int], Path]:
    """:func:`build_scene`, for tests that need a scene of their own size."""
    return build_scene


@pytest.fixture(scope="session")
def tiny_scene(tmp_path_factory) -> Path:
    """A 64 x 64 Korea-like scene: s1/ dates, parcels.gpkg, composite.tif, labels.tif."""
    return build_scene(tmp_path_factory.mktemp("scene"), 64, 3)


@pytest.fixture
def scene_copy(tiny_scene: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny scene that a test may damage."""
    dst = tmp_path / "scene"
    shutil.copytree(tiny_scene, dst)
    return dst


@pytest.fixture
def run_cli(monkeypatch, capsys) -> Callable[..., tuple[int, str, str]]:
    """Run ``cropmap ARGS`` in-process through its real entry point; return (code, out, err)."""
    from cropmap.cli.main import main

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["cropmap", *map(str, args)])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
