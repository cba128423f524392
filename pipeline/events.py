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


@attrs.frozen
class LimitsEvent:
    """A run's effective limits on tasks in flight, said once when it starts.

    `providers` maps each provider in use to its own limit, None where it has none (only
    the run's `concurrency` applies); a gateway's 429 lowers a provider's limit for a while.
    """

    concurrency: int
    providers: tuple[tuple[str, int | None], ...]

    @property
    def text(self) -> str:
        """One line: "limits: 8 tasks in flight (--concurrency); per provider:
        anyfast: 4, newapi: no limit of its own"."""
        own = ", ".join(
            f"{name}: {'no limit of its own' if limit is None else limit}"
            for name, limit in self.providers
        )
        line = f"limits: {self.concurrency} tasks in flight (--concurrency)"
        return f"{line}; per provider: {own}" if own else line


LimitsSink = Callable[[LimitsEvent], None]
