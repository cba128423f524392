"""Sending video and image bytes: single byte ranges (206, 416), ETags, and the two ways a
body can be disturbed on purpose: cut short (the ``truncate`` fault) or throttled.

A body larger than `PIECE_BYTES` goes out in pieces of that size, each a view of the stored
bytes. Sent whole, a body is copied into the server's transport buffer as the socket takes
it: a 1 GiB video held another GiB (two, for a range) while it was sent, and most of the
server's time went to faulting that memory in, so a fast client waited on the server."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .faults import DropConnection, Fault

__all__ = ["PIECE_BYTES", "parse_range", "send_bytes", "sha256"]

#: The largest body sent in one piece.
PIECE_BYTES = 1 << 20


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def send_bytes(
    request: Request,
    data: bytes,
    mime: str,
    *,
    fault: Fault | None,
    rate: float | None,
    sleep: Callable[[float], Awaitable[None]],
    sent: Callable[[int], None],
) -> Response:
    """`data` (or the range the request asks for) as an answer; `sent` is told how many
    bytes go out. A ``truncate`` fault cuts the body; `rate` throttles it (bytes/s)."""
    size = len(data)
    headers = {"Accept-Ranges": "bytes", "ETag": f'"{sha256(data)}"'}
    span = parse_range(request.headers.get("range"), size)
    status = 200
    body: bytes | memoryview = data
    if span == "unsatisfiable":
        headers["Content-Range"] = f"bytes */{size}"
        return Response(b"", status_code=416, headers=headers)
    if isinstance(span, tuple):
        start, end = span
        body = memoryview(data)[start : end + 1]  # a view: a range of a large body is not copied
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if fault is not None and fault.kind == "truncate" and body:
        keep = min(len(body) - 1, int(len(body) * fault.fraction))
        sent(keep)
        return _TruncatedResponse(bytes(body), status, headers, mime, keep)
    sent(len(body))
    if rate is not None and body:
        return _ThrottledResponse(body, status, headers, mime, rate, sleep)
    if len(body) > PIECE_BYTES:
        return _PiecesResponse(body, status, headers, mime)
    return Response(bytes(body), status_code=status, headers=headers, media_type=mime)


def parse_range(header: str | None, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """A single byte range as (first, last), "unsatisfiable", or None to send everything."""
    if not header:
        return None
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if not match:
        return None  # malformed or several ranges: ignored, as RFC 9110 allows
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        length = int(last)
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # invalid, so ignored
    if start >= size:
        return "unsatisfiable"
    return start, min(end, size - 1)


class _TruncatedResponse(Response):
    """Declares the whole body's length, sends only `keep` bytes, then drops the connection."""

    def __init__(
        self, body: bytes, status: int, headers: Mapping[str, str], mime: str, keep: int
    ) -> None:
        super().__init__(body, status_code=status, headers=dict(headers), media_type=mime)
        self.keep = keep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        await send(
            {"type": "http.response.body", "body": bytes(self.body[: self.keep]), "more_body": True}
        )
        raise DropConnection()


class _PiecesResponse(Response):
    """Sends its body in pieces of `step` bytes, each a view of it (nothing is copied),
    with `pause` between two pieces."""

    step = PIECE_BYTES

    async def pause(self, sent: int) -> None:
        """After a piece of `sent` bytes that is not the last: nothing, here."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        body = memoryview(b"") if scope.get("method") == "HEAD" else memoryview(self.body)
        size = len(body)
        for start in range(0, size, self.step):
            piece = body[start : start + self.step]
            more = start + self.step < size
            await send({"type": "http.response.body", "body": piece, "more_body": more})
            if more:
                await self.pause(len(piece))
        if not size:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


class _ThrottledResponse(_PiecesResponse):
    """Sends its body in small pieces, no faster than `rate` bytes per second."""

    def __init__(
        self,
        body: bytes | memoryview,
        status: int,
        headers: Mapping[str, str],
        mime: str,
        rate: float,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        super().__init__(body, status_code=status, headers=dict(headers), media_type=mime)
        self.rate = rate
        self.sleep = sleep
        self.step = max(1, int(rate / 20))  # about 20 pieces a second

    async def pause(self, sent: int) -> None:
        await self.sleep(sent / self.rate)
