"""Memory held while downloading a video: streamed to disk versus read whole.

A video is streamed from an in-process server through the same code the runner uses
(`pipeline.download.stream_to_file`) and, as the baseline, read whole with
`response.content` the way a generated client's plain call would. Peak Python memory is
measured with tracemalloc:

- streamed_peak_vs_size: peak memory while streaming / file size (well below 1: the
  file never sits in memory).
- streamed_vs_whole: streamed peak / read-whole peak.
"""

from __future__ import annotations

import asyncio
import tempfile
import tracemalloc
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from vidpipe.download import stream_to_file
from vidpipe.retry import RetryPolicy

SIZE = 48 << 20
CHUNK = 64 << 10


def _handler(request: httpx.Request) -> httpx.Response:
    async def body() -> AsyncIterator[bytes]:
        block = b"\0" * CHUNK
        for _ in range(SIZE // CHUNK):
            yield block

    headers = {"content-length": str(SIZE), "content-type": "video/mp4"}
    return httpx.Response(200, content=body(), headers=headers)


async def _whole() -> int:
    async with httpx.AsyncClient(transport=httpx.MockTransport(_handler)) as client:
        response = await client.get("http://cdn.test/v.mp4")
        return len(response.content)


async def _streamed(dest: Path) -> int:
    async with httpx.AsyncClient(transport=httpx.MockTransport(_handler)) as client:

        @asynccontextmanager
        async def open_body(offset: int) -> AsyncIterator[httpx.Response]:
            async with client.stream("GET", "http://cdn.test/v.mp4") as response:
                yield response

        result = await stream_to_file(open_body, dest, policy=RetryPolicy())
        return result.size


def _peak(coro_factory: Callable[[], Coroutine[Any, Any, int]]) -> int:
    tracemalloc.start()
    try:
        asyncio.run(coro_factory())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        dest = Path(tmp) / "v.mp4"
        streamed = _peak(lambda: _streamed(dest))
        assert dest.stat().st_size == SIZE
    whole = _peak(_whole)
    return {
        "file_mib": SIZE >> 20,
        "streamed_peak_mib": round(streamed / 2**20, 2),
        "whole_peak_mib": round(whole / 2**20, 2),
        "streamed_peak_vs_size": round(streamed / SIZE, 4),
        "streamed_vs_whole": round(streamed / whole, 4),
    }
