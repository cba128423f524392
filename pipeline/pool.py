"""The network transport of vidpipe's HTTP clients: httpx's, with a cheaper idle check and
larger reads.

Before each request it places, and after each answer it closes, httpcore's connection pool
asks every idle connection whether its socket has become readable (the server closed it).
Through anyio, each of those questions builds a table of every attribute of the socket,
calling getpeername() on the way, before the one poll() that answers it. At 128 shots in
flight that was a fifth of the event loop's time. The streams here answer it with that one
poll() on the socket they keep.

They also read up to `READ_BYTES` at a time where httpcore asks for 64 KiB. Its asyncio
stream splits each read of the event loop into pieces of the size asked, copying the rest
each time: a 1 GiB download spent about a second of CPU more. The event loop's own reads
are raised to `READ_BYTES` as well (asyncio takes 256 KiB from the socket at a time): the
stream stops reading between two reads of httpcore, so each of its reads costs a turn of
the loop and two epoll_ctl calls whatever its size, and a fast download spent much of its
time on those (a TLS connection keeps asyncio's size: anyio's TLS stream reads 64 KiB at a
time from the stream under it). A read returns what has arrived, so no answer waits for the
larger size to fill, and h11 parses whatever it is given. Only these streams read more;
other httpcore users in the process keep httpcore's size.

A large plain body is read past h11 (`body_chunks`): once h11 has handed over the bytes it
holds, the rest of a Content-Length body of at least `DIRECT_BYTES` comes straight from the
stream, each read as the loop made it. Through h11 every read was copied four times on its
way up (into h11's buffer, two slices of it, and httpcore's `bytes`), and the allocator gave
each 1 MiB buffer back to the kernel and faulted it in again: a 1 GiB download took 1.6 to
2.2 s of CPU that way, 1.25 to 1.5 s read past h11. h11 then still expects the body, so httpcore
closes that connection when the answer is closed; for a body this large, a new connection
for the next request costs little.

httpx takes no network backend, so `http_transport` wraps the one of the pool its transport
made (httpcore's `network_backend`: the pool reaches the network only through it).

Every transport made here shares one TLS context (httpx's default: its CA bundle, or
`SSL_CERT_FILE` / `SSL_CERT_DIR`). httpx makes one per transport, loading the CA bundle each
time: about 0.8 MB and a few milliseconds for each client a run opens (two per provider,
one for the API and one for result URLs elsewhere). A change of those variables makes a new one.
"""

from __future__ import annotations

import asyncio
import functools
import os
import select
import socket
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["DIRECT_BYTES", "READ_BYTES", "body_chunks", "http_transport", "tls_context"]

#: The most a stream takes from its socket in one read.
READ_BYTES = 1 << 20
#: The least a plain body must have left, after what h11 holds, to be read past h11. Below
#: it the connection is worth more than the CPU saved: a body read past h11 closes it.
DIRECT_BYTES = 32 << 20


def _readable(sock: socket.socket) -> bool:
    """Whether `sock` has something to read (or is closed), without waiting."""
    fd = sock.fileno()
    if fd < 0:
        return True
    if not hasattr(select, "poll"):  # Windows
        ready, _, _ = select.select([fd], [], [], 0)
        return bool(ready)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _Stream(httpcore.AsyncNetworkStream):
    """A stream of the inner backend, whose idle check polls the socket it keeps and whose
    reads take up to `READ_BYTES`."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")
        self._transport = _asyncio_transport(inner)
        self._loop_reads = 0  # the transport's own read size, before it was raised
        if self._transport is not None:
            self._loop_reads = self._transport.max_size  # type: ignore[attr-defined]
            self._transport.max_size = max(self._loop_reads, READ_BYTES)  # type: ignore[attr-defined]

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max(max_bytes, READ_BYTES), timeout)

    async def read_direct(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Up to `max_bytes` (never more: the body's end is not overread)."""
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self._transport is not None:
            # anyio's TLS stream takes 64 KiB at a time from the stream under it, and splits
            # a larger read of the loop, copying the rest each time: TLS keeps asyncio's size.
            self._transport.max_size = self._loop_reads  # type: ignore[attr-defined]
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._socket is not None:
            return _readable(self._socket)
        return self._inner.get_extra_info(info)


