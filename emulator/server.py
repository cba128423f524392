"""Serving the emulator: in-process over an httpx transport, or on a real socket with uvicorn.

Both ways honour `DropConnection` from the app the way a network would show it: with no
response started the client gets a connection closed without an answer; after the headers
it gets a body cut short. In-process that is an httpx.RemoteProtocolError; on uvicorn the
socket is aborted.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import attrs
import httpx
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .app import EmulatorApp, create_app
from .config import EMBEDDED_BASE_URL, EMBEDDED_CDN_URL, EmulatorConfig
from .faults import DropConnection
from .urls import other_host

__all__ = [
    "EmbeddedEmulator",
    "InProcessTransport",
    "banner",
    "local_url",
    "running_server",
    "serve",
]


class _Body(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes], error: Exception | None) -> None:
        self._chunks = chunks
        self._error = error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk
        if self._error is not None:
            raise self._error


class InProcessTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests straight to an ASGI app, whatever the URL's host.

    Like httpx.ASGITransport, plus: a dropped connection becomes the transport error httpx
    raises for a real one, and a HEAD answer carries no body.
    """

    def __init__(self, app: ASGIApp, client: tuple[str, int] = ("127.0.0.1", 40000)) -> None:
        self.app = app
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for (k, v) in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": self.client,
            "root_path": "",
        }
        chunks_in = request.stream.__aiter__()
        request_done = False
        response_done = anyio.Event()
        status: int | None = None
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal request_done
            if request_done:
                await response_done.wait()
                return {"type": "http.disconnect"}
            try:
                chunk = await chunks_in.__anext__()
            except StopAsyncIteration:
                request_done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": chunk, "more_body": True}

        async def send(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                if body and request.method != "HEAD":
                    chunks.append(bytes(body))
                if not message.get("more_body", False):
                    response_done.set()

        error: Exception | None = None
        try:
            await self.app(scope, receive, send)
        except DropConnection:
            response_done.set()
            if status is None:
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response.", request=request
                ) from None
            received = sum(len(c) for c in chunks)
            error = httpx.RemoteProtocolError(
                f"peer closed connection without sending complete message body "
                f"(received {received} bytes)",
                request=request,
            )
        if status is None:
            raise httpx.RemoteProtocolError("The app sent no response.", request=request)
        return httpx.Response(status, headers=headers, stream=_Body(chunks, error))


@attrs.define
class EmbeddedEmulator:
    """One emulator app living in this process, reached through `transport()`.

    Its API answers on `base_url` and its CDN on `cdn_base_url`; the transport serves both
    origins (and any other host), so clients can use ordinary absolute URLs.
    """

    config: EmulatorConfig = attrs.field(factory=EmulatorConfig)
    app: EmulatorApp = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.config = attrs.evolve(
            self.config,
            base_url=self.config.base_url or EMBEDDED_BASE_URL,
            cdn_base_url=self.config.cdn_base_url or EMBEDDED_CDN_URL,
        )
        self.app = create_app(self.config)

    @property
    def base_url(self) -> str:
        assert self.config.base_url is not None
        return self.config.base_url

    @property
    def cdn_base_url(self) -> str:
        assert self.config.cdn_base_url is not None
        return self.config.cdn_base_url

    def api_base_url(self, api: str) -> str:
        """The base URL where only `api`'s specs answer (see emulator.app)."""
        return f"{self.base_url}/{api}"

    def transport(self) -> httpx.AsyncBaseTransport:
        """A new httpx transport to this emulator."""
        return InProcessTransport(self.app)

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An httpx.AsyncClient on `base_url` over `transport()`."""
        kwargs.setdefault("base_url", self.base_url)
        return httpx.AsyncClient(transport=self.transport(), **kwargs)

    def stats(self) -> dict[str, Any]:
        """The counters of ``GET /_emulator/stats``."""
        return self.app.emulator.snapshot_stats()

    def reset(self, *, everything: bool = False) -> None:
        """Clear the counters; with `everything`, also forget tasks and restart faults."""
        self.app.emulator.reset(everything=everything)


class _DroppingApp:
    """Wraps the app for uvicorn: DropConnection aborts the socket instead of a 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except DropConnection:
            # uvicorn hands the app a bound method of its per-request cycle, which holds the
            # asyncio transport. Aborting it closes the socket with nothing more sent.
            cycle = getattr(send, "__self__", None)
            transport = getattr(cycle, "transport", None)
            if transport is None:
                raise
            transport.abort()
            cycle.disconnected = True  # type: ignore[union-attr]
            await asyncio.sleep(0)


