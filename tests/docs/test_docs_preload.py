"""The docs pages' preloaded ``cropmap`` behaves as the installed command (preload.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cropmap import __version__

sys.path.insert(0, str(Path(__file__).parent))  # not a package (--import-mode=importlib)
from preload import Preloaded  # noqa: E402

REAL = Path(sys.executable).with_name("cropmap")


@pytest.fixture(scope="module")
def server() -> Iterator[Preloaded]:
    preloaded = Preloaded(REAL, imports=False)  # each fork imports the CLI: ~1 s, not ~10
    yield preloaded
    preloaded.close()


def _bash(script: str, preloaded: Preloaded, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    path = f"{preloaded.bin_dir}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        env={**os.environ, **env, "PATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_client_is_what_bash_finds(server: Preloaded, tmp_path: Path) -> None:
    run = _bash("command -v cropmap", server, tmp_path)
    assert run.stdout.strip() == str(server.bin_dir / "cropmap")


def test_output_pipes_folder_and_status_are_the_callers(server: Preloaded, tmp_path: Path) -> None:
    run = _bash(
        "cropmap --version > v.txt && tr a-z A-Z < v.txt; cropmap --version | wc -l;"
        " cropmap simulate --size abc; echo status=$?",
        server,
        tmp_path,
    )
    assert (tmp_path / "v.txt").read_text() == f"cropmap {__version__}\n"  # the caller's folder
    assert run.stdout.split() == ["CROPMAP", __version__.upper(), "1", "status=2"]
    assert "--size: 'abc' is invalid" in run.stderr  # the fork's stderr is the caller's


def test_environment_is_the_callers(server: Preloaded, tmp_path: Path) -> None:
    """A variable set in the calling shell reaches the command (here: the CPU log)."""
    log = tmp_path / "cpu.log"
    run = _bash("cropmap --version", server, tmp_path, CROPMAP_PRELOAD_CPU_LOG=str(log))
    assert run.returncode == 0, run.stderr
    assert float(log.read_text()) > 0  # the fork wrote its CPU seconds where the env said


def test_without_the_server_the_installed_command_runs(tmp_path: Path) -> None:
    gone = Preloaded(REAL, imports=False)
    client = (gone.bin_dir / "cropmap").read_text()
    gone.close()
    stale = tmp_path / "bin" / "cropmap"
    stale.parent.mkdir()
    stale.write_text(client)
    stale.chmod(0o755)
    run = subprocess.run([str(stale), "--version"], capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stdout) == (0, f"cropmap {__version__}\n")


def test_a_command_whose_caller_is_killed_stops(server: Preloaded, tmp_path: Path) -> None:
    """A stopped page leaves no command running: the fork ends when its client is gone."""
    client = subprocess.Popen(
        [
            str(server.bin_dir / "cropmap"),
            "simulate",
            "--region",
            "korea",
            "--size",
            "4096",
            "--out",
            "big",
        ],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    group = ["pgrep", "-g", str(server.proc.pid)]  # the server and its forks
    deadline = time.monotonic() + 30
    while len(subprocess.run(group, capture_output=True, text=True).stdout.split()) < 2:
        assert time.monotonic() < deadline, "the command never started"
        time.sleep(0.05)
    time.sleep(0.5)
    assert client.poll() is None, "the command ended by itself: this test needs a longer one"
    client.kill()
    client.wait()
    deadline = time.monotonic() + 30
    while len(subprocess.run(group, capture_output=True, text=True).stdout.split()) > 1:
        assert time.monotonic() < deadline, "the command outlived its caller"
        time.sleep(0.05)
