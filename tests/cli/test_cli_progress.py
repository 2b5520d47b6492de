"""The one progress helper: a rich bar on a terminal, plain periodic lines in a log."""

from __future__ import annotations

import io
import re
import time
import warnings

from cropmap.cli.progress import Progress, progress
from cropmap.errors import CropmapWarning


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _plain(label: str = "composite", **kw) -> tuple[Progress, io.StringIO, FakeClock]:
    stream, clock = io.StringIO(), FakeClock()
    kw.setdefault("heartbeat_s", 0)
    bar = Progress(label, terminal=False, stream=stream, clock=clock, **kw)
    return bar, stream, clock


def test_plain_mode_prints_every_ten_percent_and_a_final_line() -> None:
    bar, stream, clock = _plain(unit="windows", every_s=1e9)
    with bar:
        for done in range(1, 49):
            clock.t += 1
            bar(done, 48)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "composite: started"
    assert lines[-1] == "composite: done, 48/48 windows (100%) in 00:48"
    periodic = lines[1:-1]
    assert len(periodic) == 9, lines  # 10%, 20%, ..., 90%
    assert periodic[2] == "composite: 15/48 windows (31%) 00:15 elapsed"
    assert all(
        re.fullmatch(r"composite: \d+/48 windows \(\d+%\) 00:\d\d elapsed", ln) for ln in periodic
    )


def test_plain_mode_prints_every_n_seconds_without_percent_steps() -> None:
    bar, stream, clock = _plain(label="train", every_s=10, every_pct=100)
    with bar:
        for done in range(1, 61):
            clock.t += 1
            bar(done, 1000)
    lines = stream.getvalue().splitlines()[1:-1]
    assert [ln.split()[1] for ln in lines] == [
        "10/1,000",
        "20/1,000",
        "30/1,000",
        "40/1,000",
        "50/1,000",
        "60/1,000",
    ]


def test_plain_mode_counts_pixels_in_megapixels_with_a_rate() -> None:
    bar, stream, clock = _plain(label="predict", unit="px", every_pct=50, every_s=1e9)
    with bar:
        clock.t += 2
        bar(6_000_000, 10_000_000)
    lines = stream.getvalue().splitlines()
    assert lines[1] == "predict: 6.0/10.0 Mpx (60%) 00:02 elapsed, 3,000.0 kpx/s"


def test_plain_mode_stages_each_get_lines() -> None:
    bar, stream, clock = _plain(label="experiment", every_s=1e9, every_pct=50)
    with bar:
        clock.t += 5
        bar.stage("data", 1, 2, "preparing region spain")
        bar.stage("cells", 1, 4, "FT_E spain")
        bar.stage("cells", 2, 4, "FT spain")
    text = stream.getvalue()
    assert "experiment data: 1/2 (50%) preparing region spain 00:05 elapsed" in text
    assert "experiment cells: 2/4 (50%) FT spain 00:05 elapsed" in text
    assert text.splitlines()[-1] == "experiment: done in 00:05"


def test_heartbeat_keeps_a_quiet_run_visible() -> None:
    stream = io.StringIO()
    with Progress("baseline", terminal=False, stream=stream, heartbeat_s=0.05):
        time.sleep(0.3)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "baseline: started" and lines[-1].startswith("baseline: done in")
    assert any(ln.endswith("elapsed") for ln in lines[1:-1]), lines


def test_terminal_mode_draws_a_bar_and_no_plain_lines() -> None:
    stream = io.StringIO()
    with Progress("composite", unit="windows", terminal=True, stream=stream) as bar:
        for done in range(1, 5):
            bar(done, 4)
    text = stream.getvalue()
    assert "\x1b[" in text  # rich's cursor and colour codes
    assert "started" not in text and "elapsed" not in text


def test_terminal_is_detected_from_the_stream() -> None:
    assert Progress("x", stream=io.StringIO()).terminal is False


def test_warnings_are_printed_after_the_progress(capsys) -> None:
    with progress("composite", terminal=False, heartbeat_s=0):
        warnings.warn("period P3 has no acquisition", CropmapWarning, stacklevel=1)
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == "warning: period P3 has no acquisition"
    assert err[-2].startswith("composite: done")


def test_plain_mode_keeps_a_short_run_to_its_start_and_end_lines() -> None:
    bar, stream, clock = _plain(unit="windows")
    with bar:
        for done in range(1, 49):
            clock.t += 0.01
            bar(done, 48)
    assert stream.getvalue().splitlines() == [
        "composite: started",
        "composite: done, 48/48 windows (100%) in 00:00",
    ]
