"""Polling a provider task until it succeeds, fails or runs out of time.

The wait between polls follows the server's hint (`openai-poll-after-ms` or Retry-After on
the status answer), else an estimate from the reported progress, else a slowly growing
default; always within [floor, ceiling]. Every task has a deadline, counted from the task's
creation (`started_at`), so a rerun does not start the clock again.

A 429, 5xx or broken connection on a status read is retried inside `adapter.status` (poll
scope); when that gives up, polling backs off (capped, Retry-After honoured) and reads again,
through any run of such failures, until the deadline. The task is paid for: nothing here
ever leads to a new create. In testing mode (`retry.set_testing`) those backoff waits are
not slept but still count towards the deadline.

A status word the spec does not map (`TaskSnapshot.unmapped`) is given a grace period: the
task is polled on, with growing waits, and if it still answers words the spec does not map
when the grace period is over, polling stops with `UnmappedStatus` naming the word.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import attrs

from .adapters.contract import TaskSnapshot
from .errors import PollTimeout, ProviderError, TaskFailed, UnmappedStatus
from .retry import RetryPolicies, RetryPolicy, backoff_seconds, is_retryable, is_testing

__all__ = ["DEFAULT_STATUS_GRACE", "PollSettings", "StatusSource", "next_interval", "poll"]

#: Seconds a task may answer status words its spec does not map before its shot fails.
DEFAULT_STATUS_GRACE = 300.0

_POLL_ERRORS = RetryPolicies().poll_errors

UpdateFn = Callable[[TaskSnapshot], Awaitable[None] | None]


class StatusSource(Protocol):
    """What polling needs from an adapter."""

    async def status(self, task_id: str) -> TaskSnapshot: ...


@attrs.frozen
class PollSettings:
    """Bounds and defaults of the poll interval, in seconds."""

    floor: float = 0.5
    ceiling: float = 15.0
    first: float = 1.0  # with no hint and no progress yet
    growth: float = 1.5  # the default interval grows by this factor per poll


@attrs.frozen
class _Sample:
    at: float
    progress: int


def next_interval(
    snapshot: TaskSnapshot,
    *,
    polls: int,
    first_sample: _Sample | None,
    now: float,
    settings: PollSettings,
) -> float:
    """The wait before the next poll, within [floor, ceiling]."""
    if snapshot.poll_after is not None:
        wanted = snapshot.poll_after
    else:
        wanted = settings.first * settings.growth**polls
        progress = snapshot.progress
        if first_sample is not None and progress is not None:
            gained = progress - first_sample.progress
            elapsed = now - first_sample.at
            if gained > 0 and elapsed > 0:
                remaining = (100 - progress) / (gained / elapsed)
                # Poll again about halfway to the estimated finish: estimates are noisy.
                wanted = remaining / 2
    return min(max(wanted, settings.floor), settings.ceiling)


async def poll(
    adapter: StatusSource,
    task_id: str,
    *,
    deadline_s: float,
    started_at: float | None = None,
    on_update: UpdateFn | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    settings: PollSettings = PollSettings(),
    errors: RetryPolicy = _POLL_ERRORS,
    status_grace_s: float = DEFAULT_STATUS_GRACE,
) -> TaskSnapshot:
    """Poll `task_id` until it succeeds (returned) or fails (`TaskFailed`).

    Raises `PollTimeout` when the task has not finished `deadline_s` seconds after
    `started_at` (on `clock`; default: the first poll), after at least one status read, and
    `UnmappedStatus` when it has answered only status words its spec does not map for
    `status_grace_s` seconds. Status reads that fail with what the poll scope retries are
    backed off under `errors` until then. `on_update` sees every snapshot (it may be a
    coroutine function).
    """
    start = clock() if started_at is None else started_at
    deadline = start + deadline_s
    first_sample: _Sample | None = None
    polls = 0
    failures = 0
    skipped = 0.0  # backoff waits testing mode did not sleep: they count all the same
    unmapped_since: float | None = None
    unmapped_polls = 0
    while True:
        try:
            snapshot = await adapter.status(task_id)
        except ProviderError as exc:
            if not is_retryable(exc, "poll"):
                raise
            now = clock() + skipped
            if now >= deadline:
                raise PollTimeout(
                    f"task {task_id} has not finished {now - start:.0f} s after it was created "
                    f"(the deadline is {deadline_s:g} s from its creation); its last status"
                    f" read failed: {exc}",
                    task_id=task_id,
                ) from exc
            failures += 1
            wait = min(backoff_seconds(exc, errors, failures), max(deadline - now, 0.0))
            if is_testing():
                skipped += wait
            else:
                await sleep(wait)
            continue
        failures = 0
        now = clock() + skipped
        if on_update is not None:
            result = on_update(snapshot)
            if inspect.isawaitable(result):
                await result
        if snapshot.state == "succeeded":
            return snapshot
        if snapshot.state == "failed":
            reason = snapshot.error or f"status {snapshot.raw_status}"
            raise TaskFailed(f"task {task_id} failed: {reason}", reason=reason, task_id=task_id)
        if snapshot.unmapped is None:
            unmapped_since, unmapped_polls = None, 0
        else:
            unmapped_since = now if unmapped_since is None else unmapped_since
            waited = now - unmapped_since
            if waited >= status_grace_s:
                raise UnmappedStatus(
                    f"task {task_id} answered status {snapshot.unmapped!r}, which its spec "
                    f"does not map, for {waited:g} s",
                    word=snapshot.unmapped,
                    waited=waited,
                    task_id=task_id,
                )
        if now >= deadline:
            raise PollTimeout(
                f"task {task_id} has not finished {now - start:.0f} s after it was created "
                f"(the deadline is {deadline_s:g} s from its creation; last status "
                f"{snapshot.raw_status or snapshot.state})",
                task_id=task_id,
            )
        if first_sample is None and snapshot.progress is not None:
            first_sample = _Sample(now, snapshot.progress)
        interval = next_interval(
            snapshot, polls=polls, first_sample=first_sample, now=now, settings=settings
        )
        until = deadline
        if unmapped_since is not None:
            # Back off from a word nobody can read, and look again when the grace ends.
            backoff = settings.first * settings.growth**unmapped_polls
            interval = min(max(interval, backoff), settings.ceiling)
            until = min(deadline, unmapped_since + status_grace_s)
            unmapped_polls += 1
        await sleep(min(interval, max(until - now, 0.0)))
        polls += 1
