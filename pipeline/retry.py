"""Retries for provider calls, with a separate scope (and policy) for submit, poll and download.

What is retried: connection failures and the HTTP statuses 408, 409, 429 and 5xx. Never
400, 401, 403 or 404. The wait honours `retry-after-ms`, then `Retry-After` (seconds or an
HTTP date) up to a cap, and otherwise backs off `min(0.5 * 2**n, 8)` seconds less up to
25 % jitter.

A create is not idempotent. In the submit scope, a failure after which the request may have
reached the server without its answer coming back (read timeout, reset after sending, a
protocol error) is never retried: it becomes `UnknownCreate`, so that nothing is paid twice.
A connect failure (nothing sent) and a 429/5xx answer are safe to send again.

Tests switch real sleeping off with `set_testing()`; the waits that would have been made
are recorded and can be read with `recorded_waits()`.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Literal, TypeVar

import attrs
import httpx

from .errors import HTTPStatusError, ProviderError, TransportError, UnknownCreate
from .transport import RequestNotSent

__all__ = [
    "RetryPolicies",
    "RetryPolicy",
    "Scope",
    "backoff_delay",
    "is_retryable",
    "poll_hint_seconds",
    "recorded_waits",
    "retry_after_seconds",
    "retrying",
    "set_testing",
    "wait",
    "wait_before_retry",
]

Scope = Literal["submit", "poll", "download"]
T = TypeVar("T")

NEVER_RETRY = frozenset({400, 401, 403, 404})
RETRY_STATUSES = frozenset({408, 409, 429})


@attrs.frozen
class RetryPolicy:
    """How hard one scope tries: attempts in all (the first included) and the wait caps."""

    attempts: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    retry_after_cap: float = 120.0
    jitter: float = 0.25

    def __attrs_post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a retry policy needs at least one attempt")


@attrs.frozen
class RetryPolicies:
    """One policy per scope. Polls and downloads may try harder than creates."""

    submit: RetryPolicy = RetryPolicy(attempts=3)
    poll: RetryPolicy = RetryPolicy(attempts=6)
    download: RetryPolicy = RetryPolicy(attempts=6)

    def for_scope(self, scope: Scope) -> RetryPolicy:
        policy: RetryPolicy = getattr(self, scope)
        return policy


@attrs.define
class _Testing:
    active: bool = False
    waits: list[tuple[Scope, float]] = attrs.Factory(list)


_testing = _Testing()


def set_testing(active: bool = True) -> _RestoreTesting:
    """Stop (or resume) real sleeping between retries and clear the recorded waits.

    Works as a plain call or as a context manager that restores the previous setting.
    """
    previous = _testing.active
    _testing.active = active
    _testing.waits.clear()
    return _RestoreTesting(previous)


class _RestoreTesting:
    def __init__(self, previous: bool) -> None:
        self._previous = previous

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        _testing.active = self._previous


def recorded_waits(scope: Scope | None = None) -> list[float]:
    """The waits made (or, when testing, skipped) since `set_testing`, oldest first."""
    return [w for s, w in _testing.waits if scope is None or s == scope]


async def wait(scope: Scope, seconds: float, sleep: Callable[[float], Awaitable[None]]) -> None:
    """Wait before a retry: recorded always, slept only when not testing."""
    _testing.waits.append((scope, seconds))
    if not _testing.active:
        await sleep(seconds)


def _milliseconds(h: httpx.Headers, name: str) -> float | None:
    """A header holding milliseconds, as seconds; None when absent, negative or not a number."""
    raw = h.get(name)
    if raw is None:
        return None
    try:
        value = float(raw) / 1000.0
    except ValueError:
        return None
    return value if value >= 0 and value == value else None  # value == value: not NaN


def retry_after_seconds(
    headers: Mapping[str, str] | httpx.Headers, *, now: float | None = None
) -> float | None:
    """The server's requested wait: `retry-after-ms`, else `Retry-After` (seconds or date)."""
    h = headers if isinstance(headers, httpx.Headers) else httpx.Headers(dict(headers))
    ms = _milliseconds(h, "retry-after-ms")
    if ms is not None:
        return ms
    ra = h.get("retry-after")
    if ra is None:
        return None
    try:
        seconds = float(ra)
    except ValueError:
        try:
            when = parsedate_to_datetime(ra)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
        return max(0.0, seconds)
    return seconds if seconds >= 0 and seconds == seconds else None


def poll_hint_seconds(headers: Mapping[str, str] | httpx.Headers) -> float | None:
    """The poll interval a status answer suggests: `openai-poll-after-ms`, else Retry-After."""
    h = headers if isinstance(headers, httpx.Headers) else httpx.Headers(dict(headers))
    hint = _milliseconds(h, "openai-poll-after-ms")
    return hint if hint is not None else retry_after_seconds(h)


def is_retryable(exc: BaseException, scope: Scope) -> bool:
    """Whether `exc` may be retried in `scope` (submit only retries what was surely not taken)."""
    if isinstance(exc, HTTPStatusError):
        code = exc.status_code
        if code in NEVER_RETRY:
            return False
        return code in RETRY_STATUSES or 500 <= code <= 599
    if isinstance(exc, RequestNotSent):
        return True
    if isinstance(exc, TransportError):
        return scope != "submit"
    return False


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Exponential backoff for the retry after failed attempt number `attempt` (0-based)."""
    base = min(policy.backoff_base * 2.0**attempt, policy.backoff_cap)
    jitter = (rng or random).random() * policy.jitter
    return base * (1.0 - jitter)


def wait_before_retry(
    exc: BaseException, attempt: int, policy: RetryPolicy, rng: random.Random | None = None
) -> float:
    """How long to wait after `exc`: the server's Retry-After (capped), else backoff."""
    hint = getattr(exc, "retry_after", None)
    if isinstance(hint, int | float) and hint >= 0:
        return min(float(hint), policy.retry_after_cap)
    return backoff_delay(attempt, policy, rng)


async def retrying(
    scope: Scope,
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
    what: str = "",
) -> T:
    """Await `call()` until it succeeds, retrying what `scope` allows within `policy`.

    In the submit scope a transport failure that may have reached the server is raised as
    `UnknownCreate` (chained to the cause) instead of being retried.
    """
    attempt = 0
    while True:
        try:
            return await call()
        except ProviderError as exc:
            if (
                scope == "submit"
                and isinstance(exc, TransportError)
                and not isinstance(exc, RequestNotSent)
            ):
                label = f"{what}: " if what else ""
                raise UnknownCreate(
                    f"{label}the create was sent but its answer was lost ({exc}); "
                    "it was not sent again because it might be billed twice",
                    shot=exc.shot,
                ) from exc
            if not is_retryable(exc, scope) or attempt + 1 >= policy.attempts:
                raise
            await wait(scope, wait_before_retry(exc, attempt, policy, rng), sleep)
            attempt += 1
