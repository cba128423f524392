"""The pool's idle check (`vidpipe.pool`): a connection the server closed is never reused;
and its streams' larger reads.

A real loopback server answers each request with keep-alive and then closes the connection
anyway, as a gateway's idle timeout does. The next request must see that and connect again,
through the poll of `pool._readable`, for both clients of a `Connection`.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import certifi
import httpcore
import httpx
import pytest
from httpcore._backends.anyio import AnyIOStream

from vidpipe import pool
from vidpipe.generated.apifree.client import AuthenticatedClient
from vidpipe.transport import Connection

ANSWER = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"


@asynccontextmanager
async def loopback_server(*, keep_open: bool) -> AsyncIterator[tuple[str, list[int]]]:
    """A server that answers every request `ok`; unless `keep_open`, it closes each
    connection after one answer. Yields its URL and the client port of each connection."""
    peers: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer.get_extra_info("peername")[1])
        while True:
            try:
                await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            writer.write(ANSWER)
            await writer.drain()
            if not keep_open:
                writer.close()
                return

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", peers


@pytest.mark.parametrize("which", ["api", "cdn"])
async def test_a_connection_the_server_closed_is_not_reused(
    which: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[bool] = []
    readable: Callable[..., bool] = pool._readable

    def counted(sock: object) -> bool:
        checks.append(readable(sock))
        return checks[-1]

    monkeypatch.setattr(pool, "_readable", counted)
    async with loopback_server(keep_open=False) as (url, peers):
        conn = Connection(url, "sk-pool", allow_private_urls=True)
        async with conn:
            if which == "cdn":
                client = conn.cdn_client()
            else:
                client = conn.api_client(AuthenticatedClient).get_async_httpx_client()
            for _ in range(3):
                answer = await client.get(f"{url}/v1/videos/x")
                assert answer.text == "ok"
                await asyncio.sleep(0.05)  # the server's close arrives
    assert len(set(peers)) == 3  # each request on a new connection
    assert True in checks  # the pool asked, and the closed socket read as readable


async def test_an_open_idle_connection_is_reused() -> None:
    async with loopback_server(keep_open=True) as (url, peers):
        conn = Connection(url, "sk-pool", allow_private_urls=True)
        async with conn:
            client = conn.cdn_client()
            for _ in range(3):
                assert (await client.get(f"{url}/v")).text == "ok"
    assert len(peers) == 1


def test_an_httpx_that_keeps_its_pool_elsewhere_keeps_its_own_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Moved(httpx.AsyncHTTPTransport):
        def __init__(self, **options: Any) -> None:
            super().__init__(**options)
            self._elsewhere = self.__dict__.pop("_pool")

    monkeypatch.setattr(httpx, "AsyncHTTPTransport", Moved)
    transport = pool.http_transport()
    assert isinstance(transport, Moved) and not hasattr(transport, "_pool")


async def test_streams_read_up_to_a_mib_and_httpcore_keeps_its_own_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[int] = []
    real = AnyIOStream.read

    async def spied(self: AnyIOStream, max_bytes: int, timeout: float | None = None) -> bytes:
        asked.append(max_bytes)
        return await real(self, max_bytes, timeout)

    taken: list[int] = []
    recv = socket.socket.recv

    def spied_recv(self: socket.socket, size: int, *flags: int) -> bytes:
        taken.append(size)
        return recv(self, size, *flags)

    monkeypatch.setattr(AnyIOStream, "read", spied)
    monkeypatch.setattr(socket.socket, "recv", spied_recv)
    async with loopback_server(keep_open=True) as (url, _):
        conn = Connection(url, "sk-pool", allow_private_urls=True)
        async with conn:
            assert (await conn.cdn_client().get(f"{url}/v")).text == "ok"
    # httpcore's 64 KiB reads split every read of the event loop into copied pieces.
    assert asked and min(asked) >= pool.READ_BYTES >= 1 << 20
    # The event loop takes as much from the socket in one read (asyncio's own: 256 KiB).
    assert pool.READ_BYTES in taken
    # Only vidpipe's streams read more: httpcore's own setting is left as it was.
    assert httpcore.AsyncHTTP11Connection.READ_NUM_BYTES < pool.READ_BYTES


def test_the_clients_share_one_tls_context_until_the_ca_bundle_changes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    made: list[ssl.SSLContext] = []
    real = httpx.create_ssl_context

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(httpx, "create_ssl_context", counted)
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    pool._tls.cache_clear()
    try:
        connection = Connection("https://api.example", "sk-test")
        connection.api_client(AuthenticatedClient).get_async_httpx_client()
        connection.cdn_client()
        pool.http_transport()
        assert len(made) == 1  # three clients, one CA bundle loaded
        other = tmp_path / "ca.pem"
        other.write_bytes(Path(certifi.where()).read_bytes())
        monkeypatch.setenv("SSL_CERT_FILE", str(other))
        pool.http_transport()
        assert len(made) == 2 and made[0] is not made[1]
    finally:
        pool._tls.cache_clear()


def test_a_stream_without_an_asyncio_transport_keeps_its_read_size() -> None:
    class Elsewhere:  # what a later anyio might keep there: not an asyncio transport
        max_size = 65536

    class Inner:
        _transport = Elsewhere()

    class Plain(httpcore.AsyncNetworkStream):
        _stream = Inner()

        def get_extra_info(self, info: str) -> Any:
            return None

    stream = pool._Stream(Plain())
    assert Inner._transport.max_size == 65536  # left as it was
    assert stream.get_extra_info("is_readable") is None  # no socket: the inner stream answers


async def test_a_tls_connection_keeps_asyncios_read_size() -> None:
    # anyio's TLS stream takes 64 KiB at a time from the stream under it and splits a larger
    # read of the loop, copying the rest each time: about 8 MiB copied for each 1 MiB read.
    class Tls(httpcore.AsyncNetworkStream):
        def get_extra_info(self, info: str) -> Any:
            return None

    async def start_tls(*args: object, **kwargs: object) -> httpcore.AsyncNetworkStream:
        return Tls()  # the handshake itself is not what this test is about

    async with loopback_server(keep_open=True) as (url, _):
        port = int(url.rsplit(":", 1)[1])
        inner = await httpcore.AnyIOBackend().connect_tcp("127.0.0.1", port)
        transport = inner._stream._transport  # type: ignore[attr-defined]
        asyncio_size = transport.max_size
        inner.start_tls = start_tls  # type: ignore[method-assign]
        stream = pool._Stream(inner)
        assert transport.max_size == pool.READ_BYTES > asyncio_size  # plain: the loop's reads
        await stream.start_tls(ssl.create_default_context(), "example.test")
        assert transport.max_size == asyncio_size
        await stream.aclose()
