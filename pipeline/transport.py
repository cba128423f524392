"""The HTTP side of one provider: its authenticated API client and a plain client for CDN URLs.

A `Connection` holds one base URL and one API key. It builds the generated
`AuthenticatedClient` (one per generated client class, all on the same transport) for calls
to the API origin, and a separate plain `httpx.AsyncClient` without any Authorization header
for result URLs on any other origin. The key is kept out of every repr and message.

Answers of the API client are read up to `limits.MAX_ANSWER_BYTES` and no further
(`AnswerTooLarge`): a status read is never a reason to hold a gateway's 256 MiB in memory.
A request that streams a video to disk says so with the `UNBOUNDED` extension. Every result
URL a download follows is checked against the provider's `ResultUrlPolicy` first.

This module also turns httpx failures into vidpipe's `TransportError`s, telling apart the
failures where nothing reached the server (`RequestNotSent`, always safe to retry) from
those where the request may have been received (a lost answer).

And it says when a request leaves: inside `on_send(callback)`, the callback runs right before
an API request's first byte is written (httpcore's `send_request_headers` trace event; on a
transport with no network under it, `HandOff`, when the request is handed over). The
ledger uses it to tell "intent recorded" from "request sent".
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar, cast

import attrs
import httpx

from .errors import InputError, ProviderError, TransportError
from .limits import MAX_ANSWER_BYTES, size_text
from .pool import http_transport
from .resulturls import ResultUrlPolicy

__all__ = [
    "UNBOUNDED",
    "AnswerTooLarge",
    "ApiClient",
    "ClientFactory",
    "Connection",
    "HandOff",
    "MalformedAnswer",
    "RequestNotSent",
    "default_timeout",
    "header_safe",
    "last_response",
    "on_send",
    "origin_of",
    "transport_error",
]

#: A request extension: the answer is a video streamed to disk, not read with a size cap.
UNBOUNDED = "vidpipe.unbounded"

_DEFAULT_PORTS = {"http": 80, "https": 443}


class ApiClient(Protocol):
    """A generated `AuthenticatedClient`, as a connection uses it."""

    def get_async_httpx_client(self) -> httpx.AsyncClient: ...


C_co = TypeVar("C_co", bound=ApiClient, covariant=True)
_C = TypeVar("_C", bound=ApiClient)


class ClientFactory(Protocol[C_co]):
    """A generated `AuthenticatedClient` class, called the way a connection calls it."""

    def __call__(
        self, *, base_url: str, token: str, timeout: httpx.Timeout, httpx_args: dict[str, Any]
    ) -> C_co: ...


#: The last response the API client received in the current task. The generated parsers
#: raise (JSONDecodeError on an HTML 502, KeyError on an odd shape) before handing back the
#: response, so an event hook keeps it here for the adapter to report status and body.
last_response: ContextVar[httpx.Response | None] = ContextVar("vidpipe_last_response", default=None)


class RequestNotSent(TransportError):
    """The request never left this machine (connect failure): safe to send again."""


class MalformedAnswer(TransportError):
    """A success status came with a body that cannot be read as the expected JSON."""


class AnswerTooLarge(MalformedAnswer):
    """An answer went past `MAX_ANSWER_BYTES`; the rest of it was not read."""


def _too_large(request: httpx.Request, size: int) -> AnswerTooLarge:
    return AnswerTooLarge(
        f"{request.method} {request.url.path}: the answer is {size_text(size)} or more, over "
        f"the limit of {size_text(MAX_ANSWER_BYTES)} for an API answer; stopped reading it"
    )


class _AnswerStream(httpx.AsyncByteStream):
    """A response body read through: past `limit` bytes (None: no limit) it raises
    `AnswerTooLarge`.

    httpx's own stream refers back to its response, a reference cycle that only the cyclic
    garbage collector frees. Once closed, this stream lets go of it, so an answer is freed
    as soon as the caller drops it.
    """

    def __init__(
        self, inner: httpx.AsyncByteStream, request: httpx.Request, limit: int | None
    ) -> None:
        self._inner = inner
        self._request = request
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size, limit = 0, self._limit
        async for chunk in self._inner:
            size += len(chunk)
            if limit is not None and size > limit:
                raise _too_large(self._request, size)
            yield chunk

    async def aclose(self) -> None:
        inner, self._inner = self._inner, _CLOSED
        await inner.aclose()


_CLOSED = httpx.ByteStream(b"")


async def _cap_answer(response: httpx.Response) -> None:
    """Response hook of the API client: read at most `MAX_ANSWER_BYTES` of an answer (any
    size where the request says `UNBOUNDED`)."""
    limit = None if response.request.extensions.get(UNBOUNDED) else MAX_ANSWER_BYTES
    announced = response.headers.get("content-length", "").strip()
    if limit is not None and announced.isdigit() and int(announced) > limit:
        raise _too_large(response.request, int(announced))
    if isinstance(response.stream, httpx.AsyncByteStream):
        response.stream = _AnswerStream(response.stream, response.request, limit)


async def _read_through(response: httpx.Response) -> None:
    """Response hook of the result-URL client: any size, freed once closed."""
    if isinstance(response.stream, httpx.AsyncByteStream):
        response.stream = _AnswerStream(response.stream, response.request, None)


def default_timeout() -> httpx.Timeout:
    """Timeouts for provider calls: the generated clients default to none at all."""
    return httpx.Timeout(60.0, connect=10.0)


def origin_of(url: str | httpx.URL) -> tuple[str, str, int]:
    """(scheme, host, port) of an absolute URL, with the scheme's default port filled in."""
    parsed = httpx.URL(url)
    scheme = parsed.scheme.lower()
    return scheme, parsed.host.lower(), parsed.port or _DEFAULT_PORTS.get(scheme, 0)


