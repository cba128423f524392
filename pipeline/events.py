"""What a run reports while it works: one event per change in a shot's progress.

The runner emits these through a callback; the CLI turns them into a live display, plain
lines or JSON. Library code never prints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import attrs

Phase = Literal[
    "pending",  # waiting for a remix source or a free slot
    "cached",  # a verified file from an earlier run is reused
    "submitting",
    "queued",
    "running",
    "downloading",
    "done",
    "failed",
    "unknown",  # a create was sent but its answer was lost
    "skipped",  # not run because a shot it depends on did not finish
]
FINAL_PHASES: frozenset[str] = frozenset({"cached", "done", "failed", "unknown", "skipped"})


@attrs.frozen
class ShotEvent:
    """A shot moved to `phase`; `progress` is 0..100 where the provider reports it."""

    shot_id: str
    phase: Phase
    progress: int | None = None
    message: str = ""
    task_id: str | None = None


EventSink = Callable[[ShotEvent], None]


def ignore(event: ShotEvent) -> None:
    """The default sink: drop events."""
