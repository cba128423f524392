"""Retries for provider calls, with a separate scope (and policy) for submit, poll and download.

The loop is stamina's (`stamina.retry_context`, 25.2 or newer: its `on` hook may return the
wait). Status reads and downloads retry connection failures and the HTTP statuses 408, 409,
429 and 5xx; never 400, 401, 403 or 404. The wait is the server's `retry-after-ms`, else
`Retry-After` (seconds or an HTTP date), capped; without one, stamina's exponential backoff
with jitter.

A create is not idempotent. In the submit scope only what certainly did not reach the
provider, or was answered "not taken", is sent again: a connect failure (DNS, refused, TLS:
nothing was sent) and 429. Every other failure after the request left may hide a task that
exists: a 5xx (a proxy's 502 often comes after its upstream took the task), 408, a read
timeout, a reset, an unreadable answer. Those become `UnknownCreate` and are never retried,
so that nothing is paid twice. Other 4xx answers are refusals: the task was not taken.

Status reads outlast their scope's attempts in `vidpipe.polling`, which keeps backing off
(`backoff_seconds`) until the task's deadline.

Tests switch real sleeping off with `set_testing()` (stamina's testing mode, which leaves
every wait at zero but keeps each policy's attempts); `recorded_waits()` lists, per retry,
the server's wait that was asked for, or None where stamina's backoff applied.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from email.utils import parsedate_to_datetime
from typing import Literal, TypeVar

import attrs
import httpx
import stamina

from .errors import HTTPStatusError, TransportError, UnknownCreate
from .transport import RequestNotSent

__all__ = [
    "Retries",
    "RetryPolicies",
    "RetryPolicy",
    "Scope",
    "backoff_seconds",
    "is_busy",
    "is_retryable",
    "is_testing",
    "lost_create",
    "poll_hint_seconds",
    "recorded_waits",
    "retry_after_seconds",
    "retrying",
    "server_wait",
    "set_testing",
]

Scope = Literal["submit", "poll", "download"]
T = TypeVar("T")

NEVER_RETRY = frozenset({400, 401, 403, 404})
RETRY_STATUSES = frozenset({408, 409, 429})
#: The only answer to a create that says, and is retried because, the task was not taken.
NOT_TAKEN_RETRY = 429
# In testing mode stamina would cap every loop at this many attempts: a loop that never
# ends shows up as a failure instead of a hung test.
_TESTING_ATTEMPTS_CAP = 1000


@attrs.frozen
class RetryPolicy:
    """How hard one scope tries: attempts in all (the first included) and the waits.

    Without a server-given wait, retry n (1-based) waits
    `min(wait_max, wait_initial * 2**(n-1) + uniform(0, wait_jitter))` (stamina's backoff).
    """

    attempts: int = 3
    wait_initial: float = 0.5
    wait_max: float = 8.0
    wait_jitter: float = 0.5
    retry_after_cap: float = 120.0

    def __attrs_post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a retry policy needs at least one attempt")


@attrs.frozen
class RetryPolicies:
    """One policy per scope. Polls and downloads may try harder than creates.

    `refresh` paces the rounds of a download whose result URL refuses (401/403/404/410) or
    breaks: each round reads the task again for a fresh URL (about 30 s in all by default).
    `poll_errors` paces status reads that keep failing after the poll scope's attempts,
    until the task's deadline.
    """

    submit: RetryPolicy = RetryPolicy(attempts=3)
    poll: RetryPolicy = RetryPolicy(attempts=6)
    download: RetryPolicy = RetryPolicy(attempts=6)
    refresh: RetryPolicy = RetryPolicy(attempts=5, wait_initial=2.0, wait_max=16.0)
    poll_errors: RetryPolicy = RetryPolicy(wait_initial=1.0, wait_max=30.0, wait_jitter=1.0)

    def for_scope(self, scope: Scope) -> RetryPolicy:
        policy: RetryPolicy = getattr(self, scope)
        return policy


_waits: list[tuple[Scope, float | None]] = []


def is_testing() -> bool:
    """Whether waits are skipped (`set_testing`)."""
    return stamina.is_testing()


def set_testing(active: bool = True) -> AbstractContextManager[None]:
    """Stop (or resume) real sleeping between retries and clear the recorded waits.

    Works as a plain call or as a context manager that restores the previous setting.
    """
    _waits.clear()
    return stamina.set_testing(active, attempts=_TESTING_ATTEMPTS_CAP, cap=True)


def recorded_waits(scope: Scope | None = None) -> list[float | None]:
    """Per retry since `set_testing`, oldest first: the server's wait, or None (backoff)."""
    return [w for s, w in _waits if scope is None or s == scope]


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
        if scope == "submit":
            return code == NOT_TAKEN_RETRY
        if code in NEVER_RETRY:
            return False
        return code in RETRY_STATUSES or 500 <= code <= 599
    if isinstance(exc, RequestNotSent):
        return True
    if isinstance(exc, TransportError):
        return scope != "submit"
    return False


def is_busy(exc: BaseException) -> bool:
    """Whether `exc` is a 429 answer: the gateway did not take the request, for now."""
    return isinstance(exc, HTTPStatusError) and exc.status_code == NOT_TAKEN_RETRY


def lost_create(exc: BaseException) -> bool:
    """Whether a failed create may have been taken by the provider all the same: a transport
    failure after the request left, a 408 or a 5xx answer."""
    if isinstance(exc, HTTPStatusError):
        return exc.status_code == 408 or 500 <= exc.status_code <= 599
    return isinstance(exc, TransportError) and not isinstance(exc, RequestNotSent)


def backoff_seconds(exc: BaseException, policy: RetryPolicy, failures: int) -> float:
    """The wait after the `failures`-th failure in a row: the server's (capped), else
    exponential backoff with jitter, capped at `policy.wait_max`."""
    wait = server_wait(exc, policy)
    if wait is not None:
        return wait
    grown = policy.wait_initial * 2.0 ** max(0, failures - 1)
    return min(policy.wait_max, grown + random.uniform(0, policy.wait_jitter))


def server_wait(exc: BaseException, policy: RetryPolicy) -> float | None:
    """The wait the server asked for with `exc` (Retry-After), capped; None if it gave none."""
    hint = getattr(exc, "retry_after", None)
    if isinstance(hint, int | float) and hint >= 0:
        return min(float(hint), policy.retry_after_cap)
    return None


class Retries:
    """stamina's retry loop for one call in one scope::

        async for attempt in Retries("poll", policy):
            with attempt:
                return await call()

    `retryable` says which errors may be tried again (default: `is_retryable` for the
    scope); `policy.attempts` bounds the failures in a row, and `progressed()` (a try that
    got somewhere, such as a download that received bytes) starts that count again.

    The first try runs before stamina's loop exists. Most calls succeed at once, and the
    loop (tenacity's, underneath) is a reference cycle: about 47 objects per call that only
    the cyclic garbage collector frees. A first try that fails is handed to the loop as its
    own first attempt, so the hooks, the waits and the count are the loop's, as if it had
    run from the start.
    """

    def __init__(
        self,
        scope: Scope,
        policy: RetryPolicy,
        *,
        retryable: Callable[[Exception], bool] | None = None,
    ) -> None:
        self.scope = scope
        self.policy = policy
        self._retryable = retryable or (lambda exc: is_retryable(exc, scope))
        self._failures = 0
        self._progressed = False
        self._first: _FirstTry | None = None
        self._loop: AsyncIterator[stamina.Attempt] | None = None

    def progressed(self) -> None:
        """The failing try made progress: its failure does not count against the attempts."""
        self._progressed = True

    def _on(self, exc: Exception) -> bool | float:
        """stamina's `on` hook: False to stop, else the wait (True: stamina's backoff)."""
        if not self._retryable(exc):
            return False
        self._failures = 0 if self._progressed else self._failures + 1
        self._progressed = False
        if self._failures >= self.policy.attempts:
            return False
        wait = server_wait(exc, self.policy)
        _waits.append((self.scope, wait))
        return True if wait is None else wait

    def __aiter__(self) -> Retries:
        self._first = self._loop = None  # each `async for` starts with a first try of its own
        return self

    async def __anext__(self) -> AbstractContextManager[None]:
        if self._loop is not None:
            return await anext(self._loop)
        if self._first is None:
            self._first = _FirstTry()
            return self._first
        failure = self._first.failure
        if failure is None:
            raise StopAsyncIteration  # the body ended without returning: nothing to retry
        self._first.failure = None
        self._loop = stamina.retry_context(
            on=self._on,
            attempts=None,  # counted by _on, which knows about progress
            timeout=None,
            wait_initial=self.policy.wait_initial,
            wait_max=self.policy.wait_max,
            wait_jitter=self.policy.wait_jitter,
        ).__aiter__()
        with await anext(self._loop):
            raise failure  # the loop's first attempt: it judges, then waits or re-raises
        return await anext(self._loop)


class _FirstTry(AbstractContextManager[None]):
    """The try before stamina's loop: keeps an `Exception` for the loop to judge."""

    failure: Exception | None = None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> bool:
        if isinstance(exc, Exception):
            self.failure = exc
            return True
        return False


async def retrying(
    scope: Scope,
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    what: str = "",
    retryable: Callable[[Exception], bool] | None = None,
) -> T:
    """Await `call()` until it succeeds, retrying what `scope` allows within `policy`
    (or what `retryable` allows).

    In the submit scope a failure after which the provider may have taken the create (see
    `lost_create`) is raised as `UnknownCreate` (chained to the cause), never retried; any
    other error that ends a create means the task was not taken.
    """
    try:
        async for attempt in Retries(scope, policy, retryable=retryable):
            with attempt:
                return await call()
    except (TransportError, HTTPStatusError) as exc:
        if scope == "submit" and lost_create(exc):
            label = f"{what}: " if what else ""
            raise UnknownCreate(
                f"{label}the create was sent but its answer was lost ({exc}); the "
                "provider may have taken it, so it was not sent again (it might be billed twice)",
                shot=exc.shot,
            ) from exc
        raise
    raise AssertionError("unreachable: stamina either returns or raises")
