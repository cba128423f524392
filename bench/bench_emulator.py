"""How fast the emulator answers polls, against a bare ASGI endpoint on the same server.

Both run on uvicorn on a loopback socket in this process and are polled by one httpx
client with keep-alive, so the ratio shows what the emulator's routing, auth, task lookup
and JSON answer cost over the server itself:

- poll_vs_bare: emulator polls per second / bare endpoint requests per second.
- polls_per_second, bare_per_second: the two rates (only meaningful within one run).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import httpx
from starlette.responses import JSONResponse
from starlette.routing import Route, Router

from vidpipe.emulator import EmulatorConfig, running_server
from vidpipe.emulator.server import _bind, _uvicorn

POLLS = 2000


@contextlib.contextmanager
def _bare_server() -> Iterator[str]:
    async def answer(request: object) -> JSONResponse:
        return JSONResponse({"id": "video_1", "status": "in_progress", "progress": 50})

    sock = _bind("127.0.0.1", 0)
    server = _uvicorn(Router([Route("/v1/videos/{id}", answer)]))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.005)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _rate(client: httpx.Client, path: str) -> float:
    client.get(path).raise_for_status()  # warm the connection
    start = time.perf_counter()
    for _ in range(POLLS):
        client.get(path)
    return POLLS / (time.perf_counter() - start)


def run() -> dict[str, object]:
    headers = {"Authorization": "Bearer bench"}
    with _bare_server() as base, httpx.Client(base_url=base) as client:
        bare = _rate(client, "/v1/videos/video_1")
    config = EmulatorConfig(job_seconds=3600)
    with running_server(config) as base, httpx.Client(base_url=base, headers=headers) as client:
        created = client.post(
            "/newapi/v1/videos", files={"model": (None, "veo3"), "prompt": (None, "bench")}
        )
        created.raise_for_status()
        polls = _rate(client, f"/newapi/v1/videos/{created.json()['id']}")
    return {
        "polls": POLLS,
        "polls_per_second": round(polls, 1),
        "bare_per_second": round(bare, 1),
        "poll_vs_bare": round(polls / bare, 3),
    }
