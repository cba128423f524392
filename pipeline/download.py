"""Streamed, resumable and verified downloads.

The body goes to `<dest>.part` in the destination folder, hashed (sha256) while it is
written, checked against Content-Length (or Content-Range), fsynced and only then renamed to
`dest`. A broken or truncated transfer resumes with `Range: bytes=N-`; a server that answers
the range with a plain 200 is followed from byte zero. The whole video is never in memory:
the body is gathered into batches of about a MiB, and each batch is hashed and written, in
order, by one of a few threads shared by all downloads (`serial`) while the event loop reads
on (at most `BATCHES_IN_FLIGHT` batches handed over and not yet written, one more being
gathered), so the loop does not wait on the disk or on sha256 (nor on the fsyncs of the file
and its folder), and the memory a download holds stays bounded. A large plain body is read
past h11 (`pool.body_chunks`).
A file that cannot be written (disk full, no permission) is a `WriteError`, never retried.
A `check_start` (such as `media.check_video`) sees the response and its first bytes before
anything is written, and may refuse them: an HTML page is not saved as a video.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import os
import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import BinaryIO

import attrs
import httpx

from .errors import HTTPStatusError, IntegrityError, NotAVideo, TransportError, WriteError
from .media import HEAD_BYTES, StartCheck
from .pool import body_chunks
from .retry import Retries, RetryPolicy, is_retryable
from .serial import Serial
from .transport import transport_error

__all__ = ["DownloadResult", "Opener", "ProgressFn", "part_path", "stream_to_file"]

#: Opens the body from byte `offset` (0: the whole file). The response it yields has status
#: 200 or 206; the opener raises a vidpipe error for anything else.
Opener = Callable[[int], AbstractAsyncContextManager[httpx.Response]]
ProgressFn = Callable[[int, int | None], None]

#: Bytes gathered before a batch is handed to the writer thread: about one read of the
#: network stream (`pool.READ_BYTES`). The writer hashes a small batch while much of it is
#: still in the processor's cache; 4 MiB batches downloaded about 8% slower.
BATCH_BYTES = 1 << 20
#: Batches handed to the writer thread and not yet written: the loop reads on meanwhile.
BATCHES_IN_FLIGHT = 2
#: A slow download hands its bytes over at least this often (seconds), so that a run killed
#: meanwhile leaves them in the part file for the next run to resume from.
BATCH_SECONDS = 0.25
#: Bytes written between two requests to the kernel to start writing them back (Linux).
WRITEBACK_BYTES = 16 << 20

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


@attrs.frozen
class DownloadResult:
    """A file on disk, complete and verified."""

    path: Path
    sha256: str
    size: int


def part_path(dest: Path) -> Path:
    """Where the body of `dest` is written until it is complete."""
    return dest.with_name(dest.name + ".part")


class _Restart(TransportError):
    """The server's range does not continue what is on disk: start again from zero."""


class _RangeRefused(TransportError):
    """The server refused the range (416) of a partial file: start again from zero."""


