"""Polling a provider task until it succeeds, fails or runs out of time.

The server's hint (`openai-poll-after-ms` or Retry-After on the status answer) is a floor,
not a schedule. Polling predicts when the task will finish and reads its status just after
that, from the best signal it has:

- the task's progress rate: between the first status read that showed progress and the
  latest one, or (with only one such read) since the task's creation (`started_at`);
- else how long this model's tasks took in earlier runs (`expected_s`, from the ledger);
- with neither, the hint spacing, else a slowly growing default.

Earlier runs' durations place a first read `lead` of the way to the expected end, for the
task's own progress to time the last one: a duration seen by a read that came late would
otherwise make every later task's read late by as much.

A read that comes too early shows more progress, and a closer prediction. Every wait stays
within [floor, ceiling]. Every task has a deadline, counted from the task's creation
(`started_at`), so a rerun does not start the clock again. With the create's answer
(`initial`) the first read waits for the prediction too; a re-attached task is read at once.

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

__all__ = [
    "DEFAULT_STATUS_GRACE",
    "PollSettings",
    "StatusSource",
    "lead_wait",
    "next_interval",
    "poll",
    "predicted_end",
]

#: Seconds a task may answer status words its spec does not map before its shot fails.
DEFAULT_STATUS_GRACE = 300.0

_POLL_ERRORS = RetryPolicies().poll_errors

UpdateFn = Callable[[TaskSnapshot], Awaitable[None] | None]


class StatusSource(Protocol):
    """What polling needs from an adapter."""

    async def status(self, task_id: str) -> TaskSnapshot: ...


@attrs.frozen
class PollSettings:
    """Bounds and defaults of the poll interval, in seconds.

    `overshoot` is how far past a predicted finish the read goes (a fraction of the wait):
    a read that comes just too early costs a whole hint more. `lead` is how far towards an
    end expected from earlier runs the first read goes, to see the task's progress.
    """

    floor: float = 0.5
    ceiling: float = 15.0
    first: float = 1.0  # with no hint and no progress yet
    growth: float = 1.5  # the default interval grows by this factor per poll
    overshoot: float = 0.01
    lead: float = 0.8


@attrs.frozen
class _Sample:
    at: float
    progress: int


def predicted_end(
    snapshot: TaskSnapshot,
    *,
    now: float,
    first_sample: _Sample | None,
    created_at: float | None = None,
    expected_end: float | None = None,
    overshoot: float = 0.0,
) -> float | None:
    """When to read for the task to have finished (clock time), or None without a signal.

    From the progress rate since `first_sample` (the first read that showed progress),
    else since `created_at` (progress counted from 0 at the creation), `overshoot` (a
    fraction of the time left) past that estimate; else `expected_end` (earlier runs)
    while it is still ahead. Earlier runs' durations were seen by reads that came when
    predicted, so they get no overshoot: it would grow with every run.
    """
    progress = snapshot.progress
    if progress is not None and 0 < progress < 100:
        anchor = first_sample
        if anchor is None or anchor.progress >= progress or anchor.at >= now:
            anchor = _Sample(created_at, 0) if created_at is not None else None
        if anchor is not None and anchor.at < now and anchor.progress < progress:
            rate = (progress - anchor.progress) / (now - anchor.at)
            return now + (100 - progress) / rate * (1.0 + overshoot)
    if expected_end is not None and expected_end > now:
        return expected_end
    return None


def next_interval(
    snapshot: TaskSnapshot,
    *,
    polls: int,
    first_sample: _Sample | None,
    now: float,
    settings: PollSettings,
    created_at: float | None = None,
    expected_end: float | None = None,
) -> float:
    """The wait before the next poll, within [floor, ceiling]; the hint is a floor."""
    hint = snapshot.poll_after
    floor = _floor(snapshot, settings)
    end = predicted_end(
        snapshot,
        now=now,
        first_sample=first_sample,
        created_at=created_at,
        expected_end=expected_end,
        overshoot=settings.overshoot,
    )
    if end is not None:
        wanted = end - now
    elif hint is not None:
        wanted = hint
    else:
        wanted = settings.first * settings.growth**polls
    return min(max(wanted, floor), settings.ceiling)


def _floor(snapshot: TaskSnapshot, settings: PollSettings) -> float:
    hint = snapshot.poll_after
    return settings.floor if hint is None else max(settings.floor, hint)


def lead_wait(left: float, floor: float, lead: float) -> float | None:
    """The wait before a read that shows a task's progress, `left` seconds before the end
    earlier runs expect: `lead` of the way there, leaving at least `floor` (the hint) for
    the last read; None where that would not be past half the way."""
    wait = min(lead * left, left - floor)
    return wait if wait > left / 2 else None


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
    initial: TaskSnapshot | None = None,
    expected_s: float | None = None,
) -> TaskSnapshot:
    """Poll `task_id` until it succeeds (returned) or fails (`TaskFailed`).

    Raises `PollTimeout` when the task has not finished `deadline_s` seconds after
    `started_at` (on `clock`; default: the first poll), after at least one status read, and
    `UnmappedStatus` when it has answered only status words its spec does not map for
    `status_grace_s` seconds. Status reads that fail with what the poll scope retries are
    backed off under `errors` until then. `on_update` sees every snapshot (it may be a
    coroutine function). `initial` is the create's answer: the first read waits for the
    prediction instead of going at once. `expected_s` is how long this model's tasks took
    before (seconds from creation), used while the task shows no progress.
    """
    start = clock() if started_at is None else started_at
    expected_end = None if expected_s is None else start + expected_s
    deadline = start + deadline_s
    first_sample: _Sample | None = None
    polls = 0
    failures = 0
    skipped = 0.0  # backoff waits testing mode did not sleep: they count all the same
    unmapped_since: float | None = None
    unmapped_polls = 0
    if initial is not None and initial.state in ("queued", "running"):
        now = clock()
        wait = next_interval(
            initial,
            polls=0,
            first_sample=None,
            now=now,
            settings=settings,
            created_at=started_at,
            expected_end=expected_end,
        )
        ahead = None if expected_end is None else expected_end - now
        if ahead is not None and wait >= ahead:  # timed by earlier runs, not by progress
            wait = lead_wait(ahead, _floor(initial, settings), settings.lead) or wait
        await sleep(min(wait, max(deadline - now, 0.0)))
        polls = 1
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
        interval = next_interval(
            snapshot,
            polls=polls,
            first_sample=first_sample,
            now=now,
            settings=settings,
            created_at=started_at,
            expected_end=expected_end,
        )
        if first_sample is None and snapshot.progress and snapshot.progress < 100:
            first_sample = _Sample(now, snapshot.progress)
        until = deadline
        if unmapped_since is not None:
            # Back off from a word nobody can read, and look again when the grace ends.
            backoff = settings.first * settings.growth**unmapped_polls
            interval = min(max(interval, backoff), settings.ceiling)
            until = min(deadline, unmapped_since + status_grace_s)
            unmapped_polls += 1
        await sleep(min(interval, max(until - now, 0.0)))
        polls += 1
