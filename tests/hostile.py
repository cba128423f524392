"""A hostile gateway on a real loopback port: it takes creates and answers status reads and
downloads however a test tells it to (HTML, huge JSON, odd result URLs, redirect chains).

It speaks the apifree API (`POST /v1/videos`, `GET /v1/videos/{id}`, its content route);
every request it gets is recorded, and `sent` counts the bytes of the streamed answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import attrs
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

TASK = "vid_hostile_1"
Handler = Callable[[Request], Response]


@attrs.define
class Gateway:
    """The routes it serves (path -> handler) and what it saw."""

    base_url: str = ""
    routes: dict[str, Handler] = attrs.Factory(dict)
    requests: list[str] = attrs.Factory(list)
    sent: int = 0

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.endswith(" " + path))

    def status(self, body: dict[str, Any]) -> None:
        """Status reads of the task answer `body`."""
        self.routes[f"/v1/videos/{TASK}"] = lambda request: JSONResponse(body)

    def completed(self, **fields: Any) -> None:
        """The task is completed, with these extra fields (`metadata={"url": ...}`)."""
        self.status(
            {"id": TASK, "object": "video", "status": "completed", "progress": 100, **fields}
        )

    def endless(
        self, path: str, prefix: bytes, content_type: str = "application/json", size: int = 1 << 30
    ) -> None:
        """`path` answers 200 with `prefix` and then filler, `size` bytes in all, in chunks
        (no Content-Length), made as they are sent: the server never holds the answer."""

        async def body() -> AsyncIterator[bytes]:
            yield prefix
            block = b"x" * (256 << 10)
            left = size - len(prefix)
            while left > 0:
                chunk = block[:left]
                left -= len(chunk)
                self.sent += len(chunk)
                yield chunk
                await asyncio.sleep(0)  # lets the server notice that the client left

        self.routes[path] = lambda request: StreamingResponse(body(), media_type=content_type)


def _app(gateway: Gateway) -> Starlette:
    async def handle(request: Request) -> Response:
        gateway.requests.append(f"{request.method} {request.url.path}")
        if request.method == "POST" and request.url.path == "/v1/videos":
            await request.body()
            created = gateway.routes.get("create")
            if created is not None:
                return created(request)
            return JSONResponse({"id": TASK, "object": "video", "status": "queued", "progress": 0})
        handler = gateway.routes.get(request.url.path)
        if handler is None:
            return JSONResponse({"error": {"message": "not found"}}, status_code=404)
        return handler(request)

    return Starlette(routes=[Route("/{path:path}", handle, methods=["GET", "POST"])])


@contextlib.contextmanager
def hostile_gateway() -> Iterator[Gateway]:
    """A `Gateway` served by uvicorn on 127.0.0.1 in a background thread."""
    gateway = Gateway()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(_app(gateway), log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the hostile gateway did not start")
            time.sleep(0.005)
        gateway.base_url = f"http://127.0.0.1:{port}"
        yield gateway
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
