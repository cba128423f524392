"""Retry scopes: what is retried, how long to wait, and creates that must not be re-sent."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
import stamina.instrumentation

from vidpipe import retry
from vidpipe.errors import HTTPStatusError, ProviderError, TransportError, UnknownCreate
from vidpipe.retry import (
    RetryPolicies,
    RetryPolicy,
    is_retryable,
    poll_hint_seconds,
    retry_after_seconds,
    retrying,
    server_wait,
)
from vidpipe.transport import RequestNotSent


@pytest.fixture(autouse=True)
def _no_sleep() -> Iterator[None]:
    with retry.set_testing(True):
        yield


def status(code: int, retry_after: float | None = None) -> HTTPStatusError:
    return HTTPStatusError(f"HTTP {code}", status_code=code, retry_after=retry_after)


class Script:
    """An async callable that raises the scripted errors, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_retry_after_ms_wins_over_retry_after() -> None:
    assert retry_after_seconds({"retry-after-ms": "250", "Retry-After": "9"}) == 0.25
    assert retry_after_seconds({"Retry-After": "3"}) == 3.0
    assert retry_after_seconds({"Retry-After": "1.5"}) == 1.5
    assert retry_after_seconds({}) is None
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({"Retry-After": "-4"}) is None
    assert retry_after_seconds({"retry-after-ms": "x", "Retry-After": "2"}) == 2.0


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC), usegmt=True)
    assert retry_after_seconds({"Retry-After": later}, now=now.timestamp()) == 30.0
    past = format_datetime(datetime(2025, 1, 1, tzinfo=UTC), usegmt=True)
    assert retry_after_seconds({"Retry-After": past}, now=now.timestamp()) == 0.0


def test_poll_hint_prefers_openai_poll_after_ms() -> None:
    assert poll_hint_seconds({"openai-poll-after-ms": "800", "Retry-After": "5"}) == 0.8
    assert poll_hint_seconds({"Retry-After": "5"}) == 5.0
    assert poll_hint_seconds({}) is None


@pytest.mark.parametrize(
    ("exc", "submit", "poll"),
    [
        (status(400), False, False),
        (status(401), False, False),
        (status(403), False, False),
        (status(404), False, False),
        # A create answered 408 or 5xx may have been taken: never sent again.
        (status(408), False, True),
        (status(409), False, True),
        (status(429), True, True),
        (status(500), False, True),
        (status(502), False, True),
        (status(503), False, True),
        (status(422), False, False),
        (RequestNotSent("connect refused"), True, True),
        (TransportError("reset after sending"), False, True),
        (ProviderError("something else"), False, False),
    ],
)
def test_what_each_scope_retries(exc: Exception, submit: bool, poll: bool) -> None:
    assert is_retryable(exc, "submit") is submit
    assert is_retryable(exc, "poll") is poll
    assert is_retryable(exc, "download") is poll


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Real waits, observed: stamina's testing mode off, and asyncio.sleep (which stamina
    calls between tries) replaced by a recorder that returns at once."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", record)
    with retry.set_testing(False):
        yield waits


def test_retry_after_is_capped() -> None:
    policy = RetryPolicy(retry_after_cap=120.0)
    assert server_wait(status(429, retry_after=9999), policy) == 120.0
    assert server_wait(status(429, retry_after=3), policy) == 3.0
    assert server_wait(status(429), policy) is None


async def test_backoff_doubles_to_a_cap_with_jitter(slept: list[float]) -> None:
    policy = RetryPolicy(attempts=8, wait_initial=0.5, wait_max=8.0, wait_jitter=0.5)
    call = Script(*[status(503)] * 7)
    assert await retrying("poll", call, policy=policy) == "ok"
    assert len(slept) == 7
    for n, wait in enumerate(slept):
        nominal = 0.5 * 2**n
        assert min(nominal, 8.0) <= wait <= min(nominal + 0.5, 8.0), (n, wait)
    assert retry.recorded_waits("poll") == [None] * 7


async def test_the_server_wait_is_slept_as_given(slept: list[float]) -> None:
    call = Script(status(429, retry_after=2.5), status(503, retry_after=500))
    assert await retrying("poll", call, policy=RetryPolicy(), what="status v1") == "ok"
    assert slept == [2.5, 120.0]


