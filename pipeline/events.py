"""What a run reports while it works: one event per change in a shot's progress.

The runner emits these through a callback; the CLI turns them into a live display, plain
lines or JSON. Library code never prints. An event's state is one of `EVENT_STATES`.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from .states import EVENT_STATES, ShotState


@attrs.frozen
class ShotEvent:
    """A shot moved to `phase`; `progress` is 0..100 where the provider reports it."""

    shot_id: str
    phase: ShotState = attrs.field(validator=attrs.validators.in_(EVENT_STATES))
    progress: int | None = None
    message: str = ""
    task_id: str | None = None


EventSink = Callable[[ShotEvent], None]


def ignore(event: ShotEvent) -> None:
    """The default sink: drop events."""