_WILDCARDS = ("0.0.0.0", "", "::")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def local_url(host: str, port: int) -> str:
    """A URL this machine reaches a server listening on `host`:`port` by."""
    return f"http://{_url_host('127.0.0.1' if host in _WILDCARDS else host)}:{port}"


def banner(host: str, port: int, config: EmulatorConfig) -> str:
    """The line `serve` announces: where the emulator is reached and what URLs it hands out.

    A wildcard bind (``0.0.0.0``) names no loopback URL another machine could not use: the
    answers then name the host each request was sent to, unless `config.base_url` is set.
    """
    listening = f"{_url_host(host or '0.0.0.0')}:{port}"
    if config.base_url is not None:
        cdn = config.cdn_base_url or config.base_url
        where = f"on {config.base_url} (CDN {cdn}), listening on {listening}"
    elif host in _WILDCARDS:
        where = (
            f"listening on {listening}: reach it at http://THIS-HOST:{port}; result URLs name "
            f"the host each request was sent to (--public-url fixes one)"
        )
    else:
        cdn = config.cdn_base_url or f"http://{other_host(f'{_url_host(host)}:{port}')}"
        where = f"on {local_url(host, port)} (CDN {cdn})"
    return f"vidpipe emulator {where}; Ctrl-C stops it"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Naming the protocol matters: asyncio sets TCP_NODELAY on accepted connections only
    # when their proto is TCP, and without it every answer waits out a delayed ACK (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


#: Seconds an idle connection is kept open. Longer than clients keep theirs (httpx: 5 s),
#: so a client never sends on a connection the server is closing at that moment: a create
#: lost that way would be `unknown` (uvicorn's default, 5 s, is exactly httpx's).
KEEP_ALIVE_SECONDS = 30


def _uvicorn(app: ASGIApp, **kwargs: Any) -> uvicorn.Server:
    settings = uvicorn.Config(
        _DroppingApp(app),
        lifespan="off",
        access_log=False,
        log_level="warning",
        proxy_headers=False,
        server_header=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        **kwargs,
    )
    return uvicorn.Server(settings)


def serve(
    host: str = "127.0.0.1",
    port: int = 8123,
    config: EmulatorConfig | None = None,
    *,
    announce: Callable[[str], object] | None = print,
) -> None:
    """Run the emulator on `host`:`port` with uvicorn until Ctrl-C.

    `announce` is called with a line naming the base URL (and the CDN's) once it listens,
    or, on a wildcard bind without `config.base_url`, saying that answers name the host each
    request was sent to.
    """
    sock = _bind(host, port)
    port = sock.getsockname()[1]
    config = config or EmulatorConfig()
    server = _uvicorn(create_app(config))
    if announce is not None:
        announce(banner(host, port, config))
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    sock.close()


@contextlib.contextmanager
def running_server(
    config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """Run the emulator with uvicorn in a background thread; yield the URL this machine
    reaches it by (answers name the host each request was sent to, unless `config.base_url`
    is set).

    With ``port=0`` a free port is picked. The server stops when the block ends.
    """
    sock = _bind(host, port)
    port = sock.getsockname()[1]
    server = _uvicorn(create_app(config or EmulatorConfig()))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="vidpipe-emulator", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator server did not start")
            time.sleep(0.005)
        yield local_url(host, port)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