async def test_submit_raises_unknown_create_when_the_answer_was_lost() -> None:
    call = Script(TransportError("ReadError: reset", shot="s1"))
    with pytest.raises(UnknownCreate) as info:
        await retrying("submit", call, policy=RetryPolicy(attempts=5))
    assert call.calls == 1 and info.value.shot == "s1"
    assert isinstance(info.value.__cause__, TransportError)


async def test_submit_retries_what_was_never_sent_and_busy_answers() -> None:
    call = Script(RequestNotSent("refused"), status(429, retry_after=4), status(429))
    assert await retrying("submit", call, policy=RetryPolicy(attempts=4)) == "ok"
    assert call.calls == 4
    waits = retry.recorded_waits("submit")
    assert len(waits) == 3 and waits[1] == 4.0


@pytest.mark.parametrize("code", [408, 500, 502, 503, 504])
async def test_a_create_answered_408_or_5xx_is_unknown_and_never_resent(code: int) -> None:
    call = Script(status(code))
    with pytest.raises(UnknownCreate, match=f"HTTP {code}.*may have taken it") as info:
        await retrying("submit", call, policy=RetryPolicy(attempts=5), what="create s1")
    assert call.calls == 1 and isinstance(info.value.__cause__, HTTPStatusError)


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409, 422])
async def test_a_create_refused_with_4xx_was_not_taken(code: int) -> None:
    call = Script(status(code))
    with pytest.raises(HTTPStatusError) as info:
        await retrying("submit", call, policy=RetryPolicy(attempts=5))
    assert call.calls == 1 and not isinstance(info.value, UnknownCreate)
    assert info.value.status_code == code


async def test_poll_retries_a_reset_connection() -> None:
    call = Script(TransportError("reset"), TransportError("reset"))
    assert await retrying("poll", call, policy=RetryPolicy(attempts=3)) == "ok"
    assert call.calls == 3


async def test_attempts_bound_the_retries() -> None:
    call = Script(*[status(503)] * 5)
    with pytest.raises(HTTPStatusError):
        await retrying("poll", call, policy=RetryPolicy(attempts=3))
    assert call.calls == 3 and len(retry.recorded_waits("poll")) == 2


async def test_not_retried_errors_propagate_at_once() -> None:
    call = Script(status(401))
    with pytest.raises(HTTPStatusError):
        await retrying("poll", call, policy=RetryPolicy(attempts=5))
    assert call.calls == 1 and retry.recorded_waits() == []


async def test_testing_mode_never_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    call = Script(status(503, retry_after=60), status(503))
    assert await retrying("poll", call, policy=RetryPolicy()) == "ok"
    assert all(s == 0 for s in slept)
    assert retry.recorded_waits("poll") == [60.0, None]


async def test_a_call_that_succeeds_at_once_leaves_no_cyclic_garbage() -> None:
    """The retry loop's objects form reference cycles; a first try that succeeds needs none."""
    for _ in range(3):  # warm up whatever the first calls create once
        await retrying("poll", Script(), policy=RetryPolicy())
    gc.collect()
    for _ in range(50):
        assert await retrying("poll", Script(), policy=RetryPolicy()) == "ok"
    assert gc.collect() == 0


async def test_a_failed_first_try_is_the_loops_first_attempt() -> None:
    """stamina's hooks see the first failure as retry 1, as if its loop had run from the start."""
    seen: list[tuple[int, BaseException]] = []
    first, second = status(503), TransportError("reset")
    previous = stamina.instrumentation.get_on_retry_hooks()
    stamina.instrumentation.set_on_retry_hooks(
        [lambda details: seen.append((details.retry_num, details.caused_by))]
    )
    try:
        call = Script(first, second)
        assert await retrying("poll", call, policy=RetryPolicy(attempts=3)) == "ok"
    finally:
        stamina.instrumentation.set_on_retry_hooks(previous)
    assert seen == [(1, first), (2, second)] and call.calls == 3


async def test_each_loop_over_one_retries_object_runs_its_body() -> None:
    retries = retry.Retries("poll", RetryPolicy())
    ran: list[int] = []
    for n in range(2):
        async for attempt in retries:
            with attempt:
                ran.append(n)
    assert ran == [0, 1]


def test_scopes_have_their_own_policies() -> None:
    policies = RetryPolicies(submit=RetryPolicy(attempts=2), poll=RetryPolicy(attempts=9))
    assert policies.for_scope("submit").attempts == 2
    assert policies.for_scope("poll").attempts == 9
    assert policies.for_scope("download").attempts == RetryPolicies().download.attempts
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
