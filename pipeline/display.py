"""Show a run's progress: a live per-shot table on a terminal, plain lines elsewhere.

Both take the runner's ShotEvents. The live table shows each shot's state (queued,
running NN %, downloading, done, failed), a progress bar, its time and task id. Beyond a
screenful of shots it shows a summary line (how many shots are in each state) and only the
shots in flight, then the failed ones, as many as fit: the counts are kept as events come,
so a frame costs the same for ten shots or ten thousand. Plain mode,
for logs, CI and pipes, prints a line when a shot changes phase and when a running task
passes another quarter of its progress. rich honours NO_COLOR by itself.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import IO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from .events import ShotEvent
from .states import FINAL_EVENT_STATES, OK_STATES, ShotState

__all__ = ["LiveDisplay", "PlainDisplay", "display_for"]

_STYLE = {
    ShotState.DONE: "green",
    ShotState.CACHED: "green",
    ShotState.FAILED: "bold red",
    ShotState.UNKNOWN: "bold red",
    ShotState.SKIPPED: "yellow",
    ShotState.OVER_BUDGET: "yellow",
    ShotState.DOWNLOADING: "cyan",
    ShotState.RUNNING: "blue",
    ShotState.QUEUED: "magenta",
}
_WITH_PROGRESS = frozenset({ShotState.RUNNING, ShotState.DOWNLOADING})
#: Shown (after the shots in flight) when not every shot fits on the screen.
_FAILED = frozenset({ShotState.FAILED, ShotState.UNKNOWN})
#: The order of the summary line's counts.
_SUMMARY_ORDER = (
    ShotState.DONE,
    ShotState.CACHED,
    ShotState.FAILED,
    ShotState.UNKNOWN,
    ShotState.SKIPPED,
    ShotState.DOWNLOADING,
    ShotState.RUNNING,
    ShotState.QUEUED,
    ShotState.SUBMITTING,
    ShotState.PENDING,
)
#: Lines of the screen the table does not get for its rows (header, caption, margin).
_CHROME_LINES = 5


def _label(event: ShotEvent) -> str:
    if event.phase in _WITH_PROGRESS and event.progress is not None:
        return f"{event.phase} {event.progress:3d} %"
    return event.phase


class PlainDisplay:
    """A line per phase change (and per quarter of progress): for logs, CI and pipes."""

    def __init__(
        self,
        shot_ids: Sequence[str],
        stream: IO[str] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream or sys.stderr
        self.clock = clock
        self.last: dict[str, tuple[str, int, str]] = {}
        self.width = max((len(s) for s in shot_ids), default=4)
        self.started = clock()

    def __call__(self, event: ShotEvent) -> None:
        if event.phase == ShotState.PENDING:  # waiting for a slot: not worth a line
            return
        quarter = (event.progress or 0) // 25 if event.phase == ShotState.RUNNING else 0
        key = (event.phase, quarter, event.message)
        if self.last.get(event.shot_id) == key:
            return
        self.last[event.shot_id] = key
        elapsed = self.clock() - self.started
        state = _label(event) if event.phase == ShotState.RUNNING else event.phase
        task = (
            f"  task {event.task_id}" if event.task_id and event.phase == ShotState.QUEUED else ""
        )
        extra = f"  {event.message}" if event.message else ""
        print(
            f"[{elapsed:6.1f}s] {event.shot_id:<{self.width}}  {state}{task}{extra}",
            file=self.stream,
            flush=True,
        )

    def __enter__(self) -> PlainDisplay:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class LiveDisplay:
    """A live table of shots: state, progress bar, time, task id and why one failed."""

    def __init__(
        self,
        shot_ids: Sequence[str],
        console: Console | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_rows: int | None = None,
    ) -> None:
        self.console = console or Console(stderr=True)
        self.clock = clock
        self.started = clock()
        self.state: dict[str, ShotEvent] = {s: ShotEvent(s, ShotState.PENDING) for s in shot_ids}
        self.began: dict[str, float] = {}
        self.ended: dict[str, float] = {}
        #: Rows the table may have; None: as many as the terminal has lines for.
        self.max_rows = max_rows
        # Kept up to date by each event, so that a frame never walks every shot.
        self.counts: Counter[str] = Counter(e.phase for e in self.state.values())
        self.in_flight: dict[str, None] = {}  # ordered by when each shot set off
        self.failed: dict[str, None] = {}
        # Events come from the run's thread; the table is drawn by rich's refresh thread.
        self.lock = threading.Lock()
        self.live = Live(console=self.console, refresh_per_second=8, get_renderable=self.render)

    def _time(self, shot_id: str, now: float) -> str:
        began = self.began.get(shot_id)
        if began is None:
            return ""
        return f"{self.ended.get(shot_id, now) - began:5.1f}s"

    def _bar(self, event: ShotEvent) -> RenderableType:
        if event.phase in OK_STATES:
            return ProgressBar(total=100, completed=100, width=16)
        if event.phase in _WITH_PROGRESS and event.progress is not None:
            return ProgressBar(total=100, completed=event.progress, width=16)
        return Text("")

    def rows(self) -> int:
        """How many shot rows a frame may have."""
        if self.max_rows is not None:
            return max(1, self.max_rows)
        return max(3, self.console.size.height - _CHROME_LINES)

    def _caption(self, total: int) -> str:
        finished = sum(self.counts[p] for p in FINAL_EVENT_STATES)
        not_done = finished - sum(self.counts[p] for p in OK_STATES)
        caption = f"{finished}/{total} finished"
        if not_done:
            caption += f", {not_done} not done"
        return caption

    def _summary(self, total: int, shown: int) -> str:
        parts = [f"{self.counts[p]} {p}" for p in _SUMMARY_ORDER if self.counts[p]]
        return f"{total} shots: {', '.join(parts)}; {total - shown} more not shown"

    def _visible(self, limit: int) -> list[ShotEvent]:
        """Up to `limit` shots: those in flight, then the failed ones."""
        ids = list(itertools.islice(self.in_flight, limit))
        ids += itertools.islice(self.failed, limit - len(ids))
        return [self.state[shot_id] for shot_id in ids]

    def render(self) -> RenderableType:
        """The table as it stands now: every shot when they fit on the screen, else a
        summary line and the shots in flight, then the failed ones."""
        now = self.clock()
        limit = self.rows()
        with self.lock:
            total = len(self.state)
            compact = total > limit
            events = self._visible(limit) if compact else list(self.state.values())
            times = {e.shot_id: self._time(e.shot_id, now) for e in events}
            caption = self._caption(total)
            summary = self._summary(total, len(events)) if compact else None
        table = Table(
            box=None,
            show_header=True,
            header_style="bold",
            caption=f"{caption} · {now - self.started:.1f} s",
            caption_justify="left",
        )
        table.add_column("shot", no_wrap=True)
        table.add_column("state", no_wrap=True, min_width=13)
        table.add_column("progress", no_wrap=True)
        table.add_column("time", justify="right", no_wrap=True)
        table.add_column("task", overflow="fold")
        table.add_column("note", overflow="fold")
        for event in events:
            table.add_row(
                event.shot_id,
                Text(_label(event), style=_STYLE.get(event.phase, "")),
                self._bar(event),
                times[event.shot_id],
                event.task_id or "",
                event.message,
            )
        if summary is None:
            return table
        return Group(Text(summary, no_wrap=True, overflow="ellipsis"), table)

    def __call__(self, event: ShotEvent) -> None:
        now = self.clock()
        with self.lock:
            previous = self.state.get(event.shot_id)
            if previous and previous.task_id and not event.task_id:
                event = ShotEvent(
                    event.shot_id, event.phase, event.progress, event.message, previous.task_id
                )
            self.state[event.shot_id] = event
            self._count(previous, event)
            if event.phase != ShotState.PENDING:
                self.began.setdefault(event.shot_id, now)
            if event.phase in FINAL_EVENT_STATES:
                self.ended[event.shot_id] = now

    def _count(self, previous: ShotEvent | None, event: ShotEvent) -> None:
        shot_id = event.shot_id
        if previous is not None:
            self.counts[previous.phase] -= 1
        self.counts[event.phase] += 1
        if event.phase in FINAL_EVENT_STATES or event.phase == ShotState.PENDING:
            self.in_flight.pop(shot_id, None)
        else:
            self.in_flight.setdefault(shot_id, None)
        if event.phase in _FAILED:
            self.failed.setdefault(shot_id, None)
        else:
            self.failed.pop(shot_id, None)

    def __enter__(self) -> LiveDisplay:
        self.live.__enter__()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.live.__exit__(t, e, tb)


def display_for(shot_ids: Sequence[str], *, quiet: bool = False) -> LiveDisplay | PlainDisplay:
    """A live table when stderr is a terminal, plain lines otherwise."""
    if not quiet and sys.stderr.isatty():
        return LiveDisplay(shot_ids)
    return PlainDisplay(shot_ids)
