"""Progress display: the live table on a terminal, plain lines elsewhere, NO_COLOR honoured."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Literal

import pytest
from rich.console import Console

from vidpipe.display import LiveDisplay, PlainDisplay, display_for
from vidpipe.events import ShotEvent
from vidpipe.states import ShotState

from .test_cli import TINY

SGR = re.compile(r"\x1b\[([0-9;]*)m")
CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def visible(text: str) -> str:
    """`text` without terminal control sequences (styles, cursor moves)."""
    return CSI.sub("", text)


def colour_codes(text: str) -> list[str]:
    """The SGR sequences in `text` that set a foreground or background colour."""
    found = []
    for params in SGR.findall(text):
        numbers = [int(p) for p in params.split(";") if p]
        if any(30 <= n <= 49 or 90 <= n <= 107 for n in numbers):
            found.append(params)
    return found


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def terminal(color_system: Literal["standard", "truecolor"]) -> tuple[Console, io.StringIO]:
    """A console that believes it is a 120-column terminal, writing into a buffer."""
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=color_system)
    return console, buffer


def drive(display: LiveDisplay, clock: Clock) -> str:
    """A run of three shots; returns the frame drawn while `a` was at 42 %."""
    buffer = display.console.file
    assert isinstance(buffer, io.StringIO)
    with display:
        display(ShotEvent("a", ShotState.SUBMITTING))
        display(ShotEvent("a", ShotState.QUEUED, task_id="video_a1"))
        display(ShotEvent("b", ShotState.QUEUED, task_id="task_b2"))
        clock.now += 2
        display(ShotEvent("a", ShotState.RUNNING, progress=42, task_id="video_a1"))
        display(
            ShotEvent("b", ShotState.DOWNLOADING, progress=80)
        )  # no task id: the known one stays
        display.live.refresh()
        middle = visible(buffer.getvalue())
        clock.now += 3
        display(ShotEvent("a", ShotState.DONE, progress=100, task_id="video_a1"))
        display(
            ShotEvent("b", ShotState.FAILED, message="the provider failed task task_b2: no luck")
        )
        display(ShotEvent("c", ShotState.SKIPPED, message="remix source b not done"))
    return middle


def test_the_live_table_shows_each_shot_as_it_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    console, buffer = terminal(color_system="standard")
    clock = Clock()
    middle = drive(LiveDisplay(["a", "b", "c"], console, clock=clock), clock)
    raw = buffer.getvalue()

    rows = {line.split()[0]: line for line in middle.splitlines() if line.split()}
    assert re.search(r"shot\s+state\s+progress\s+time\s+task\s+note", middle)
    assert re.search(r"\ba\s+running  42 %\s+━+.*\s+2\.0s\s+video_a1", middle)
    assert re.search(r"\bb\s+downloading  80 %\s+━+.*\s+2\.0s\s+task_b2", middle)
    assert "pending" in rows["c"]
    assert "0/3 finished · 2.0 s" in middle

    final = visible(raw)[len(middle) :]
    assert re.search(r"\ba\s+done\s+━+\s+5\.0s\s+video_a1", final)
    assert re.search(r"\bb\s+failed\s+5\.0s\s+task_b2\s+the provider failed task task_b2", final)
    assert re.search(r"\bc\s+skipped\s+0\.0s\s+remix source b not done", final)
    assert "3/3 finished, 2 not done · 5.0 s" in final
    # Colours mark the states when colour is allowed.
    assert "32" in colour_codes(raw) and "1;31" in colour_codes(raw)


def test_no_color_gives_a_table_without_colour_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    console, buffer = terminal(color_system="truecolor")
    clock = Clock()
    drive(LiveDisplay(["a", "b", "c"], console, clock=clock), clock)
    output = buffer.getvalue()
    assert "running  42 %" in visible(output) and "failed" in visible(output)
    assert colour_codes(output) == []
    # The display's own console (on stderr) reads NO_COLOR too.
    assert LiveDisplay(["a"]).console.no_color


def test_plain_lines_per_phase_and_per_quarter_of_progress() -> None:
    stream = io.StringIO()
    clock = Clock()
    display = PlainDisplay(["a", "long-name"], stream, clock=clock)
    events = [
        ShotEvent("a", ShotState.PENDING),
        ShotEvent("a", ShotState.SUBMITTING),
        ShotEvent("a", ShotState.QUEUED, task_id="video_1"),
        ShotEvent("a", ShotState.QUEUED, progress=0, task_id="video_1"),
        ShotEvent("a", ShotState.RUNNING, progress=10, task_id="video_1"),
        ShotEvent("a", ShotState.RUNNING, progress=20, task_id="video_1"),
        ShotEvent("a", ShotState.RUNNING, progress=55, task_id="video_1"),
        ShotEvent("a", ShotState.DOWNLOADING, task_id="video_1"),
        ShotEvent("a", ShotState.DOWNLOADING, progress=50, task_id="video_1"),
        ShotEvent("a", ShotState.DONE, progress=100, task_id="video_1"),
        ShotEvent("long-name", ShotState.FAILED, message="the provider failed task t: boom"),
    ]
    for event in events:
        clock.now += 0.5
        display(event)
    assert stream.getvalue().splitlines() == [
        "[   1.0s] a          submitting",
        "[   1.5s] a          queued  task video_1",
        "[   2.5s] a          running  10 %",
        "[   3.5s] a          running  55 %",
        "[   4.0s] a          downloading",
        "[   5.0s] a          done",
        "[   5.5s] long-name  failed  the provider failed task t: boom",
    ]


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_a_terminal_gets_the_live_table_anything_else_plain_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stderr", _Stream(tty=True))
    assert isinstance(display_for(["a"]), LiveDisplay)
    assert isinstance(display_for(["a"], quiet=True), PlainDisplay)
    monkeypatch.setattr(sys, "stderr", _Stream(tty=False))
    assert isinstance(display_for(["a"]), PlainDisplay)


def _run_in_a_terminal(tmp_path: Path, no_color: bool) -> tuple[int, str, str]:
    """`vidpipe run` with its stderr on a pseudo-terminal; returns (exit code, stdout, tty)."""
    board = tmp_path / "tiny.yaml"
    board.write_text(textwrap.dedent(TINY))
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(TERM="xterm-256color", COLUMNS="120", LINES="40")
    if no_color:
        env["NO_COLOR"] = "1"
    vidpipe = Path(sys.executable).with_name("vidpipe")
    primary, secondary = pty.openpty()
    with subprocess.Popen(
        [str(vidpipe), "run", str(board), "--out", str(tmp_path / "out"), "--job-seconds", "0"],
        stdout=subprocess.PIPE,
        stderr=secondary,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=tmp_path,
    ) as process:
        os.close(secondary)
        chunks = []
        while True:
            ready, _, _ = select.select([primary], [], [], 60)
            if not ready:
                process.kill()
                break
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the terminal closed: the run is over
                break
            if not chunk:
                break
            chunks.append(chunk)
        stdout = process.stdout.read().decode() if process.stdout else ""
        code = process.wait(timeout=60)
    os.close(primary)
    return code, stdout, b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize("no_color", [True, False])
def test_vidpipe_run_on_a_terminal_draws_the_live_table(tmp_path: Path, no_color: bool) -> None:
    code, stdout, raw = _run_in_a_terminal(tmp_path, no_color)
    tty = visible(raw)
    assert code == 0, tty
    assert re.search(r"shot\s+state\s+progress\s+time\s+task", tty)
    for shot in ("one", "two", "three"):
        assert re.search(rf"\b{shot}\s+done", tty), tty
    assert "3/3 finished" in tty
    assert (colour_codes(raw) == []) is no_color
    # The result summary is on stdout, never coloured.
    assert stdout.startswith("tiny: 3 done in ") and "\x1b[" not in stdout


def frame(display: LiveDisplay) -> list[str]:
    """The lines of one frame of `display`, as a 120-column terminal shows them."""
    console = Console(file=io.StringIO(), force_terminal=True, width=120, color_system=None)
    console.print(display.render())
    output = console.file
    assert isinstance(output, io.StringIO)
    return [line.rstrip() for line in visible(output.getvalue()).splitlines()]


def many(running: int, clock: Clock) -> LiveDisplay:
    """1000 shots: `running` in flight (one downloading), two failed, one unknown, 900 done."""
    ids = [f"s{n:04d}" for n in range(1000)]
    display = LiveDisplay(ids, terminal("standard")[0], clock=clock, max_rows=10)
    for n in range(900):
        display(ShotEvent(f"s{n + 100:04d}", ShotState.DONE, progress=100, task_id=f"t{n}"))
    display(ShotEvent("s0000", ShotState.FAILED, message="the provider failed task t: boom"))
    display(ShotEvent("s0001", ShotState.UNKNOWN, message="the create answer was lost"))
    display(ShotEvent("s0002", ShotState.RUNNING, progress=30, task_id="t-2"))
    display(ShotEvent("s0002", ShotState.FAILED, message="no luck"))
    for n in range(3, 3 + running):
        display(ShotEvent(f"s{n:04d}", ShotState.RUNNING, progress=n, task_id=f"t-{n}"))
    display(ShotEvent("s0003", ShotState.DOWNLOADING, progress=50))
    return display


def test_beyond_a_screenful_a_summary_and_the_shots_in_flight_then_the_failed() -> None:
    clock = Clock()
    lines = frame(many(4, clock))
    pending = 1000 - 900 - 3 - 4
    assert lines[0] == (
        f"1000 shots: 900 done, 2 failed, 1 unknown, 1 downloading, 3 running, {pending} pending;"
        " 993 more not shown"
    )
    shown = [line.split()[0] for line in lines[2:-1] if line.split()]
    assert shown == ["s0003", "s0004", "s0005", "s0006", "s0000", "s0001", "s0002"]
    assert re.search(r"s0003\s+downloading  50 %", "\n".join(lines))
    assert lines[-1].startswith("903/1000 finished, 3 not done")


def test_beyond_a_screenful_the_rows_stop_at_what_the_screen_holds() -> None:
    clock = Clock()
    display = many(30, clock)
    lines = frame(display)
    assert lines[0].endswith("29 running, 67 pending; 990 more not shown")
    shown = [line.split()[0] for line in lines[2:-1] if line.split()]
    assert shown == [f"s{n:04d}" for n in range(3, 13)]  # in flight first, in order
    # Finished shots leave the rows and go into the counts.
    for n in range(3, 33):
        display(ShotEvent(f"s{n:04d}", ShotState.DONE, progress=100))
    lines = frame(display)
    assert lines[0].startswith("1000 shots: 930 done, 2 failed, 1 unknown, 67 pending")
    assert [line.split()[0] for line in lines[2:-1] if line.split()] == ["s0000", "s0001", "s0002"]


def test_a_screenful_of_shots_is_shown_whole() -> None:
    clock = Clock()
    display = LiveDisplay(["a", "b", "c"], terminal("standard")[0], clock=clock, max_rows=3)
    display(ShotEvent("a", ShotState.DONE, progress=100))
    lines = frame(display)
    assert [line.split()[0] for line in lines[1:-1]] == ["a", "b", "c"]
    assert lines[0].split()[0] == "shot"  # the header first: no summary line