@attrs.define
class _Partial:
    """The part file: batches of the body are hashed and written in `worker`, in order.

    `written` counts the bytes handed over; they are all in the file (and the hash) once
    `drain` returns. At most `BATCHES_IN_FLIGHT` batches are in the worker (in order) while
    the next is gathered.
    """

    fh: BinaryIO
    worker: Serial
    written: int = 0
    hasher: hashlib._Hash = attrs.Factory(hashlib.sha256)
    _batch: list[bytes] = attrs.Factory(list)
    _batched: int = 0
    _begun: float = 0.0  # when the first chunk of the batch being gathered came
    _pending: collections.deque[asyncio.Future[None]] = attrs.Factory(collections.deque)
    _stored: int = 0  # bytes the worker wrote to the file
    _flushed: int = 0  # of which the kernel was asked to start writing back

    async def reset(self) -> None:
        await self.drain()
        self.fh.seek(0)
        self.fh.truncate()
        self.written = self._stored = self._flushed = 0
        self.hasher = hashlib.sha256()

    async def write(self, chunk: bytes) -> bool:
        """Take `chunk`; True when a batch (full, or gathered for `BATCH_SECONDS`) was handed
        to the worker."""
        now = time.monotonic()
        if not self._batch:
            self._begun = now
        self._batch.append(chunk)
        self._batched += len(chunk)
        self.written += len(chunk)
        if self._batched < BATCH_BYTES and now - self._begun < BATCH_SECONDS:
            return False
        await self._hand_over()
        return True

    async def drain(self) -> None:
        """Wait until every byte taken is hashed and written."""
        await self._hand_over()
        await self._wait()

    async def _wait(self, keep: int = 0) -> None:
        while len(self._pending) > keep:
            await self._pending.popleft()

    async def _hand_over(self) -> None:
        await self._wait(keep=BATCHES_IN_FLIGHT - 1)
        batch, self._batch, self._batched = self._batch, [], 0
        if batch:
            future = self.worker.submit(self._store, batch, self.hasher)
            self._pending.append(asyncio.wrap_future(future))

    def _store(self, batch: list[bytes], hasher: hashlib._Hash) -> None:
        # Both release the GIL on chunks this large: the loop keeps reading meanwhile.
        for chunk in batch:
            hasher.update(chunk)
            self.fh.write(chunk)
        self.fh.flush()  # into the file, not the writer's buffer: a kill keeps them
        self._stored += sum(map(len, batch))
        if self._stored - self._flushed >= WRITEBACK_BYTES:
            # Start writing the pages out now, so the final fsync has little left to wait for.
            self.fh.flush()
            with contextlib.suppress(OSError, AttributeError):
                os.posix_fadvise(
                    self.fh.fileno(),
                    self._flushed,
                    self._stored - self._flushed,
                    os.POSIX_FADV_DONTNEED,
                )
            self._flushed = self._stored


def _int_header(response: httpx.Response, name: str) -> int | None:
    raw = response.headers.get(name)
    if raw is None or not raw.strip().isdigit():
        return None
    return int(raw)


def _body_plan(response: httpx.Response, offset: int) -> tuple[int, int | None]:
    """(first byte of this body, total size of the file or None if unknown)."""
    encoded = response.headers.get("content-encoding", "identity").lower() not in ("", "identity")
    length = None if encoded else _int_header(response, "content-length")
    if response.status_code == 206:
        match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
        if match is None:
            return offset, None if length is None else offset + length
        start = int(match.group(1))
        if match.group(3) != "*":
            return start, int(match.group(3))
        return start, None if length is None else start + length
    return 0, length


async def stream_to_file(
    open_body: Opener,
    dest: Path,
    *,
    policy: RetryPolicy,
    on_progress: ProgressFn | None = None,
    expected_sha256: str | None = None,
    max_bytes: int = 16 << 30,
    what: str = "download",
    check_start: StartCheck | None = None,
) -> DownloadResult:
    """Stream the body `open_body` yields into `dest`, resuming within the download scope.

    `policy.attempts` bounds the failed tries in a row that brought no new bytes; a try
    that made progress resets the count. A range the server does not continue (or refuses
    with 416) starts the file again from byte zero. Raises `IntegrityError` when the file
    is larger than announced or does not match `expected_sha256`, and `WriteError` when the
    file cannot be written.
    """
    try:
        return await _stream_to_file(
            open_body,
            dest,
            policy=policy,
            on_progress=on_progress,
            expected_sha256=expected_sha256,
            max_bytes=max_bytes,
            what=what,
            check_start=check_start,
        )
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise WriteError(f"{what}: cannot write {dest}: {reason}", path=str(dest)) from exc


