"""Training killed with SIGKILL mid-epoch resumes with ``--resume`` and ends where an
uninterrupted run with the same seed ends (same weights, within 1e-5).

The killed run is a ``cropmap train`` process; the uninterrupted reference and the
resumed run are ``cropmap train`` through its entry point in this process (one
Lightning start-up each less), all on one torch thread so that the kernels, and so the
weights, are the same.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

#: The options of every run.
ARGS = ["--bands", "VH", "--epochs", "3", "--batch-size", "2", "--seed", "7", "--patience", "10"]
ARGS += ["--progress", "none"]


def _train(store: Path, out: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "cropmap.cli.main", "train", str(store), "--out", str(out)]
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    return subprocess.Popen(
        [*cmd, *ARGS], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )


def _weights(model_dir: Path):
    from safetensors.numpy import load_file

    return load_file(model_dir / "weights.safetensors")


def _train_here(run_cli, store: Path, out: Path, *extra: str) -> None:
    """``cropmap train`` with :data:`ARGS` (and ``extra``), run in this process."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        code, out_text, err = run_cli("train", store, "--out", out, *ARGS, *extra)
    finally:
        torch.set_num_threads(threads)
    assert code == 0, out_text + err


@pytest.fixture(scope="module")
def store(tmp_path_factory, scene_builder) -> Path:
    """A 128 x 128 scene cut into 16 patches of 32 x 32 (random split)."""
    from cropmap.data import build_patches

    root = scene_builder(tmp_path_factory.mktemp("resume"), 128, 11)
    build_patches(
        root / "composite.tif", root / "labels.tif", root / "patches", size=32, split="random"
    )
    return root / "patches"


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_matches_uninterrupted(
    store: Path, tmp_path: Path, run_cli
) -> None:
    import numpy as np

    _train_here(run_cli, store, tmp_path / "ref")

    victim_dir = tmp_path / "victim"
    victim = _train(store, victim_dir)
    last = victim_dir / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 600
    while not last.exists() and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert victim.poll() is None, "training ended before it could be killed"
    time.sleep(0.3)  # into the next epoch
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert victim.returncode == -signal.SIGKILL
    assert not (victim_dir / "weights.safetensors").exists()  # no result that looks final

    _train_here(run_cli, store, victim_dir, "--resume")

    a, b = _weights(tmp_path / "ref"), _weights(victim_dir)
    assert a.keys() == b.keys()
    worst = max(float(np.abs(a[k] - b[k]).max()) for k in a)
    assert worst <= 1e-5, f"resumed weights differ from the uninterrupted run by {worst}"
