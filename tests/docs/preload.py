"""Run the docs pages' ``cropmap`` commands in forks of one process that imported cropmap.

A docs page runs dozens of ``cropmap`` commands, and most of each one's time is Python
importing torch, Lightning, scikit-learn and friends (1.5-5 s per command on the test
machine), the same modules every time. :class:`Preloaded` starts one server that
imports them once, then puts a ``cropmap`` client first on the pages' ``PATH``. The
client hands the server its argument list, folder, environment and its own stdin,
stdout and stderr (file descriptors over a Unix socket); the server forks, and the fork
runs :func:`cropmap.cli.main.main` exactly as the installed entry point does, with the
client's descriptors as its own. The client exits with the fork's exit status. Pipes,
redirections and ``$(...)`` in the pages behave as with the installed command.

What this does not check, the rest of the suite does: that the installed ``cropmap``
script starts (``tests/cli``), and which modules a command imports
(``tests/infer/test_map_commands_without_a_network_do_not_load_torch``). Set
``CROPMAP_DOCS_PRELOAD=0`` to run the pages with the installed command instead; a client
that cannot reach the server runs the installed command too.

This file is also the server's script (``python preload.py SOCKET``), so its top level
imports the standard library only: Dask's worker processes re-import it as
``__mp_main__`` when a command starts a local cluster.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import pkgutil
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

#: modules that commands import inside functions (cropmap's own modules are all imported)
HEAVY = (
    "lightning",
    "torchmetrics",
    "sklearn.ensemble",
    "onnx",
    "onnxruntime",
    "distributed",
    "matplotlib.pyplot",
    "geopandas",
    "rasterio",
)
#: environment variable naming a file each command appends its CPU seconds to
CPU_LOG = "CROPMAP_PRELOAD_CPU_LOG"
_HEADER = 8  # bytes of the payload's length, sent with the three file descriptors


def preload() -> list[str]:
    """Import every cropmap module and :data:`HEAVY`; the names that failed to import."""
    import cropmap

    failed = []
    names = [m.name for m in pkgutil.walk_packages(cropmap.__path__, "cropmap.")]
    for name in [*names, *HEAVY]:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - an optional module: its command imports it itself
            failed.append(name)
    return failed


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    """The client's request (argv, cwd, env) and its stdin, stdout, stderr descriptors."""
    header, fds, _, _ = socket.recv_fds(conn, _HEADER, 3)
    size = int.from_bytes(header, "big")
    payload = b""
    while len(payload) < size:
        chunk = conn.recv(size - len(payload))
        if not chunk:
            raise ConnectionError("the client closed before sending its request")
        payload += chunk
    return json.loads(payload), fds


def _run_main(argv: list[str]) -> int:
    """Run the CLI's entry point with ``argv``; its exit status, as the interpreter gives it."""
    from cropmap.cli.main import main

    sys.argv = ["cropmap", *argv]
    try:
        main()
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except BaseException:  # noqa: BLE001 - an uncaught error: the interpreter's message
        traceback.print_exc()
        return 1
    return 0


def _exit_with_caller(conn: socket.socket) -> None:
    """End the command when its client is gone (a page stopped): it sends nothing else."""
    with contextlib.suppress(OSError):
        if conn.recv(1):
            return
    os._exit(143)  # as a command killed by SIGTERM


def _child(conn: socket.socket) -> None:
    """In the fork: become the client's command, run it, report its status, exit."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the command may wait on its own
        request, fds = _receive(conn)
        threading.Thread(target=_exit_with_caller, args=(conn,), daemon=True).start()
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        code = _run_main(request["argv"])
        atexit._run_exitfuncs()  # what the interpreter runs at exit (os._exit below skips it)
        used = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = used.ru_utime + used.ru_stime + kids.ru_utime + kids.ru_stime
        if os.environ.get(CPU_LOG):
            with open(os.environ[CPU_LOG], "a", encoding="utf-8") as log:
                log.write(f"{cpu:.3f}\n")
    except BaseException:  # noqa: BLE001 - the fork must always reach os._exit
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(Exception):
            conn.sendall(f"{code}\n".encode())
        os._exit(code)


def serve(path: str, imports: bool = True) -> None:
    """Listen on ``path``, import everything (unless not ``imports``), fork per client."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)  # clients that come while the imports run wait in the backlog
    failed = preload() if imports else []
    if failed:
        print(f"preload: not imported (commands import them): {failed}", file=sys.stderr)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forks are reaped by the kernel
    while True:
        conn, _ = listener.accept()
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            listener.close()
            _child(conn)
        conn.close()


CLIENT = """#!{python} -S
# cropmap for the docs pages: run by the preload server (tests/docs/preload.py)
import os, socket, sys
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect({sock!r})
except OSError:
    os.execv({real!r}, [{real!r}, *sys.argv[1:]])
import json
payload = json.dumps(
    {{"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}}
).encode()
socket.send_fds(s, [len(payload).to_bytes({header}, "big")], [0, 1, 2])
s.sendall(payload)
reply = b""
while not reply.endswith(b"\\n"):
    chunk = s.recv(64)
    if not chunk:
        sys.stderr.write("cropmap (docs preload): the command's process ended without a status\\n")
        os._exit(70)
    reply += chunk
os._exit(int(reply))
"""


class Preloaded:
    """A running preload server and a folder holding its ``cropmap`` client.

    ``bin_dir`` goes first on a page's ``PATH``; :meth:`close` stops the server and every
    command it still runs (they share the server's process group). ``imports=False``
    skips the up-front imports (each command then imports what it needs: for tests).
    """

    def __init__(
        self, real_command: Path, env: dict[str, str] | None = None, imports: bool = True
    ) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="cropmap-preload-"))
        self.socket = str(self.dir / "server.sock")
        self.bin_dir = self.dir / "bin"
        self.bin_dir.mkdir()
        client = self.bin_dir / "cropmap"
        client.write_text(
            CLIENT.format(
                python=sys.executable, sock=self.socket, real=str(real_command), header=_HEADER
            )
        )
        client.chmod(0o755)
        self.log = self.dir / "server.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, self.socket, *([] if imports else ["--no-imports"])],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,  # what libraries read at import (OMP_NUM_THREADS) as the pages set it
                start_new_session=True,  # close() stops it and its forks as one group
            )
        deadline = time.monotonic() + 30
        while not os.path.exists(self.socket):  # bound before it imports: clients can queue
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"preload server did not start: {self.log.read_text()}")
            time.sleep(0.02)

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


if __name__ == "__main__":
    serve(sys.argv[1], imports="--no-imports" not in sys.argv[2:])