async def _stream_to_file(
    open_body: Opener,
    dest: Path,
    *,
    policy: RetryPolicy,
    on_progress: ProgressFn | None,
    expected_sha256: str | None,
    max_bytes: int,
    what: str,
    check_start: StartCheck | None,
) -> DownloadResult:
    part = part_path(dest)
    part.parent.mkdir(parents=True, exist_ok=True)
    done = False
    worker = Serial()  # in order, on threads shared with the other downloads
    try:
        # The worker stops (`close`) before the file closes: nothing writes to a closed file.
        with open(part, "wb") as fh, contextlib.closing(worker):
            state = _Partial(fh, worker)

            def retryable(exc: Exception) -> bool:
                if isinstance(exc, _Restart | _RangeRefused | NotAVideo):
                    return True
                return is_retryable(exc, "download")

            retries = Retries("download", policy, retryable=retryable)
            async for attempt in retries:
                with attempt:
                    offset = state.written
                    try:
                        await _one_try(
                            open_body, state, offset, on_progress, max_bytes, what, check_start
                        )
                    except httpx.HTTPError as exc:
                        raise transport_error(exc, what=what) from exc
                    except HTTPStatusError as exc:
                        if exc.status_code == 416 and offset:
                            await state.reset()
                            raise _RangeRefused(str(exc)) from exc
                        raise
                    except _Restart:
                        await state.reset()
                        raise
                    finally:
                        if state.written > offset:
                            retries.progressed()
            await asyncio.wrap_future(worker.submit(_flush, fh))
        digest = state.hasher.hexdigest()
        if expected_sha256 is not None and digest != expected_sha256:
            raise IntegrityError(f"{what}: sha256 {digest} does not match {expected_sha256}")
        os.replace(part, dest)
        done = True
        # The folder's fsync waits on the disk: the loop goes on with the other shots.
        await asyncio.wrap_future(worker.submit(_fsync_dir, dest.parent))
        return DownloadResult(path=dest, sha256=digest, size=state.written)
    finally:
        worker.close()  # a cancelled download leaves nothing running
        if not done:
            with contextlib.suppress(OSError):
                part.unlink()


def _flush(fh: BinaryIO) -> None:
    fh.flush()
    os.fsync(fh.fileno())


async def _one_try(
    open_body: Opener,
    state: _Partial,
    offset: int,
    on_progress: ProgressFn | None,
    max_bytes: int,
    what: str,
    check_start: StartCheck | None = None,
) -> None:
    async with open_body(offset) as response:
        start, total = _body_plan(response, offset)
        if start != state.written:
            if start != 0:
                raise _Restart(f"{what}: asked for byte {offset}, the server sent from {start}")
            await state.reset()  # the server ignored the range: take the whole file again
        if total is not None and total > max_bytes:
            raise IntegrityError(f"{what}: the file announces {total} bytes, over the limit")
        if on_progress is not None:
            on_progress(state.written, total)
        checked = None if state.written else check_start  # only a body from byte zero
        try:
            async for chunk in _checked_chunks(response, checked):
                handed_over = await state.write(chunk)
                if state.written > max_bytes:
                    raise IntegrityError(f"{what}: more than {max_bytes} bytes, stopped")
                if total is not None and state.written > total:
                    raise IntegrityError(f"{what}: more bytes than the announced {total}")
                if handed_over and on_progress is not None:
                    on_progress(state.written, total)
        finally:
            await state.drain()  # what arrived is kept: a retry resumes after it
        if on_progress is not None:
            on_progress(state.written, total)
    if total is not None and state.written < total:
        raise TransportError(f"{what}: body cut short at {state.written} of {total} bytes")


async def _checked_chunks(
    response: httpx.Response, check: StartCheck | None
) -> AsyncIterator[bytes]:
    """The body's chunks; with `check`, its first bytes are shown to it before any is given."""
    head = b""
    async for chunk in body_chunks(response):
        if check is None:
            yield chunk
            continue
        head += chunk
        if len(head) >= HEAD_BYTES:
            check(response, head[:HEAD_BYTES])
            check = None
            yield head
            head = b""
    if check is not None:
        check(response, head)
        if head:
            yield head


def _fsync_dir(path: Path) -> None:
    # Makes the rename durable on POSIX; not possible (nor needed) everywhere.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
