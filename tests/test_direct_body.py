"""A large plain body read past h11 (`pool.body_chunks`), against a real loopback server:
the bytes in order (over TLS too), a body cut short or stalled failing as it does through h11,
the bodies h11 must read left to it, a download that resumes after a cut, and a whole run on a
loopback emulator."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import attrs
import httpx
import pytest
import trustme

from vidpipe import pool, retry
from vidpipe.api import run
from vidpipe.download import stream_to_file
from vidpipe.loading import load
from vidpipe.retry import RetryPolicy
from vidpipe.runner import RunOptions
from vidpipe.transport import Connection

from .runs import expected_sha256s, server, write_tiny

DIRECT = 256 << 10
BODY = hashlib.sha256(b"seed").digest() * (3 << 15)  # 3 MiB, no two neighbouring KiB alike


@pytest.fixture(autouse=True)
def _small_threshold(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(pool, "DIRECT_BYTES", DIRECT)
    with retry.set_testing(True):
        yield


@attrs.define
class Origin:
    """How the loopback server answers: `body` in pieces of `piece` bytes, the first piece
    late (so h11 holds only part of the body); cut after `cut_at` bytes (once: closed, or
    reset where `reset`), or stalled there; chunked or gzipped on request."""

    body: bytes = BODY
    piece: int = 64 << 10
    cut_at: int | None = None
    reset: bool = False
    stall_at: int | None = None
    chunked: bool = False
    gzipped: bool = False
    tls: ssl.SSLContext | None = None
    peers: list[int] = attrs.Factory(list)
    ranges: list[str | None] = attrs.Factory(list)

    async def answer(self, head: bytes, writer: asyncio.StreamWriter) -> None:
        lines = head.decode("latin-1").split("\r\n")
        method = lines[0].split(" ")[0]
        fields = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
        asked = fields.get("range")
        self.ranges.append(asked)
        start = int(asked.removeprefix("bytes=").rstrip("-")) if asked else 0
        body = gzip.compress(self.body) if self.gzipped else self.body[start:]
        status = "206 Partial Content" if start else "200 OK"
        header = f"HTTP/1.1 {status}\r\ncontent-type: video/mp4\r\n"
        if start:
            header += f"content-range: bytes {start}-{len(self.body) - 1}/{len(self.body)}\r\n"
        if self.gzipped:
            header += "content-encoding: gzip\r\n"
        header += "transfer-encoding: chunked\r\n" if self.chunked else ""
        header += "" if self.chunked else f"content-length: {len(body)}\r\n"
        writer.write(f"{header}\r\n".encode())
        await writer.drain()
        if method == "HEAD":
            return
        await asyncio.sleep(0.05)  # the headers are read before the body comes
        for offset in range(0, len(body), self.piece):
            at = start + offset
            if self.cut_at is not None and at >= self.cut_at:
                self.cut_at = None
                if self.reset:  # an RST, not a FIN: no linger, then the socket is closed
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    writer.transport.abort()
                raise ConnectionResetError  # the connection is dropped
            if self.stall_at is not None and at >= self.stall_at:
                await asyncio.sleep(30)
            piece = body[offset : offset + self.piece]
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if self.chunked else piece)
            await writer.drain()
        if self.chunked:
            writer.write(b"0\r\n\r\n")

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        handlers: set[asyncio.Task[object]] = set()

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            handlers.add(asyncio.current_task())  # type: ignore[arg-type]
            self.peers.append(writer.get_extra_info("peername")[1])
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    await self.answer(head, writer)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=self.tls)
        scheme = "http" if self.tls is None else "https"
        async with server:
            try:
                yield f"{scheme}://127.0.0.1:{server.sockets[0].getsockname()[1]}/v.mp4"
            finally:
                for handler in handlers:  # a stalled answer too
                    handler.cancel()


@pytest.fixture
def direct_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each read made past h11 (0 for one that raised)."""
    sizes: list[int] = []
    real = pool._Stream.read_direct

    async def counted(self: pool._Stream, max_bytes: int, timeout: float | None = None) -> bytes:
        sizes.append(0)
        data = await real(self, max_bytes, timeout)
        sizes[-1] = len(data)
        return data

    monkeypatch.setattr(pool._Stream, "read_direct", counted)
    return sizes


async def _get(client: httpx.AsyncClient, url: str, method: str = "GET") -> bytes:
    async with client.stream(method, url) as response:
        return b"".join([chunk async for chunk in pool.body_chunks(response)])


async def test_a_large_body_is_read_past_h11_in_order(direct_reads: list[int]) -> None:
    origin = Origin()
    async with origin.serving() as url, Connection(url, "sk", allow_private_urls=True) as conn:
        client = conn.cdn_client()
        body = await _get(client, url)
        assert body == BODY
        assert sum(direct_reads) > len(BODY) // 2  # most of it came past h11
        assert max(direct_reads) <= pool.READ_BYTES
        again = await _get(client, url)
        assert again == BODY
    # h11 still expected the body, so the connection was closed, not reused.
    assert len(origin.peers) == 2


