"""Streamed downloads: resume with Range, restart on 200, truncation, verification."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from vidpipe import download, retry, serial
from vidpipe.download import part_path, stream_to_file
from vidpipe.errors import HTTPStatusError, IntegrityError, TransportError, WriteError
from vidpipe.retry import RetryPolicy

URL = "http://cdn.test/v.mp4"
BODY = bytes(range(256)) * 1000  # 256 kB
WAIT = 10.0


@pytest.fixture(autouse=True)
def _no_sleep() -> Iterator[None]:
    with retry.set_testing(True):
        yield


class Chunks(httpx.AsyncByteStream):
    """Sends `data` in 8 kB chunks."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(0, len(self.data), 8192):
            yield self.data[i : i + 8192]


class Broken(Chunks):
    """Sends `data` in chunks, then drops the connection."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in super().__aiter__():
            yield chunk
        raise httpx.ReadError("connection reset by peer")


def range_start(request: httpx.Request) -> int | None:
    value = request.headers.get("range")
    return None if value is None else int(value.removeprefix("bytes=").rstrip("-"))


def partial(start: int, body: bytes = BODY, total: str | None = None) -> httpx.Response:
    total = total or str(len(body))
    return httpx.Response(
        206,
        headers={"content-range": f"bytes {start}-{len(body) - 1}/{total}"},
        content=body[start:],
    )


class Origin:
    """A MockTransport-backed origin with a scripted reply per request."""

    def __init__(self, *replies: Callable[[httpx.Request], httpx.Response]) -> None:
        self.replies = list(replies)
        self.ranges: list[int | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.ranges.append(range_start(request))
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return reply(request)

    def opener(self) -> Callable[[int], AbstractAsyncContextManager[httpx.Response]]:
        client = httpx.AsyncClient(transport=httpx.MockTransport(self))

        @asynccontextmanager
        async def open_body(offset: int) -> AsyncIterator[httpx.Response]:
            headers = {"Range": f"bytes={offset}-"} if offset else {}
            async with client.stream("GET", URL, headers=headers) as response:
                if response.status_code not in (200, 206):
                    raise HTTPStatusError("bad", status_code=response.status_code)
                yield response

        return open_body


def resume(request: httpx.Request) -> httpx.Response:
    start = range_start(request)
    return partial(start) if start else httpx.Response(200, content=BODY)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_a_dropped_connection_resumes_with_range(tmp_path: Path) -> None:
    cut = 40_000
    broken = httpx.Response(
        200, headers={"content-length": str(len(BODY))}, stream=Broken(BODY[:cut])
    )
    origin = Origin(lambda r: broken, resume)
    dest = tmp_path / "v.mp4"
    got = await stream_to_file(origin.opener(), dest, policy=RetryPolicy(attempts=3))
    assert dest.read_bytes() == BODY and got.sha256 == sha(BODY) and got.size == len(BODY)
    assert origin.ranges == [None, cut]
    assert not part_path(dest).exists()


async def test_a_truncated_body_is_detected_and_resumed(tmp_path: Path) -> None:
    short = httpx.Response(200, headers={"content-length": str(len(BODY))}, content=BODY[:1000])
    origin = Origin(lambda r: short, resume)
    got = await stream_to_file(origin.opener(), tmp_path / "v.mp4", policy=RetryPolicy())
    assert got.sha256 == sha(BODY) and origin.ranges == [None, 1000]


async def test_a_truncated_range_is_resumed_again(tmp_path: Path) -> None:
    def short_range(request: httpx.Request) -> httpx.Response:
        start = range_start(request) or 0
        end = min(start + 50_000, len(BODY))
        return httpx.Response(
            206 if start else 200,
            headers={
                "content-length": str(len(BODY) - start),
                **(
                    {"content-range": f"bytes {start}-{len(BODY) - 1}/{len(BODY)}"} if start else {}
                ),
            },
            content=BODY[start:end],
        )

    origin = Origin(short_range)
    # Every try brings new bytes, so two attempts are enough for six tries.
    got = await stream_to_file(origin.opener(), tmp_path / "v.mp4", policy=RetryPolicy(attempts=2))
    assert got.sha256 == sha(BODY)
    assert origin.ranges == [None, 50_000, 100_000, 150_000, 200_000, 250_000]


async def test_a_server_ignoring_range_restarts_from_zero(tmp_path: Path) -> None:
    short = httpx.Response(200, headers={"content-length": str(len(BODY))}, content=BODY[:5000])
    origin = Origin(lambda r: short, lambda r: httpx.Response(200, content=BODY))
    got = await stream_to_file(origin.opener(), tmp_path / "v.mp4", policy=RetryPolicy())
    assert (tmp_path / "v.mp4").read_bytes() == BODY and got.sha256 == sha(BODY)
    assert origin.ranges == [None, 5000]


async def test_a_range_from_the_wrong_offset_restarts_without_range(tmp_path: Path) -> None:
    short = httpx.Response(200, headers={"content-length": str(len(BODY))}, content=BODY[:5000])
    origin = Origin(
        lambda r: short, lambda r: partial(7000), lambda r: httpx.Response(200, content=BODY)
    )
    got = await stream_to_file(origin.opener(), tmp_path / "v.mp4", policy=RetryPolicy())
    assert got.sha256 == sha(BODY) and origin.ranges == [None, 5000, None]


async def test_416_on_resume_restarts(tmp_path: Path) -> None:
    short = httpx.Response(200, headers={"content-length": str(len(BODY))}, content=BODY[:10])
    origin = Origin(
        lambda r: short, lambda r: httpx.Response(416), lambda r: httpx.Response(200, content=BODY)
    )
    got = await stream_to_file(origin.opener(), tmp_path / "v.mp4", policy=RetryPolicy())
    assert got.sha256 == sha(BODY) and origin.ranges == [None, 10, None]


async def test_unknown_total_in_content_range(tmp_path: Path) -> None:
    short = httpx.Response(200, headers={"content-length": str(len(BODY))}, content=BODY[:100])
    origin = Origin(lambda r: short, lambda r: partial(100, total="*"))
    got = await stream_to_file(origin.opener(), tmp_path / "v.mp4", policy=RetryPolicy())
    assert got.sha256 == sha(BODY)


async def test_stalled_tries_give_up_and_leave_nothing(tmp_path: Path) -> None:
    origin = Origin(
        lambda r: httpx.Response(200, headers={"content-length": "100"}, stream=Broken(b""))
    )
    dest = tmp_path / "v.mp4"
    with pytest.raises(TransportError):
        await stream_to_file(origin.opener(), dest, policy=RetryPolicy(attempts=3))
    assert len(origin.ranges) == 3 and len(retry.recorded_waits("download")) == 2
    assert not dest.exists() and not part_path(dest).exists()


async def test_more_bytes_than_announced_is_an_integrity_error(tmp_path: Path) -> None:
    long = httpx.Response(200, headers={"content-length": "10"}, content=BODY[:10_000])
    origin = Origin(lambda r: long)
    with pytest.raises(IntegrityError):
        await stream_to_file(origin.opener(), tmp_path / "v.mp4", policy=RetryPolicy())
    assert len(origin.ranges) == 1


async def test_expected_digest_is_checked(tmp_path: Path) -> None:
    origin = Origin(lambda r: httpx.Response(200, content=BODY))
    dest = tmp_path / "v.mp4"
    with pytest.raises(IntegrityError):
        await stream_to_file(origin.opener(), dest, policy=RetryPolicy(), expected_sha256="0" * 64)
    assert not dest.exists() and not part_path(dest).exists()
    got = await stream_to_file(
        origin.opener(), dest, policy=RetryPolicy(), expected_sha256=sha(BODY)
    )
    assert got.path == dest


async def test_an_existing_file_is_replaced_only_when_complete(tmp_path: Path) -> None:
    dest = tmp_path / "v.mp4"
    dest.write_bytes(b"old")
    failing = Origin(
        lambda r: httpx.Response(200, headers={"content-length": "9"}, stream=Broken(b""))
    )
    with pytest.raises(TransportError):
        await stream_to_file(failing.opener(), dest, policy=RetryPolicy(attempts=1))
    assert dest.read_bytes() == b"old"
    ok = Origin(lambda r: httpx.Response(200, content=BODY))
    await stream_to_file(ok.opener(), dest, policy=RetryPolicy())
    assert dest.read_bytes() == BODY


async def test_progress_reports_bytes_and_total_once_a_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "BATCH_BYTES", 65536)
    seen: list[tuple[int, int | None]] = []
    origin = Origin(
        lambda r: httpx.Response(
            200, headers={"content-length": str(len(BODY))}, stream=Chunks(BODY)
        )
    )
    await stream_to_file(
        origin.opener(),
        tmp_path / "v.mp4",
        policy=RetryPolicy(),
        on_progress=lambda d, t: seen.append((d, t)),
    )
    assert seen[0] == (0, len(BODY)) and seen[-1] == (len(BODY), len(BODY))
    assert [d for d, _ in seen] == [*range(0, len(BODY), 65536), len(BODY)]
    assert (tmp_path / "v.mp4").read_bytes() == BODY


async def test_a_full_disk_is_a_write_error_never_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "BATCH_BYTES", 32768)
    written = 0
    real_store = download._Partial._store

    def fill(self: download._Partial, batch: list[bytes], hasher: Any) -> None:
        nonlocal written
        written += sum(map(len, batch))
        if written > 64_000:  # in the writer thread, as a real full disk would be
            raise OSError(errno.ENOSPC, "No space left on device")
        real_store(self, batch, hasher)

    monkeypatch.setattr(download._Partial, "_store", fill)
    origin = Origin(resume)
    dest = tmp_path / "v.mp4"
    with pytest.raises(WriteError, match=r"cannot write .*No space left on device") as info:
        await stream_to_file(origin.opener(), dest, policy=RetryPolicy(attempts=5))
    assert info.value.path == str(dest)
    assert origin.ranges == [None]  # one try: a full disk is not a network failure
    assert not dest.exists() and not part_path(dest).exists()


async def test_a_destination_that_cannot_be_opened_is_a_write_error(tmp_path: Path) -> None:
    dest = tmp_path / "v.mp4"
    part_path(dest).mkdir()  # in the way of the partial file
    with pytest.raises(WriteError, match="Is a directory"):
        await stream_to_file(Origin(resume).opener(), dest, policy=RetryPolicy())


async def test_the_body_is_hashed_and_written_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "BATCH_BYTES", 65536)
    threads: list[int] = []
    batches: list[int] = []
    real_store = download._Partial._store

    def store(self: download._Partial, batch: list[bytes], hasher: Any) -> None:
        threads.append(threading.get_ident())
        batches.append(sum(map(len, batch)))
        real_store(self, batch, hasher)

    monkeypatch.setattr(download._Partial, "_store", store)
    origin = Origin(lambda r: httpx.Response(200, stream=Chunks(BODY)))
    got = await stream_to_file(origin.opener(), tmp_path / "v.mp4", policy=RetryPolicy())
    assert got.sha256 == sha(BODY) and (tmp_path / "v.mp4").read_bytes() == BODY
    assert threads and threading.get_ident() not in threads
    assert batches == [65536, 65536, 65536, len(BODY) - 3 * 65536]  # large writes, in order


async def test_many_downloads_at_once_share_a_few_threads_each_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "BATCH_BYTES", 8192)  # 32 batches a file
    threads: set[threading.Thread] = set()  # the objects: an ident is reused
    real_store = download._Partial._store

    def store(self: download._Partial, batch: list[bytes], hasher: Any) -> None:
        threads.add(threading.current_thread())
        real_store(self, batch, hasher)

    monkeypatch.setattr(download._Partial, "_store", store)
    bodies = [bytes([i]) * 7 + BODY for i in range(64)]

    async def one(i: int) -> download.DownloadResult:
        origin = Origin(lambda r: httpx.Response(200, stream=Chunks(bodies[i])))
        return await stream_to_file(origin.opener(), tmp_path / f"{i}.mp4", policy=RetryPolicy())

    got = await asyncio.gather(*(one(i) for i in range(64)))
    assert [g.sha256 for g in got] == [sha(b) for b in bodies]  # every batch in its place
    assert all((tmp_path / f"{i}.mp4").read_bytes() == bodies[i] for i in range(64))
    assert 1 <= len(threads) <= serial.POOL_THREADS  # not a thread for each download


async def test_a_cancelled_download_ends_its_writes_before_it_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "BATCH_BYTES", 8192)
    writing, release = threading.Event(), threading.Event()
    stores: list[str] = []
    real_store = download._Partial._store

    def store(self: download._Partial, batch: list[bytes], hasher: Any) -> None:
        writing.set()
        release.wait(WAIT)
        real_store(self, batch, hasher)
        stores.append("ended" if release.is_set() else "timed out")

    monkeypatch.setattr(download._Partial, "_store", store)

    class Endless(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            while True:
                yield b"x" * 8192
                await asyncio.sleep(0)

    dest = tmp_path / "v.mp4"
    origin = Origin(lambda r: httpx.Response(200, stream=Endless()))
    task = asyncio.create_task(stream_to_file(origin.opener(), dest, policy=RetryPolicy()))
    assert await asyncio.to_thread(writing.wait, WAIT)
    task.cancel()
    threading.Timer(0.2, release.set).start()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert release.is_set() and stores and set(stores) == {"ended"}  # none left running
    assert not part_path(dest).exists() and not dest.exists()
    ended = len(stores)
    await asyncio.sleep(0.1)
    assert len(stores) == ended  # nothing written after it returned
    # The batches handed over, and the one being gathered (what arrived is kept).
    assert ended <= download.BATCHES_IN_FLIGHT + 1


async def test_the_file_and_its_folder_are_fsynced_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[tuple[str, int]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        kind = "folder" if os.path.isdir(f"/proc/self/fd/{fd}") else "file"
        synced.append((kind, threading.get_ident()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    origin = Origin(lambda r: httpx.Response(200, content=BODY))
    await stream_to_file(origin.opener(), tmp_path / "v.mp4", policy=RetryPolicy())
    assert [kind for kind, _ in synced] == ["file", "folder"]
    assert threading.get_ident() not in {thread for _, thread in synced}


async def test_the_loop_reads_on_while_batches_are_written_but_only_so_far(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = 32768
    monkeypatch.setattr(download, "BATCH_BYTES", batch)
    real_store = download._Partial._store
    ahead: list[int] = []  # bytes taken by the loop and not yet written, seen by the writer
    first = threading.Event()

    def store(self: download._Partial, chunks: list[bytes], hasher: Any) -> None:
        if not first.is_set():
            # The first write is stuck until the loop has handed over every batch it may
            # and filled the next one (or five seconds pass, if it never gets that far).
            deadline = 500
            while self.written < (download.BATCHES_IN_FLIGHT + 1) * batch and deadline:
                threading.Event().wait(0.01)
                deadline -= 1
            first.set()
        ahead.append(self.written - self._stored)
        real_store(self, chunks, hasher)

    monkeypatch.setattr(download._Partial, "_store", store)
    origin = Origin(lambda r: httpx.Response(200, stream=Chunks(BODY)))
    got = await stream_to_file(origin.opener(), tmp_path / "v.mp4", policy=RetryPolicy())
    assert got.sha256 == sha(BODY) and (tmp_path / "v.mp4").read_bytes() == BODY
    assert download.BATCHES_IN_FLIGHT >= 2
    assert ahead[0] == (download.BATCHES_IN_FLIGHT + 1) * batch  # it read on meanwhile
    assert max(ahead) <= (download.BATCHES_IN_FLIGHT + 1) * batch  # and no further


async def test_a_slow_download_keeps_what_arrived_in_the_part_file_as_it_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A batch far larger than the video would otherwise reach the file only at the end:
    # a run killed meanwhile would leave nothing to resume from.

    monkeypatch.setattr(download, "BATCH_SECONDS", 0.05)
    body = BODY[:16384]
    dest = tmp_path / "v.mp4"
    on_disk: list[int] = []

    class Slow(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for i in range(0, len(body), 1024):
                yield body[i : i + 1024]
                await asyncio.sleep(0.02)
                part = part_path(dest)
                on_disk.append(part.stat().st_size if part.exists() else 0)

    origin = Origin(lambda r: httpx.Response(200, stream=Slow()))
    got = await stream_to_file(origin.opener(), dest, policy=RetryPolicy())
    assert got.sha256 == sha(body) and dest.read_bytes() == body
    assert len(body) < download.BATCH_BYTES
    assert 0 < max(on_disk[:-1]) < len(body), on_disk  # written as it came, not at the end
