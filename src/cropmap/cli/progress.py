"""The one progress display of every CLI command.

On a terminal it is a transient rich bar on stderr (one per stage). When stderr is not a
terminal (``make demo > log 2>&1``, CI, nohup) it prints plain lines instead, one when
the run starts, then one every ``every_pct`` percent or every ``every_s`` seconds,
whichever comes first, and one at the end; a run that goes quiet (a long step without
ticks) still gets a line every ``heartbeat_s`` seconds::

    composite: started
    composite: 12/48 windows (25%) 00:31 elapsed
    composite: done, 48/48 windows in 02:04

Warnings raised while it runs are printed after it, one ``warning:`` line each, so
that a bar never tears them apart.

Usage::

    with progress("composite", unit="windows") as bar:
        composite_folder(..., progress=bar)          # bar(done, total)
    with progress("experiment") as bar:
        run_experiment(..., progress=bar.stage)     # bar.stage(stage, done, total, text)
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TextIO

import typer


def _clock(seconds: float) -> str:
    """``mm:ss`` (or ``h:mm:ss`` from one hour on)."""
    s = int(seconds)
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"


def _count(done: int, total: int, unit: str) -> str:
    """``12/48 windows``; pixels in Mpx (``1.2/10.0 Mpx``); ``12`` when total is unknown."""
    if unit == "px":
        return f"{done / 1e6:,.1f}/{total / 1e6:,.1f} Mpx" if total else f"{done / 1e6:,.1f} Mpx"
    count = f"{done:,}/{total:,}" if total else f"{done:,}"
    return f"{count} {unit}" if unit else count


class Progress:
    """Progress of one command: call it as ``bar(done, total)``, or ``bar.stage(...)``.

    Args:
        label: the command or step, printed first on every plain line.
        unit: what is counted (``windows``, ``patches``, ``px``; ``px`` also shows a rate).
        terminal: draw a rich bar (True) or print plain lines (False); None: whether
            ``stream`` is a terminal.
        stream: where to write (default: the current ``sys.stderr``).
        every_pct: plain mode, print at every multiple of this percentage.
        every_s: plain mode, print at least this often, in seconds, while ticks arrive.
        heartbeat_s: plain mode, print the current state when nothing was printed for
            this long, in seconds, even without ticks (0: never).
        min_gap_s: plain mode, seconds between two percentage lines at least (a short
            run prints only its start and end lines).
        clock: seconds since an arbitrary start (injectable for tests).
    """

    def __init__(
        self,
        label: str,
        *,
        unit: str = "",
        terminal: bool | None = None,
        stream: TextIO | None = None,
        every_pct: float = 10.0,
        every_s: float = 10.0,
        heartbeat_s: float = 30.0,
        min_gap_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label, self.unit = label, unit
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.every_pct, self.every_s, self.clock = every_pct, every_s, clock
        self.start = clock()
        self._last: dict[str, tuple[float, float]] = {}  # stage -> (time, percent) printed
        self._state: dict[str, tuple[int, int, str]] = {}  # stage -> (done, total, text)
        self._bar: Any = None
        self._tasks: dict[str, Any] = {}
        self.heartbeat_s = heartbeat_s
        self.min_gap_s = min_gap_s
        self._printed = self.start  # clock() of the last plain line
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------
    def __enter__(self) -> Progress:
        if self.terminal:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[extra]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(file=self.stream, force_terminal=True),
                transient=True,
            )
            self._bar.__enter__()
            self._tasks[""] = self._bar.add_task(self.label, total=None, extra="")
        else:
            self._print(f"{self.label}: started")
            if self.heartbeat_s > 0:
                self._beat = threading.Thread(target=self._heartbeat, daemon=True)
                self._beat.start()
        return self

    def _heartbeat(self) -> None:
        """Plain mode: print the state when the run has been quiet for ``heartbeat_s``."""
        while not self._stop.wait(min(self.heartbeat_s, 1.0)):
            if self.clock() - self._printed >= self.heartbeat_s:
                states = dict(self._state) or {"": (0, 0, "")}
                for stage, (done, total, text) in states.items():
                    self._print(self._line(stage, done, total, text))

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        if self._bar is not None:
            self._bar.__exit__(exc_type, exc, tb)
            self._bar = None
        elif exc_type is None:
            for stage, (done, total, text) in self._state.items():
                if stage:
                    self._print(self._line(stage, done, total, text, final=True))
            self._print(self._line("", *self._state.get("", (0, 0, "")), final=True))

    # -- ticks ----------------------------------------------------------------------
    def __call__(self, done: int, total: int | None) -> None:
        """One step of the single task: ``done`` of ``total`` units (total None: unknown)."""
        self.stage("", done, total)

    def stage(self, stage: str, done: int, total: int | None, text: str = "") -> None:
        """One step of a named stage (the experiment runner's ``progress`` callback)."""
        total = int(total or 0)
        self._state[stage] = (int(done), total, text)
        if self._bar is not None:
            self._update_bar(stage, int(done), total, text)
            return
        now = self.clock()
        pct = 100.0 * done / total if total else 0.0
        last_t, last_pct = self._last.get(stage, (self.start, 0.0))
        step = (pct // self.every_pct) > (last_pct // self.every_pct)
        if (step and now - last_t >= self.min_gap_s) or now - last_t >= self.every_s:
            self._last[stage] = (now, pct)
            if done < total or not total:  # the final line comes from __exit__
                self._print(self._line(stage, int(done), total, text))

    def _update_bar(self, stage: str, done: int, total: int, text: str) -> None:
        bar = self._bar
        if stage and "" in self._tasks and "" not in self._state:  # stages replace the spinner
            bar.remove_task(self._tasks.pop(""))
        if stage not in self._tasks:
            name = f"{self.label} {stage}".strip()
            self._tasks[stage] = bar.add_task(name, total=total or None, extra="")
        task = self._tasks[stage]
        extra = text
        if self.unit == "px":
            elapsed = bar.tasks[task].elapsed or 0.0
            extra = f"{done / elapsed / 1e3:,.1f} kpx/s" if elapsed > 0 else ""
        bar.update(task, completed=done, total=total or None, extra=extra)

    # -- plain lines ----------------------------------------------------------------
    def _line(self, stage: str, done: int, total: int, text: str, final: bool = False) -> str:
        elapsed = self.clock() - self.start
        head = f"{self.label} {stage}".strip() + ": "
        if not total and not done:
            return head + (f"done in {_clock(elapsed)}" if final else f"{_clock(elapsed)} elapsed")
        count = _count(done, total, self.unit)
        pct = f" ({100 * done // total}%)" if total else ""
        rate = ""
        if self.unit == "px" and elapsed > 0 and done:
            rate = f", {done / elapsed / 1e3:,.1f} kpx/s"
        what = f" {text}" if text else ""
        if final:
            return f"{head}done, {count}{pct}{what} in {_clock(elapsed)}{rate}"
        return f"{head}{count}{pct}{what} {_clock(elapsed)} elapsed{rate}"

    def _print(self, line: str) -> None:
        with self._lock:
            self._printed = self.clock()
            print(line, file=self.stream, flush=True)


@contextlib.contextmanager
def progress(label: str, *, unit: str = "", **kwargs: Any) -> Iterator[Progress]:
    """A :class:`Progress` for the block; warnings raised inside are printed after it.

    Keyword arguments go to :class:`Progress` (``terminal``, ``stream``, ``every_pct``,
    ``every_s``, ``clock``).
    """
    from cropmap.errors import CropmapWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CropmapWarning)
        with Progress(label, unit=unit, **kwargs) as bar:
            yield bar
    for w in caught:
        typer.secho(f"warning: {w.message}", err=True, fg="yellow")
