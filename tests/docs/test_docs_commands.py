"""Every shell block of README.md and docs/*.md runs, top to bottom, as written.

Each page runs in one ``bash`` (``set -eo pipefail``) in a fresh temporary folder, so a
block may use what the blocks above it made, and nothing else. Blocks fenced as
``bash``, ``sh``, ``shell`` or ``console`` (lines after a ``$`` prompt) run; every other
fence must name its language (``text`` for what does not run: synopses with
placeholders, commands that need the internet or a GPU). The commands honour the
documented size variables (README, "Trying the docs quickly"): this test sets
:data:`SMALL` and nothing page-specific.

A failure names the page, the line of the failing command, the command and the end of
its output, so whoever edits a page can fix their own block.

The pages are the slowest tests and mostly wait on single-threaded commands, so they
start in the background as soon as collection ends (``tests/docs/conftest.py`` calls
:func:`start_page_runs`) and run beside the rest of the suite; their tests are moved to
the end of the session, where they collect the results. Their ``cropmap`` commands run
in forks of one process that imported cropmap, torch and Lightning once (``preload.py``):
imports were most of the pages' time (the pages alone: 149 s -> 52 s wall, 2026-12-02).
``CROPMAP_DOCS_PRELOAD=0`` runs the installed command instead.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # not a package (--import-mode=importlib)
from preload import CPU_LOG, Preloaded  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN = {"bash", "sh", "shell", "console"}
#: the README's documented small-scene switch, as a reader would export it
SMALL = {"SIZE": "256", "PATCH": "64", "EPOCHS": "1", "TREES": "20"}
#: seconds a page may take before the test says which page to make smaller
PAGE_TIMEOUT_S = 1800
#: pages run at once, each in its own folder (commands are mostly single-threaded). Three
#: pages at a time at a lower CPU priority (nice 10) was tried on 2026-12-02: fresh-clone
#: `make test` took 5 min 17 s against 5 min 4 s with two at equal priority.
PARALLEL_PAGES = 2
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)(?P<info>.*)$")


@dataclass
class Block:
    """One fenced block: its language, the line of its first content line, its lines."""

    lang: str
    line: int
    lines: list[str]


def parse_blocks(text: str) -> list[Block]:
    """Fenced blocks of a Markdown text (1-based line numbers, indentation removed)."""
    blocks: list[Block] = []
    open_: tuple[str, str, str, int] | None = None  # (indent, fence, lang, line)
    body: list[str] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        m = FENCE.match(raw)
        if open_ is None:
            if m:
                lang = m["info"].strip().split(" ")[0].lower() if m["info"].strip() else ""
                open_, body = (m["indent"], m["fence"], lang, n + 1), []
            continue
        indent, fence, lang, first = open_
        closing = m and not m["info"].strip() and m["fence"][0] == fence[0]
        if closing and len(m["fence"]) >= len(fence):
            blocks.append(Block(lang, first, body))
            open_ = None
            continue
        body.append(raw[len(indent) :] if raw.startswith(indent) else raw.lstrip())
    if open_ is not None:
        raise AssertionError(f"fence opened at line {open_[3] - 1} is never closed")
    return blocks


def shell_lines(block: Block) -> list[str]:
    """The block's lines as bash runs them (console: prompt lines only; output blanked)."""
    if block.lang != "console":
        return list(block.lines)
    out, cont = [], False
    for line in block.lines:
        if line.startswith("$ ") or cont:
            cmd = line[2:] if line.startswith("$ ") and not cont else line
            out.append(cmd)
            cont = cmd.rstrip().endswith("\\")
        else:
            out.append("")
    return out


def page_script(text: str) -> str:
    """A bash script whose line N is line N of the page (blank outside shell blocks)."""
    lines = [""] * (len(text.splitlines()) + 1)
    lines[0] = (
        "set -eo pipefail; "
        'trap \'rc=$?; printf "%s\\n%s\\n%s\\n" "$LINENO" "$rc" "$BASH_COMMAND" '
        '> "$DOCS_FAILED"\' ERR'
    )
    for block in parse_blocks(text):
        if block.lang in RUN:
            for i, line in enumerate(shell_lines(block)):
                lines[block.line - 1 + i] = line
    lines.append('times > "$DOCS_FAILED.times"')  # CPU seconds of this page's commands
    return "\n".join(lines) + "\n"


def _command_at(text: str, line: int) -> str:
    """The command starting at ``line`` as written (continuation lines joined)."""
    src = text.splitlines()
    out = [src[line - 1].strip()]
    i = line
    while out[-1].endswith("\\") and i < len(src):
        out.append(src[i].strip())
        i += 1
    return " ".join(out)


