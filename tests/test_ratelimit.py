"""Provider rate limits: parsing, spacing, and only the API origin is limited."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from vidpipe.ratelimit import RateLimitedTransport, RateLimiter, parse_rate


@pytest.mark.parametrize(
    ("text", "per_second"),
    [(2, 2.0), (0.5, 0.5), ("2/s", 2.0), ("60/min", 1.0), ("90 / minute", 1.5), ("3600/h", 1.0)],
)
def test_rates_parse(text: object, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("text", [0, -1, "0/s", "fast", "5/fortnight", True, [1]])
def test_bad_rates_are_refused(text: object) -> None:
    with pytest.raises(ValueError, match="rate"):
        parse_rate(text)


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


async def test_callers_are_spaced_by_the_interval() -> None:
    t = FakeTime()
    limiter = RateLimiter(4.0, clock=t.clock, sleep=t.sleep)
    await asyncio.gather(*(limiter.acquire() for _ in range(5)))
    assert t.waits == pytest.approx([0.25, 0.25, 0.25, 0.25])
    t.now += 10  # idle time is not saved up into a burst
    await limiter.acquire()
    await limiter.acquire()
    assert t.waits[-1] == pytest.approx(0.25) and len(t.waits) == 5


async def test_only_the_api_origin_waits() -> None:
    t = FakeTime()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200)

    transport = RateLimitedTransport(
        httpx.MockTransport(handler),
        RateLimiter(1.0, clock=t.clock, sleep=t.sleep),
        origin="https://api.example",
    )
    async with httpx.AsyncClient(transport=transport) as client:
        for _ in range(3):
            await client.get("https://api.example/v1/videos/x")
        for _ in range(3):
            await client.get("https://cdn.example/v.mp4")
    assert len(seen) == 6
    assert t.waits == pytest.approx([1.0, 1.0])