async def _remember(response: httpx.Response) -> None:
    last_response.set(response)


_on_send: ContextVar[Callable[[], object] | None] = ContextVar("vidpipe_on_send", default=None)
_SENDING = "send_request_headers.started"


@contextmanager
def on_send(callback: Callable[[], object]) -> Iterator[None]:
    """Within the block, call `callback` whenever an API request is about to leave; when it
    returns an awaitable, the request leaves once that is done."""
    token = _on_send.set(callback)
    try:
        yield
    finally:
        _on_send.reset(token)


class _SendTrace:
    """httpcore's trace extension: calls back when a request's headers start going out."""

    def __init__(self, callback: Callable[[], object]) -> None:
        self.callback = callback

    async def __call__(self, name: str, info: dict[str, Any]) -> None:
        if name.endswith(_SENDING):
            result = self.callback()
            if inspect.isawaitable(result):
                await result  # the request waits: e.g. for the ledger to say it is leaving


async def _trace_sending(request: httpx.Request) -> None:
    callback = _on_send.get()
    if callback is not None:
        request.extensions["trace"] = _SendTrace(callback)


class HandOff(httpx.AsyncBaseTransport):
    """Wraps a transport with no network under it (in-process, mocks): a request leaves
    when it is handed over, so the send trace fires then."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        trace = request.extensions.get("trace")
        if trace is not None:
            await trace(f"handoff.{_SENDING}", {"request": request})
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def header_safe(value: str) -> bool:
    """Whether `value` can go into an HTTP header as a token: visible ASCII only.

    httpx cannot encode anything else, and h11 puts a control character's whole value into
    its error message.
    """
    return all(0x21 <= ord(c) <= 0x7E for c in value)


def _check_key(api_key: str) -> None:
    if not header_safe(api_key):
        raise InputError(
            "the API key has characters an HTTP header cannot carry "
            "(only visible ASCII: no spaces, accents or control characters)"
        )


@attrs.define(eq=False)
class Connection:
    """One provider endpoint: base URL, API key and the clients that talk to it."""

    base_url: str
    api_key: str = attrs.field(repr=False)
    transport: httpx.AsyncBaseTransport | None = attrs.field(default=None, repr=False)
    timeout: httpx.Timeout = attrs.field(factory=default_timeout)
    #: Result URLs on loopback, private, link-local or metadata addresses are fetched too.
    allow_private_urls: bool = False
    result_urls: ResultUrlPolicy = attrs.field(init=False, repr=False)
    _api_clients: dict[object, ApiClient] = attrs.field(factory=dict, init=False, repr=False)
    _cdn: httpx.AsyncClient | None = attrs.field(default=None, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _check_key(self.api_key)
        url = httpx.URL(self.base_url)
        if url.scheme not in _DEFAULT_PORTS or not url.host:
            raise InputError(f"base URL must be an absolute http(s) URL, got {self.base_url!r}")
        self.result_urls = ResultUrlPolicy(self.base_url, self.allow_private_urls)

    @property
    def origin(self) -> tuple[str, str, int]:
        return origin_of(self.base_url)

    def api_client(self, factory: ClientFactory[_C]) -> _C:
        """The generated `AuthenticatedClient` that `factory` (that class) makes for this
        connection: one per class, built on first use and closed by `aclose`."""
        client = self._api_clients.get(factory)
        if client is None:
            policy = self.result_urls

            async def learn(response: httpx.Response) -> None:
                policy.learn_api_peer(response)

            hooks = {"request": [_trace_sending], "response": [_remember, learn, _cap_answer]}
            transport = self.transport or http_transport()
            httpx_args: dict[str, Any] = {"event_hooks": hooks, "transport": transport}
            client = factory(
                base_url=self.base_url,
                token=self.api_key,
                timeout=self.timeout,
                httpx_args=httpx_args,
            )
            self._api_clients[factory] = client
        return cast(_C, client)  # the key is the class that made it

    def cdn_client(self) -> httpx.AsyncClient:
        """The plain client for URLs on other origins: no Authorization, no base URL."""
        if self._cdn is None:
            self._cdn = httpx.AsyncClient(
                transport=self.transport or http_transport(),
                timeout=self.timeout,
                follow_redirects=True,
                event_hooks={"response": [_read_through]},
            )
        return self._cdn

    def is_api_origin(self, url: str | httpx.URL) -> bool:
        """Whether an absolute URL is on the configured API origin (scheme, host and port)."""
        try:
            return origin_of(url) == self.origin
        except (httpx.InvalidURL, TypeError):
            return False

    def redact(self, text: str) -> str:
        """`text` with every occurrence of the API key masked."""
        if self.api_key:
            text = text.replace(self.api_key, "***")
        return text

    async def aclose(self) -> None:
        """Close every client this connection opened."""
        clients = list(self._api_clients.values())
        self._api_clients.clear()
        for client in clients:
            await client.get_async_httpx_client().aclose()
        if self._cdn is not None:
            cdn, self._cdn = self._cdn, None
            await cdn.aclose()

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
_NEVER_RETRY = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def transport_error(
    exc: httpx.HTTPError,
    *,
    what: str,
    connection: Connection | None = None,
    shot: str | None = None,
    task_id: str | None = None,
) -> ProviderError:
    """The vidpipe error for an httpx failure during `what` (e.g. "create", "download")."""
    detail = str(exc) or type(exc).__name__
    if connection is not None:
        detail = connection.redact(detail)
    message = f"{what}: {type(exc).__name__}: {detail}"
    if isinstance(exc, _NOT_SENT):
        return RequestNotSent(message, shot=shot, task_id=task_id)
    if isinstance(exc, _NEVER_RETRY):
        return ProviderError(message, shot=shot, task_id=task_id)
    return TransportError(message, shot=shot, task_id=task_id)
