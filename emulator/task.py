"""An emulated task and its lifecycle on the clock.

A task is queued for the first part of its job time, then in progress with rising progress,
then finished: completed, or failed when a fault or a magic marker in the prompt says so.
Its video is rendered the first time anyone looks at the finished task (see
`instance.Emulator.observe`); until then a due task shows 99 % in progress.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import attrs

from ..specs import Spec
from .render_jobs import RenderJob

if TYPE_CHECKING:
    from .wire.upstream import Upstream

__all__ = ["MAGIC_EXPIRE", "MAGIC_FAIL", "STATUSES", "Snapshot", "Status", "Task", "unix"]

# Markers a prompt may carry to steer the emulator.
MAGIC_FAIL = "[emulator:fail]"
MAGIC_EXPIRE = "[emulator:expire]"

Status = Literal["queued", "in_progress", "completed", "failed"]
STATUSES: tuple[Status, ...] = ("queued", "in_progress", "completed", "failed")


@attrs.frozen
class Snapshot:
    """A task as seen at one instant."""

    status: Status
    progress: int
    due: bool
    started_at: float | None
    completed_at: float | None
    expires_at: float | None
    expired: bool
    remaining: float


@attrs.define(eq=False)
class Task:
    """One emulated generation task."""

    id: str
    spec: Spec = attrs.field(repr=False)
    upstream: Upstream
    model: str
    prompt: str
    fingerprint: str
    created_at: float
    job_seconds: float
    queued_fraction: float
    content_ttl: float
    job: RenderJob
    size: str
    seconds_text: str
    has_image: bool
    cdn_token: str
    failure: str | None = None
    expire_early: bool = False
    remixed_from: str | None = None
    video_sha256: str | None = None
    video_bytes: int | None = None
    render_error: str | None = None

    @property
    def finish_at(self) -> float:
        return self.created_at + self.job_seconds

    @property
    def rendered(self) -> bool:
        return self.video_sha256 is not None or self.render_error is not None

    def snapshot(self, now: float) -> Snapshot:
        """Where the task stands at `now`. A due task that will complete counts as completed
        only once its video is rendered; until then it shows 99%."""
        elapsed = now - self.created_at
        start = self.created_at + self.job_seconds * self.queued_fraction
        due = elapsed >= self.job_seconds
        started_at = start if now >= start or due else None
        if not due:
            if now < start:
                return Snapshot("queued", 0, False, None, None, None, False, self.finish_at - now)
            progress = min(99, max(1, int(100 * elapsed / self.job_seconds)))
            return Snapshot(
                "in_progress", progress, False, started_at, None, None, False, self.finish_at - now
            )
        completed_at = self.finish_at
        if self.failure is not None or self.render_error is not None:
            return Snapshot("failed", 100, True, started_at, completed_at, None, False, 0.0)
        if self.video_sha256 is None:
            return Snapshot("in_progress", 99, True, started_at, None, None, False, 0.0)
        expires_at = completed_at if self.expire_early else completed_at + self.content_ttl
        return Snapshot(
            "completed", 100, True, started_at, completed_at, expires_at, now >= expires_at, 0.0
        )

    def fresh(self) -> Snapshot:
        """The task as its create answer shows it: just queued."""
        return Snapshot("queued", 0, False, None, None, None, False, self.job_seconds)

    @property
    def error_message(self) -> str:
        return self.failure or self.render_error or ""


def unix(value: float | None) -> int | None:
    """A time as whole unix seconds, as the answers carry it (None stays None)."""
    return int(value) if value is not None else None
