"""Show a run's progress: a live per-shot table on a terminal, plain lines elsewhere.

Both take the runner's ShotEvents. rich honours NO_COLOR and non-terminal output by itself;
plain mode prints one line per phase change so logs stay short.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from types import TracebackType
from typing import IO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from .events import FINAL_PHASES, ShotEvent

_STYLE = {
    "done": "green",
    "cached": "green",
    "failed": "red",
    "unknown": "red",
    "skipped": "yellow",
    "downloading": "cyan",
    "running": "blue",
}


def _label(event: ShotEvent) -> str:
    if event.phase in {"running", "downloading"} and event.progress is not None:
        return f"{event.phase} {event.progress:3d} %"
    return event.phase


class PlainDisplay:
    """One line per shot per phase change: for logs, CI and pipes."""

    def __init__(self, shot_ids: Sequence[str], stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.last: dict[str, str] = {}
        self.width = max((len(s) for s in shot_ids), default=4)
        self.started = time.monotonic()

    def __call__(self, event: ShotEvent) -> None:
        if self.last.get(event.shot_id) == event.phase:
            return
        self.last[event.shot_id] = event.phase
        elapsed = time.monotonic() - self.started
        extra = f"  {event.message}" if event.message else ""
        task = f"  task {event.task_id}" if event.task_id and event.phase == "queued" else ""
        print(
            f"[{elapsed:6.1f}s] {event.shot_id:<{self.width}}  {event.phase}{task}{extra}",
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
    """A live table of shots (queued, running NN %, downloading, done, failed)."""

    def __init__(self, shot_ids: Sequence[str], console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.state: dict[str, ShotEvent] = {s: ShotEvent(s, "pending") for s in shot_ids}
        self.live = Live(self._table(), console=self.console, refresh_per_second=8)

    def _table(self) -> Table:
        table = Table(box=None, show_header=True, header_style="bold")
        table.add_column("shot")
        table.add_column("state")
        table.add_column("task", overflow="fold")
        table.add_column("note", overflow="fold")
        for event in self.state.values():
            style = _STYLE.get(event.phase, "")
            table.add_row(
                event.shot_id,
                f"[{style}]{_label(event)}[/]" if style else _label(event),
                event.task_id or "",
                event.message if event.phase in FINAL_PHASES else "",
            )
        return table

    def __call__(self, event: ShotEvent) -> None:
        previous = self.state.get(event.shot_id)
        if previous and previous.task_id and not event.task_id:
            event = ShotEvent(
                event.shot_id, event.phase, event.progress, event.message, previous.task_id
            )
        self.state[event.shot_id] = event
        self.live.update(self._table())

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
