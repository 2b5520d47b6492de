"""Training killed with SIGKILL mid-epoch resumes with ``--resume`` and ends where an
uninterrupted run with the same seed ends (same weights, within 1e-5).

The killed and the resumed runs are ``cropmap train`` processes; the uninterrupted
reference runs the same configuration in this process (one Lightning start-up less),
all on one torch thread so that the kernels, and so the weights, are the same.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

#: The training configuration of every run (TrainConfig fields), and its CLI spelling.
CONFIG = {"max_epochs": 3, "batch_size": 2, "seed": 7, "patience": 10, "progress": "none"}
OPTIONS = {"max_epochs": "--epochs", "batch_size": "--batch-size"}
ARGS = ["--bands", "VH"]
for field, value in CONFIG.items():
    ARGS += [OPTIONS.get(field, f"--{field}"), str(value)]


def _train(store: Path, out: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "cropmap.cli.main", "train", str(store), "--out", str(out)]
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
    return subprocess.Popen(
        [*cmd, *ARGS, *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )


def _weights(model_dir: Path):
    from safetensors.numpy import load_file

    return load_file(model_dir / "weights.safetensors")


def _train_here(store: Path, out: Path) -> None:
    """The reference: ``cropmap train`` with :data:`CONFIG`, run in this process."""
    import torch

    from cropmap.train.store import train_on_store
    from cropmap.train.trainer import TrainConfig

    cfg = TrainConfig(**CONFIG)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train_on_store(store, out, bands=["VH"], cfg=cfg)
    finally:
        torch.set_num_threads(threads)


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
def test_sigkill_mid_epoch_then_resume_matches_uninterrupted(store: Path, tmp_path: Path) -> None:
    import numpy as np

    _train_here(store, tmp_path / "ref")

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

    resumed = _train(store, victim_dir, "--resume")
    out, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, out.decode()

    a, b = _weights(tmp_path / "ref"), _weights(victim_dir)
    assert a.keys() == b.keys()
    worst = max(float(np.abs(a[k] - b[k]).max()) for k in a)
    assert worst <= 1e-5, f"resumed weights differ from the uninterrupted run by {worst}"