async def test_a_large_body_over_tls_is_read_past_h11_in_order(
    direct_reads: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ca = trustme.CA()
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_side)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    pool._tls.cache_clear()
    try:
        origin = Origin(tls=server_side)
        async with (
            origin.serving() as url,
            Connection(url, "sk", allow_private_urls=True) as conn,
        ):
            body = await _get(conn.cdn_client(), url)
    finally:
        pool._tls.cache_clear()
    assert url.startswith("https://")
    assert body == BODY
    assert sum(direct_reads) > len(BODY) // 2  # decrypted by the TLS stream, past h11


@pytest.mark.parametrize("threshold", [DIRECT, 1 << 40], ids=["past h11", "through h11"])
@pytest.mark.parametrize(
    ("reset", "error"),
    [(False, httpx.RemoteProtocolError), (True, httpx.ReadError)],
    ids=["closed", "reset"],
)
async def test_a_body_cut_short_fails_as_it_does_through_h11(
    threshold: int,
    reset: bool,
    error: type[Exception],
    monkeypatch: pytest.MonkeyPatch,
    direct_reads: list[int],
) -> None:
    monkeypatch.setattr(pool, "DIRECT_BYTES", threshold)
    origin = Origin(cut_at=1 << 20, reset=reset)
    async with origin.serving() as url, Connection(url, "sk", allow_private_urls=True) as conn:
        with pytest.raises(error):
            await _get(conn.cdn_client(), url)
    assert bool(direct_reads) == (threshold == DIRECT)  # cut where each case says it read


async def test_a_stalled_body_times_out_as_it_does_through_h11(direct_reads: list[int]) -> None:
    origin = Origin(stall_at=1 << 20)
    async with origin.serving() as url, Connection(url, "sk", allow_private_urls=True) as conn:
        client = conn.cdn_client()
        async with client.stream("GET", url, timeout=httpx.Timeout(5, read=0.3)) as response:
            with pytest.raises(httpx.ReadTimeout):
                async for _ in pool.body_chunks(response):
                    pass
    assert direct_reads  # it was past h11 when the body stalled


@pytest.mark.parametrize(
    ("origin", "method", "expected"),
    [
        (Origin(chunked=True), "GET", BODY),
        (Origin(gzipped=True), "GET", BODY),  # decoded, as `aiter_bytes` does
        (Origin(), "HEAD", b""),
        (Origin(body=BODY[: DIRECT - 1]), "GET", BODY[: DIRECT - 1]),
        (Origin(body=BODY[: DIRECT + 1000], piece=DIRECT + 1000), "GET", BODY[: DIRECT + 1000]),
    ],
    ids=["chunked", "gzip", "HEAD", "small", "it came with the headers"],
)
async def test_a_body_h11_must_read_is_left_to_it(
    origin: Origin, method: str, expected: bytes, direct_reads: list[int]
) -> None:
    async with origin.serving() as url, Connection(url, "sk", allow_private_urls=True) as conn:
        client = conn.cdn_client()
        for _ in range(2):
            body = await _get(client, url, method)
            assert body == expected
    assert direct_reads == []
    assert len(origin.peers) == 1  # read to its end by h11, the connection is reused


async def test_a_download_cut_past_h11_resumes_from_where_it_was_cut(
    tmp_path: Path, direct_reads: list[int]
) -> None:
    origin = Origin(cut_at=2 << 20)
    async with origin.serving() as url, Connection(url, "sk", allow_private_urls=True) as conn:
        client = conn.cdn_client()

        @asynccontextmanager
        async def open_body(offset: int) -> AsyncIterator[httpx.Response]:
            headers = {"Range": f"bytes={offset}-"} if offset else {}
            async with client.stream("GET", url, headers=headers) as response:
                yield response

        result = await stream_to_file(open_body, tmp_path / "v.mp4", policy=RetryPolicy(attempts=3))
    assert (tmp_path / "v.mp4").read_bytes() == BODY
    assert result.sha256 == hashlib.sha256(BODY).hexdigest()
    assert origin.ranges[0] is None and origin.ranges[1] is not None
    assert int(origin.ranges[1].removeprefix("bytes=").rstrip("-")) >= 1 << 20
    assert direct_reads


@pytest.mark.e2e
def test_a_run_on_a_loopback_emulator_downloads_each_shot_past_h11(
    tmp_path: Path, direct_reads: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    board = write_tiny(tmp_path / "board")
    expected = expected_sha256s(board, tmp_path / "in-process")  # no network, no direct read
    assert not direct_reads
    monkeypatch.setattr(pool, "DIRECT_BYTES", 1)  # every body past h11 after its first bytes
    # Throttled, each video (about 6 kB) comes in pieces of 1 kB: h11's first Data event holds
    # only the first.
    with server(job_seconds=0, download_bytes_per_second=20_000) as origin:
        options = RunOptions(out_dir=tmp_path / "out", state_dir=tmp_path / "state")
        result = run(load(board, env=origin.env()), options)
    assert result.ok, result.to_json()
    assert {s.shot_id: s.sha256 for s in result.shots.values()} == expected
    assert len(direct_reads) >= len(expected)
