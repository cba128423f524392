"""Per-provider request rate limits (`providers.<name>.rate`).

A gateway that allows, say, 60 requests a minute answers the 61st with 429. Spacing
requests out on our side costs nothing and saves the retry round trips: every request to a
provider's API origin waits for its turn. Results on other origins (CDNs) are not limited.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from .transport import origin_of

__all__ = ["RateLimitedTransport", "RateLimiter", "parse_rate"]

_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "m": 60.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hour": 3600.0,
}


def parse_rate(value: object) -> float:
    """Requests per second from `2`, `0.5`, `"2/s"`, `"60/min"` or `"1000/hour"`.

    Raises ValueError with a message fit for a storyboard problem.
    """
    if isinstance(value, bool):
        raise ValueError("rate must be a number of requests per second, or like '60/min'")
    if isinstance(value, int | float):
        per_second = float(value)
    elif isinstance(value, str):
        count, sep, unit = value.replace(" ", "").partition("/")
        seconds = _UNITS.get(unit.lower() or "s") if sep else 1.0
        try:
            number = float(count)
        except ValueError:
            number = -1.0
        if seconds is None or number <= 0:
            raise ValueError(f"rate {value!r} is not like '2/s', '60/min' or '1000/hour'")
        per_second = number / seconds
    else:
        raise ValueError("rate must be a number of requests per second, or like '60/min'")
    if not per_second > 0 or per_second == float("inf"):
        raise ValueError("rate must be more than 0 requests per second")
    return per_second


class RateLimiter:
    """Lets one caller through every `1 / per_second` seconds, in arrival order."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = self._clock()
            wait = self._next - now
            if wait > 0:
                await self._sleep(wait)
                now += wait
            self._next = now + self.interval


class RateLimitedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that spaces out requests to one origin."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, limiter: RateLimiter, *, origin: str
    ) -> None:
        self._inner = inner
        self._limiter = limiter
        self._origin = origin_of(origin)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if origin_of(request.url) == self._origin:
            await self._limiter.acquire()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
