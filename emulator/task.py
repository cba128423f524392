"""An emulated task and its lifecycle on the clock.

A task is queued for the first part of its job time, then running with rising progress, then
finished: succeeded, or failed when a fault or a magic marker in the prompt says so. These are
vidpipe's own states; each answer says them in its spec's words (see `words`). Its video is
rendered the first time anyone looks at the finished task (see `instance.Emulator.observe`);
until then a due task shows 99 % running.
"""

from __future__ import annotations

import attrs

from ..specs import Spec
from ..states import TaskState
from .render_jobs import RenderJob

__all__ = ["MAGIC_EXPIRE", "MAGIC_FAIL", "Snapshot", "Task", "unix"]

# Markers a prompt may carry to steer the emulator.
MAGIC_FAIL = "[emulator:fail]"
MAGIC_EXPIRE = "[emulator:expire]"


@attrs.frozen
class Snapshot:
    """A task as seen at one instant: its state, and how far `through` that state it is
    (0 on entering it, towards 1 when it ends; 0 in a final state)."""

    state: TaskState
    through: float
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
    #: What the task is charged, in new-api quota units (None: the spec prices it not).
    quota: int | None = None

    @property
    def finish_at(self) -> float:
        return self.created_at + self.job_seconds

    @property
    def rendered(self) -> bool:
        return self.video_sha256 is not None or self.render_error is not None

    def snapshot(self, now: float) -> Snapshot:
        """Where the task stands at `now`. A due task that will succeed counts as succeeded
        only once its video is rendered; until then it shows 99% running."""
        elapsed = now - self.created_at
        start = self.created_at + self.job_seconds * self.queued_fraction
        due = elapsed >= self.job_seconds
        started_at = start if now >= start or due else None
        left = self.finish_at - now
        if not due:
            if now < start:
                span = start - self.created_at
                through = max(0.0, elapsed) / span if span > 0 else 0.0
                return Snapshot("queued", through, 0, False, None, None, None, False, left)
            through = (now - start) / (self.finish_at - start)
            progress = min(99, max(1, int(100 * elapsed / self.job_seconds)))
            return Snapshot(
                "running", through, progress, False, started_at, None, None, False, left
            )
        completed_at = self.finish_at
        if self.failure is not None or self.render_error is not None:
            return Snapshot("failed", 0.0, 100, True, started_at, completed_at, None, False, 0.0)
        if self.video_sha256 is None:
            return Snapshot("running", 1.0, 99, True, started_at, None, None, False, 0.0)
        expires_at = completed_at if self.expire_early else completed_at + self.content_ttl
        expired = now >= expires_at
        return Snapshot(
            "succeeded", 0.0, 100, True, started_at, completed_at, expires_at, expired, 0.0
        )

    def fresh(self) -> Snapshot:
        """The task as its create answer shows it: just queued."""
        return Snapshot("queued", 0.0, 0, False, None, None, None, False, self.job_seconds)

    @property
    def error_message(self) -> str:
        return self.failure or self.render_error or ""


def unix(value: float | None) -> int | None:
    """A time as whole unix seconds, as the answers carry it (None stays None)."""
    return int(value) if value is not None else None
