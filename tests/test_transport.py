"""What the API client and the result-URL client leave behind once an answer is read."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx

from vidpipe.adapters import TaskSnapshot
from vidpipe.transport import Connection

from .test_adapters import API, CDN, MP4, Server, adapter, conn, server, video  # noqa: F401


def streamed(answer: Callable[[], httpx.Response]) -> Callable[[httpx.Request], httpx.Response]:
    """Replies whose body arrives as a stream, as from a socket (not read in advance)."""

    def reply(_: httpx.Request) -> httpx.Response:
        whole = answer()

        async def body() -> AsyncIterator[bytes]:
            yield whole.content

        return httpx.Response(whole.status_code, headers=whole.headers, content=body())

    return reply


async def test_answers_are_freed_without_the_cyclic_collector(
    server: Server,  # noqa: F811
    conn: Connection,  # noqa: F811
    tmp_path: Path,
) -> None:
    """httpx's stream refers back to its response: a cycle per answer, unless it is let go."""
    done = {"progress": 100, "metadata": {"url": f"{CDN}/v1.mp4"}}
    mp4 = streamed(lambda: httpx.Response(200, content=MP4))
    server.on("GET", f"{API}/v1/videos/v1", streamed(lambda: video("v1", "completed", **done)))
    server.on("GET", f"{CDN}/v1.mp4", mp4)
    server.on("GET", f"{API}/v1/videos/v2/content", mp4)
    newapi = adapter("newapi", conn)
    on_api = TaskSnapshot("v2", "succeeded", "completed", 100, None, None, None, {})

    async def read_and_download(n: int) -> None:
        snapshot = await newapi.status("v1")  # an API answer, read whole under the cap
        await newapi.download(snapshot, tmp_path / f"cdn{n}.mp4")  # the result-URL client
        await newapi.download(on_api, tmp_path / f"api{n}.mp4")  # the API client, unbounded

    await read_and_download(0)  # whatever is made once, on first use
    gc.collect()
    for n in range(1, 6):
        await read_and_download(n)
    assert gc.collect() == 0
    assert [r.url.host for r in server.requests[-3:]] == ["api.test", "cdn.test", "api.test"]