def _direct_length(response: httpx.Response) -> int | None:
    """The length of `response`'s body where it can be read past h11: an HTTP/1.1 body
    framed by Content-Length alone, not encoded, on one of this module's streams."""
    headers = response.headers
    if (
        response.http_version != "HTTP/1.1"
        or response.request.method == "HEAD"
        or response.status_code in (204, 304)
        or "transfer-encoding" in headers
        or headers.get("content-encoding", "identity").strip().lower() not in ("", "identity")
        or not isinstance(response.extensions.get("network_stream"), _Stream)
    ):
        return None
    length = headers.get("content-length", "").strip()
    return int(length) if length.isdigit() else None


async def body_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body of a streamed `response`, as `response.aiter_bytes()` gives it; a large plain
    body (see `DIRECT_BYTES`) is read past h11 after its first bytes, in chunks of up to
    `READ_BYTES`. A body cut short raises `httpx.RemoteProtocolError`, as through h11."""
    length = _direct_length(response)
    if length is None or length < DIRECT_BYTES:
        async for chunk in response.aiter_bytes():
            yield chunk
        return
    parsed = response.aiter_raw()
    try:
        # h11 hands over every byte of the body it holds in its first Data event: after
        # it, the rest of the body is all still in the stream.
        first = await anext(parsed, b"")
        left = length - len(first)
        if first:
            yield first
        if left < DIRECT_BYTES:  # most of it came with the headers: h11 reads the rest
            async for chunk in parsed:
                yield chunk
            return
        stream = response.extensions["network_stream"]
        timeout = response.request.extensions.get("timeout", {}).get("read")
        while left > 0:
            chunk = await _read(stream, response.request, min(left, READ_BYTES), timeout)
            if not chunk:
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body "
                    f"(received {length - left} bytes, expected {length})",
                    request=response.request,
                )
            left -= len(chunk)
            yield chunk
    finally:
        if isinstance(parsed, AsyncGenerator):  # as httpx makes it
            await parsed.aclose()


async def _read(
    stream: _Stream, request: httpx.Request, max_bytes: int, timeout: float | None
) -> bytes:
    """A read of `stream`, its failures raised as httpx raises them through h11."""
    try:
        return await stream.read_direct(max_bytes, timeout)
    except httpcore.ReadTimeout as exc:
        raise httpx.ReadTimeout(str(exc), request=request) from exc
    except httpcore.ReadError as exc:
        raise httpx.ReadError(str(exc), request=request) from exc


def _asyncio_transport(stream: httpcore.AsyncNetworkStream) -> asyncio.Transport | None:
    """The asyncio transport under `stream`, whose `max_size` is the loop's read size.

    httpcore's anyio stream keeps anyio's as `_stream`, which keeps its asyncio transport as
    `_transport`. Should a later httpcore or anyio keep them elsewhere (or a TLS stream be
    in between), None: the loop then reads 256 KiB at a time, slower, never wrong.
    """
    transport = getattr(getattr(stream, "_stream", None), "_transport", None)
    if isinstance(transport, asyncio.Transport) and isinstance(
        getattr(transport, "max_size", None), int
    ):
        return transport
    return None


class _Backend(httpcore.AsyncNetworkBackend):
    """The pool's own backend, with its streams wrapped in `_Stream`."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _Stream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.lru_cache(maxsize=4)
def _tls(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    # The variables are the key: httpx reads them while it makes the context.
    return httpx.create_ssl_context()


def tls_context() -> ssl.SSLContext:
    """httpx's default TLS context, made once for the CA bundle the environment names."""
    return _tls(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


def http_transport() -> httpx.AsyncHTTPTransport:
    """httpx's network transport, its pool on the cheaper idle check and the shared TLS
    context."""
    transport = httpx.AsyncHTTPTransport(verify=tls_context())
    # httpx keeps its httpcore pool (a proxy's pool is one too) as `_pool`. Should a later
    # httpx keep it elsewhere, its own idle check and read size stay: slower, never wrong.
    pool = getattr(transport, "_pool", None)
    if isinstance(pool, httpcore.AsyncConnectionPool) and hasattr(pool, "_network_backend"):
        pool._network_backend = _Backend(pool._network_backend)
    return transport