def _block_of(text: str, line: int) -> Block | None:
    for b in parse_blocks(text):
        if b.line <= line < b.line + len(b.lines):
            return b
    return None


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_fence_names_its_language(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    bare = [b.line - 1 for b in parse_blocks(text) if not b.lang]
    assert not bare, (
        f"{page.relative_to(ROOT)}: fences at lines {bare} name no language; use bash to run "
        "the block in the docs test, text for synopses and commands that cannot run here"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_python_blocks_parse(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for b in parse_blocks(text):
        if b.lang == "python":
            try:
                ast.parse("\n".join(b.lines))
            except SyntaxError as exc:
                line = b.line + (exc.lineno or 1) - 1
                pytest.fail(f"{page.relative_to(ROOT)}:{line}: python block: {exc.msg}")


def _cpu_seconds(failed: Path) -> float:
    """User + system seconds of the commands a page ran.

    Bash's ``times`` (children line, in ``FAILED.times``) counts the commands it started;
    commands run by the preload server add theirs to ``FAILED.cpu``.
    """
    times_file, forks = Path(f"{failed}.times"), Path(f"{failed}.cpu")
    lines = times_file.read_text().split("\n") if times_file.is_file() else []
    if len(lines) < 2:
        return float("nan")
    total = 0.0
    for field in lines[1].split():
        m = re.fullmatch(r"(\d+)m([\d.]+)s", field)
        total += int(m[1]) * 60 + float(m[2]) if m else 0.0
    if forks.is_file():
        total += sum(float(x) for x in forks.read_text().split())
    return total


def page_env(failed: Path, bin_dirs: list[Path] | None = None) -> dict[str, str]:
    """The environment a page runs in: :data:`SMALL`, this venv's commands first on PATH."""
    bins = [*map(str, bin_dirs or []), str(Path(sys.executable).parent)]
    return {
        **os.environ,
        **SMALL,
        "PATH": os.pathsep.join([*bins, os.environ.get("PATH", "")]),
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),  # pages run side by side
        "DOCS_FAILED": str(failed),
        CPU_LOG: f"{failed}.cpu",
    }


def run_page(
    text: str,
    name: str,
    tmp: Path,
    live: set[subprocess.Popen] | None = None,
    notes: list[str] | None = None,
    preloaded: Preloaded | None = None,
) -> str | None:
    """Run a page's shell blocks in ``tmp/work``; ``None`` if all pass, else the failure.

    The failure names the page, the line of the failing command, its block and the
    command as written, then the end of the shell's output. ``live`` (if given) holds
    the page's shell while it runs, so that :class:`PageRuns` can stop it. The page's
    time is printed, or appended to ``notes`` when given: a background thread must not
    print, as its line would land in the output another test is capturing.
    """
    script = tmp / "page.sh"
    script.write_text(page_script(text), encoding="utf-8")
    work = tmp / "work"
    work.mkdir()
    failed = tmp / "failed"
    env = page_env(failed, [preloaded.bin_dir] if preloaded else None)
    start = time.perf_counter()
    proc = subprocess.Popen(
        ["bash", str(script)],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # one process group: stopping the page stops its commands
    )
    if live is not None:
        live.add(proc)
    try:
        stdout, _ = proc.communicate(timeout=PAGE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _stop(proc)
        out, _ = proc.communicate()
        return (
            f"{name}: its shell blocks took over {PAGE_TIMEOUT_S} s with {SMALL}; make the "
            f"slow commands take the size variables.\n{out[-2000:]}"
        )
    finally:
        if live is not None:
            live.discard(proc)
    run = subprocess.CompletedProcess(proc.args, proc.returncode, stdout)
    seconds = time.perf_counter() - start
    if run.returncode == 0:
        cpu = _cpu_seconds(failed)
        line = f"{name}: all shell blocks ran in {seconds:.0f} s wall, {cpu:.0f} s CPU"
        if notes is None:
            print(line)
        else:
            notes.append(line)
        return None
    tail = "\n".join("    " + line for line in run.stdout.strip().splitlines()[-30:])
    if not failed.is_file():
        return f"{name}: bash exited {run.returncode}\n{tail}"
    line_s, rc = failed.read_text().split("\n")[:2]
    line = int(line_s)
    block = _block_of(text, line)
    where = f" (block from line {block.line - 1})" if block else ""
    return (
        f"{name}:{line}{where}: exit {rc}: {_command_at(text, line)}\n"
        f"(run in an empty folder after the page's blocks above it, with {SMALL})\n"
        f"--- last output ---\n{tail}"
    )


def _stop(proc: subprocess.Popen) -> None:
    """Kill a page's shell and every command it started (its process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


#: name of the page-run tests (the conftest moves them to the end of the session)
PAGE_TEST = "test_shell_blocks_run_top_to_bottom"
PAGE_RUNS = pytest.StashKey["PageRuns"]()


class PageRuns:
    """The selected pages' runs, :data:`PARALLEL_PAGES` at a time, in the background.

    Each page runs in a fresh folder under the system's temporary folder, removed when
    the page passes (kept, and named in the failure, when it fails). The pages' ``cropmap``
    commands run in forks of one preloaded process (``preload.py``; not with
    ``CROPMAP_DOCS_PRELOAD=0``).
    """

    def __init__(self, pages: list[Path]) -> None:
        self.preloaded: Preloaded | None = None
        if os.environ.get("CROPMAP_DOCS_PRELOAD", "1") != "0":
            real = Path(sys.executable).with_name("cropmap")
            env = page_env(Path(os.devnull))  # what libraries read at import, as pages set it
            for per_page in ("DOCS_FAILED", CPU_LOG):
                env.pop(per_page)
            self.preloaded = Preloaded(real, env=env)
        self.pool = ThreadPoolExecutor(PARALLEL_PAGES, thread_name_prefix="docs-page")
        self.live: set[subprocess.Popen] = set()
        self.runs: dict[Path, Future[str | None]] = {}
        self.notes: dict[Path, list[str]] = {}  # printed by the page's test, not the thread
        self.closed = threading.Event()
        longest_first = sorted(pages, key=lambda p: -len(p.read_text(encoding="utf-8")))
        for page in longest_first:  # the longest pages finish last if started last
            text = page.read_text(encoding="utf-8")
            if any(b.lang in RUN for b in parse_blocks(text)):
                self.runs[page] = self.pool.submit(self._run, page, text)

    def _run(self, page: Path, text: str) -> str | None:
        if self.closed.is_set():
            return "the session ended before this page ran"
        name = page.relative_to(ROOT).as_posix()
        tmp = Path(tempfile.mkdtemp(prefix=f"cropmap-docs-{page.stem}-"))
        notes = self.notes.setdefault(page, [])
        failure = run_page(text, name, tmp, self.live, notes, self.preloaded)
        if failure is None:
            shutil.rmtree(tmp, ignore_errors=True)
            return None
        return f"{failure}\n(the page's folder: {tmp / 'work'})"

    def close(self) -> None:
        """Stop what still runs (a session ended early, e.g. by ``-x``) and wait."""
        self.closed.set()
        for proc in list(self.live):
            _stop(proc)
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self.preloaded is not None:
            self.preloaded.close()


def start_page_runs(session: pytest.Session) -> None:
    """Start the selected page-run tests' pages (the conftest calls this after collection)."""
    pages = [
        item.callspec.params["page"]
        for item in session.items
        if getattr(item, "originalname", "") == PAGE_TEST
    ]
    if pages and PAGE_RUNS not in session.config.stash:
        session.config.stash[PAGE_RUNS] = PageRuns(pages)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shell_blocks_run_top_to_bottom(
    page: Path, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The page's shell blocks, in order, in one shell, in an empty folder of its own."""
    text = page.read_text(encoding="utf-8")
    if not any(b.lang in RUN for b in parse_blocks(text)):
        return  # a page without shell blocks has nothing to run (its fences are checked)
    runs = request.config.stash.get(PAGE_RUNS, None)
    if runs is not None and page in runs.runs:
        failure = runs.runs[page].result()
        for line in runs.notes.get(page, []):
            print(line)
    else:  # started without the conftest's hooks: run it here
        failure = run_page(text, page.relative_to(ROOT).as_posix(), tmp_path)
    if failure:
        pytest.fail(failure, pytrace=False)


FAKE_PAGE = """# A page

```bash
mkdir made
X=1
```

Text, then a console block that uses the folder and the variable made above.

```console
$ test -d made && echo "made $X"
made 1
$ ls made/missing \\
    --color=never
```
"""


def test_runner_names_the_page_line_and_command(tmp_path: Path) -> None:
    """Blocks share one shell; a failure names page, line, block and command."""
    failure = run_page(FAKE_PAGE, "fake.md", tmp_path)
    assert failure is not None
    first = failure.splitlines()[0]
    assert first == "fake.md:13 (block from line 10): exit 2: $ ls made/missing \\ --color=never"
    assert "made 1" in failure  # the console command before it ran, with the variable
