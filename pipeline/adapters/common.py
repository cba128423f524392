"""What both API families share: calls through a client index, errors, bodies, answers.

An adapter reaches its generated client only through the client's index (`ClientIndex`):
the operation functions by role, the body classes, the answer classes. Bodies are built once
per create; answers are parsed once, by the generated code, and read from the models.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from enum import Enum
from io import BytesIO
from pathlib import Path
from typing import Any, Generic

import attrs
import httpx

from ..download import DownloadResult, Opener, ProgressFn, stream_to_file
from ..errors import (
    ContentExpired,
    HTTPStatusError,
    InputError,
    ProviderError,
    ResultRefused,
    TransportError,
    UnknownCreate,
)
from ..media import check_video
from ..retry import (
    Retries,
    RetryPolicies,
    Scope,
    is_busy,
    is_retryable,
    poll_hint_seconds,
    retry_after_seconds,
    retrying,
)
from ..specs import Spec
from ..transport import UNBOUNDED, Connection, MalformedAnswer, last_response, transport_error
from .contract import (
    A,
    ApiResponse,
    B,
    C,
    ClientIndex,
    CreateRequest,
    LocalFile,
    R,
    TaskSnapshot,
    TaskState,
)

__all__ = [
    "Answer",
    "AnswerReader",
    "BaseAdapter",
    "check_task_id",
    "data_url",
    "parse_progress",
]

_MAX_BODY = 2000
_MEDIA_KEYS = ("image_url", "video_url", "audio_url")


def _retryable_unless_busy(exc: Exception) -> bool:
    return is_retryable(exc, "submit") and not is_busy(exc)


def check_task_id(value: object) -> str:
    """`value` if it can safely go (percent-encoded) into a URL path as a task id.

    Server ids are untrusted: empty ids and the dot segments "." and ".." would change the
    route even when percent-encoded (URL normalisation removes them).
    """
    if (
        not isinstance(value, str)
        or value in ("", ".", "..")
        or len(value) > 512
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)
    ):
        shown = repr(value)[:80]
        raise ProviderError(f"unusable task id {shown}")
    return value


def parse_progress(value: object) -> int | None:
    """Progress 0..100 from an int or a string such as "30%"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        match = re.search(r"\d+(?:\.\d+)?", value)
        if match is None:
            return None
        number = float(match.group())
    else:
        return None
    return max(0, min(100, int(number)))


def http_url(value: object) -> str | None:
    """`value` if it is an absolute http(s) URL, else None."""
    if isinstance(value, str) and re.match(r"^https?://[^\s/]+", value, re.IGNORECASE):
        return value.strip()
    return None


def read_local(lf: LocalFile) -> bytes:
    """The bytes of a local input file, checked against the digest taken at load time."""
    try:
        payload = lf.path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {lf.path}: {exc.strerror}") from exc
    if len(payload) != lf.size or hashlib.sha256(payload).hexdigest() != lf.sha256:
        raise InputError(f"{lf.path} changed since the storyboard was checked")
    return payload


def data_url(lf: LocalFile, payload: bytes | None = None) -> str:
    """A `data:` URL carrying a local file."""
    body = read_local(lf) if payload is None else payload
    return f"data:{lf.mime};base64,{base64.b64encode(body).decode('ascii')}"


def resolve_local_files(value: Any) -> Any:
    """`value` with every `LocalFile` replaced by a data: URL (media items get `{url: ...}`)."""
    if isinstance(value, LocalFile):
        return data_url(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in _MEDIA_KEYS and isinstance(item, LocalFile):
                out[key] = {"url": data_url(item)}
            else:
                out[key] = resolve_local_files(item)
        return out
    if isinstance(value, list | tuple):
        return [resolve_local_files(v) for v in value]
    return value


@attrs.frozen
class Answer:
    """A success answer: status, headers and the body as parsed.

    `body` is an instance of one of the index's answer classes; an answer the generated code
    could not parse into one (a missing required field, an undocumented 2xx status) is kept
    as its decoded JSON object, so a gateway that leaves out a field does not fail a shot.
    """

    status_code: int
    headers: httpx.Headers
    body: object


class AnswerReader:
    """Reads an answer's fields by their JSON names.

    A node is a generated model (its attributes, then the unknown fields it keeps in
    `additional_properties`) or a plain mapping (raw upstream data, or an answer kept as
    JSON). Unset values read as None, enum members as their values. The fields are named at
    run time by the API family, so this is the one place answers are read dynamically.
    """

    def __init__(self, unset: type[object]) -> None:
        self._unset = unset

    def __call__(self, node: object, *path: str) -> object:
        for name in path:
            node = self._field(node, name)
            if node is None:
                return None
        return node

    def _field(self, node: object, name: str) -> object:
        value: object
        cls = type(node)
        if isinstance(node, Mapping):
            value = node.get(name)
        elif attrs.has(cls) and name in attrs.fields_dict(cls):
            value = getattr(node, name)
        else:
            extra = getattr(node, "additional_properties", None)
            value = extra.get(name) if isinstance(extra, Mapping) else None
        if isinstance(value, self._unset):
            return None
        return value.value if isinstance(value, Enum) else value


def _json_object(content: bytes) -> Mapping[str, Any] | None:
    try:
        doc = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, Mapping) else None


#: Reads plain JSON (error bodies), where nothing is unset.
_read_json = AnswerReader(type(None))


def _error_message(content: bytes) -> str | None:
    doc = _json_object(content)
    for path in (("error", "message"), ("message",), ("error",), ("data", "fail_reason")):
        found = _read_json(doc, *path)
        if isinstance(found, str) and found:
            return found[:300]
    return None


def state_of(spec: Spec, *words: object) -> tuple[TaskState, str | None]:
    """The state the answer's status words say, and the first word the spec does not map
    when it maps none of them. The first word the spec knows decides; no word at all means
    queued; only words the spec does not know mean running for now (polling gives such a
    word a grace period, then fails the shot naming it)."""
    present = [str(w) for w in words if w is not None]
    for word in present:
        state = spec.normalise_status(word)
        if state is not None:
            return state, None
    return ("running", present[0]) if present else ("queued", None)


def error_text(read: AnswerReader, value: object) -> str | None:
    """The text of an error field: a string, or an object's message (else its code)."""
    if isinstance(value, str):
        return value or None
    if value is None:
        return None
    text = read(value, "message") or read(value, "code")
    return str(text) if text else None


async def _read_some(response: httpx.Response, limit: int = 4096) -> bytes:
    """Up to `limit` bytes of an (error) body, without reading a huge one whole."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


class BaseAdapter(Generic[C, B, R, A]):
    """Calls into one generated client through its index; the families add create bodies
    and snapshots.

    The type parameters are the index's: client, create body, remix body and answer classes.
    """

    family = ""

    def __init__(
        self,
        spec: Spec,
        connection: Connection,
        *,
        index: ClientIndex[C, B, R, A],
        retries: RetryPolicies | None = None,
        retry_busy_creates: bool = True,
    ) -> None:
        self.spec = spec
        # False: a create answered 429 is raised at once, for the caller to pace with the
        # provider's in-flight limit (the run does, `vidpipe.inflight`).
        self.retry_busy_creates = retry_busy_creates
        self.connection = connection
        self.index = index
        self.read = AnswerReader(index.Unset)
        self.retries = retries or RetryPolicies()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(spec={self.spec.name!r}, connection={self.connection!r})"

    @property
    def client(self) -> C:
        """The generated AuthenticatedClient of this spec's package, on this connection."""
        return self.connection.api_client(self.index.AuthenticatedClient)

    # -- calling generated functions ------------------------------------------------------

    def _status_error(
        self,
        what: str,
        status_code: int,
        headers: httpx.Headers,
        content: bytes,
        *,
        shot: str | None = None,
        task_id: str | None = None,
    ) -> HTTPStatusError:
        text = self.connection.redact(content[:4096].decode("utf-8", "replace"))
        message = _error_message(content)
        summary = f"{what}: HTTP {status_code}"
        if message:
            summary += f": {self.connection.redact(message)}"
        return HTTPStatusError(
            summary,
            status_code=status_code,
            body=text[:_MAX_BODY],
            retry_after=retry_after_seconds(headers),
            shot=shot,
            task_id=task_id,
        )

    async def _invoke(
        self,
        what: str,
        call: Callable[[], Awaitable[ApiResponse]],
        *,
        shot: str | None = None,
        task_id: str | None = None,
    ) -> Answer:
        """Await one generated `asyncio_detailed` call and check its answer."""
        last_response.set(None)
        try:
            response = await call()
        except httpx.HTTPError as exc:
            raise transport_error(
                exc, what=what, connection=self.connection, shot=shot, task_id=task_id
            ) from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # The generated parser failed (an HTML 502 from a proxy, an odd JSON shape).
            raw = last_response.get()
            if raw is None:
                raise ProviderError(
                    f"{what}: {type(exc).__name__}: {self.connection.redact(str(exc))}",
                    shot=shot,
                    task_id=task_id,
                ) from exc
            return self._answer(
                what, raw.status_code, raw.headers, raw.content, None, shot=shot, task_id=task_id
            )
        return self._answer(
            what,
            int(response.status_code),
            httpx.Headers(response.headers),
            response.content,
            response.parsed,
            shot=shot,
            task_id=task_id,
        )

    def _answer(
        self,
        what: str,
        status_code: int,
        headers: httpx.Headers,
        content: bytes,
        parsed: object,
        *,
        shot: str | None,
        task_id: str | None,
    ) -> Answer:
        if not 200 <= status_code < 300:
            raise self._status_error(
                what, status_code, headers, content, shot=shot, task_id=task_id
            )
        if isinstance(parsed, self.index.ANSWERS):
            return Answer(status_code, headers, parsed)
        data = _json_object(content)
        if data is None:
            raise MalformedAnswer(
                f"{what}: HTTP {status_code} with a body that is not a JSON object",
                shot=shot,
                task_id=task_id,
            )
        return Answer(status_code, headers, data)

    async def _retrying(
        self, scope: Scope, what: str, call: Callable[[], Awaitable[Answer]]
    ) -> Answer:
        retryable: Callable[[Exception], bool] | None = None
        if scope == "submit" and not self.retry_busy_creates:
            retryable = _retryable_unless_busy

        return await retrying(
            scope,
            call,
            policy=self.retries.for_scope(scope),
            what=what,
            retryable=retryable,
        )

    async def _submit(
        self, req: CreateRequest, what: str, call: Callable[[], Awaitable[ApiResponse]]
    ) -> TaskSnapshot:
        """Send a create (or remix) once, retrying only what surely was not taken."""
        answer = await self._retrying(
            "submit", f"{what} {req.shot_id}", lambda: self._invoke(what, call, shot=req.shot_id)
        )
        try:
            snapshot = self.snapshot(answer)
            check_task_id(snapshot.task_id)
        except ProviderError as exc:
            raise UnknownCreate(
                f"{what} {req.shot_id}: the task was accepted but the answer is unusable "
                f"({exc}); it was not sent again",
                shot=req.shot_id,
            ) from exc
        return snapshot

    # -- reading answers ------------------------------------------------------------------

    def video_snapshot(self, answer: Answer, task_id: str | None = None) -> TaskSnapshot:
        """A snapshot from an OpenAI-style Video object."""
        read, body = self.read, answer.body
        found = read(body, "id") or read(body, "task_id") or task_id
        if not found:
            raise MalformedAnswer("the answer names no task id")
        status = read(body, "status")
        state, unmapped = state_of(self.spec, status)
        return TaskSnapshot(
            task_id=str(found),
            state=state,
            raw_status="" if status is None else str(status),
            progress=parse_progress(read(body, "progress")),
            poll_after=poll_hint_seconds(answer.headers),
            result_url=http_url(read(body, "metadata", "url")) or http_url(read(body, "video_url")),
            error=error_text(read, read(body, "error")) if state == "failed" else None,
            raw=body,
            unmapped=unmapped,
            spend_usd=self.spend(answer),
        )

    def spend(self, answer: Answer) -> float | None:
        """What an answer says the task was charged (USD), where the spec says it does: a
        field of its body or one of its headers."""
        rule = self.spec.spend
        if rule is None:
            return None
        if rule.header is not None:
            return rule.read(None, answer.headers)
        return rule.usd(self.read(answer.body, *rule.path))

    # -- the adapter interface ------------------------------------------------------------

    def snapshot(self, answer: Answer, task_id: str | None = None) -> TaskSnapshot:
        raise NotImplementedError

    async def create(self, req: CreateRequest, *, remix_task_id: str | None = None) -> TaskSnapshot:
        raise NotImplementedError

    async def status(self, task_id: str) -> TaskSnapshot:
        """The task's current state (429/5xx and connection failures retried, poll scope)."""
        check_task_id(task_id)
        status = self.index.status
        answer = await self._retrying(
            "poll",
            f"status {task_id}",
            lambda: self._invoke(
                "status", lambda: status(task_id, client=self.client), task_id=task_id
            ),
        )
        return self.snapshot(answer, task_id)

    # -- create bodies --------------------------------------------------------------------

    def _check_request(self, req: CreateRequest) -> None:
        if req.spec is not self.spec and req.spec.name != self.spec.name:
            raise InputError(
                f"shot {req.shot_id}: request for {req.spec.name} sent to {self.spec.name}"
            )

    def _read_files(self, req: CreateRequest) -> dict[str, tuple[LocalFile, bytes]]:
        files: dict[str, tuple[LocalFile, bytes]] = {}
        for name, local in req.files.items():
            files[name] = (local, read_local(local))
        return files

    def build_body(
        self,
        req: CreateRequest,
        fields: Mapping[str, Any],
        files: Mapping[str, tuple[LocalFile, bytes]],
    ) -> B:
        """The generated body model for `req`, built once per create.

        A retried send re-reads the file parts from the start (httpx rewinds them).
        """
        cls = self.index.CREATE_BODIES.get(req.content_type)
        if cls is None:
            raise InputError(f"{self.spec.name}: the create call takes no {req.content_type} body")
        multipart = req.content_type.startswith("multipart/")
        if files and not multipart:
            raise InputError(
                f"shot {req.shot_id}: {self.spec.name} sends {req.content_type}, "
                f"which cannot carry the file field(s) {', '.join(sorted(files))}"
            )
        declared = attrs.fields_dict(cls)
        data: dict[str, Any] = {}
        for key, value in fields.items():
            value = resolve_local_files(value)
            if multipart and key not in declared and isinstance(value, Mapping | list):
                value = json.dumps(value)  # an undeclared object would be sent as its repr
            data[key] = value
        data["model"] = req.model
        try:
            body = cls.from_dict(data)
        except KeyError as exc:
            raise InputError(
                f"shot {req.shot_id}: missing field {exc} for {self.spec.name}"
            ) from exc
        except (ValueError, TypeError, AttributeError) as exc:
            raise InputError(
                f"shot {req.shot_id}: cannot build the {self.spec.name} create body: {exc}"
            ) from exc
        for name, (lf, payload) in files.items():
            if name not in declared:
                raise InputError(f"shot {req.shot_id}: {self.spec.name} has no file field {name!r}")
            # The field is named by the spec at run time, and from_dict cannot carry a file
            # name or a media type (without them the part is not sent as a file).
            part = self.index.File(
                payload=BytesIO(payload), file_name=lf.path.name, mime_type=lf.mime
            )
            setattr(body, name, part)
        return body

    # -- downloads ------------------------------------------------------------------------

    def _download_error(
        self, status_code: int, headers: httpx.Headers, body: bytes, *, task_id: str
    ) -> ProviderError:
        if status_code in _REFUSALS:
            text = self.connection.redact(body[:2000].decode("utf-8", "replace"))
            message = _error_message(body) or " ".join(text.split())[:200]
            gone = status_code == 410 or (status_code == 404 and "expired" in text.lower())
            return ResultRefused(
                f"download {task_id}: HTTP {status_code}" + (f": {message}" if message else ""),
                status_code=status_code,
                gone=gone,
                body=text,
                task_id=task_id,
            )
        return self._status_error(
            f"download {task_id}", status_code, headers, body, task_id=task_id
        )

    def opener(self, target: str, *, task_id: str) -> Opener:
        """Opens `target` (an API path, or an absolute URL) from a byte offset.

        The API origin is fetched with the generated client's own httpx client (auth
        included); any other origin with the plain client. Redirects are followed by hand
        so that the Authorization header never follows one to another origin, and each URL
        on the way (and the address it reached) is checked against the result URL policy.
        """
        connection = self.connection
        api = self.client.get_async_httpx_client()

        @asynccontextmanager
        async def open_body(offset: int) -> AsyncIterator[httpx.Response]:
            headers = {"Accept-Encoding": "identity"}
            if offset:
                headers["Range"] = f"bytes={offset}-"
            url = target
            what = f"download {task_id}"
            for _hop in range(6):
                absolute = http_url(url) is not None
                on_api = not absolute or connection.is_api_origin(url)
                if absolute:
                    connection.result_urls.check_url(url, what=what)
                client = api if on_api else connection.cdn_client()
                next_url = None
                try:
                    async with client.stream(
                        "GET",
                        url,
                        headers=headers,
                        follow_redirects=False,
                        extensions={UNBOUNDED: True},
                    ) as response:
                        if absolute:
                            connection.result_urls.check_peer(response, what=what)
                        code = response.status_code
                        if code in (200, 206):
                            yield response
                            return
                        location = response.headers.get("location")
                        if response.is_redirect and location:
                            next_url = str(response.url.join(location))
                        else:
                            body = await _read_some(response)
                            raise self._download_error(
                                code, response.headers, body, task_id=task_id
                            )
                except httpx.HTTPError as exc:
                    raise transport_error(
                        exc, what=f"download {task_id}", connection=connection, task_id=task_id
                    ) from exc
                if http_url(next_url) is None:
                    raise ProviderError(f"download {task_id}: redirect to a non-http URL")
                url = str(next_url)
            raise ProviderError(f"download {task_id}: too many redirects")

        return open_body

    async def targets(self, snapshot: TaskSnapshot) -> list[str]:
        """Where the finished task's video can be fetched, in the order to try."""
        raise NotImplementedError

    async def download(
        self, snapshot: TaskSnapshot, dest: Path, *, on_progress: ProgressFn | None = None
    ) -> DownloadResult:
        """Stream the finished task's video to `dest`.

        A result URL that refuses (401, 403, 404, 410) or breaks is not the end: the task is
        read again for a fresh URL and the download tried again, with backoff, for the
        `refresh` policy's rounds. `ContentExpired` only when every source says the video is
        gone for good; `ResultRefused` (or the transport error) when the rounds run out.
        """
        task_id = check_task_id(snapshot.task_id)
        rounds = Retries("download", self.retries.refresh, retryable=_refreshable)
        fresh = False
        async for attempt in rounds:
            with attempt:
                if fresh:
                    snapshot = await self.status(task_id)
                fresh = True
                return await self._download_from(
                    await self.targets(snapshot), dest, task_id=task_id, on_progress=on_progress
                )
        raise AssertionError("unreachable: stamina either returns or raises")

    async def _download_from(
        self,
        targets: list[str],
        dest: Path,
        *,
        task_id: str,
        on_progress: ProgressFn | None,
    ) -> DownloadResult:
        """Try each source in turn; the next is used when one refuses or breaks."""
        if not targets:
            raise ResultRefused(
                f"download {task_id}: the finished task names no video URL",
                status_code=404,
                task_id=task_id,
            )
        failures: list[ProviderError] = []
        for target in targets:
            try:
                return await stream_to_file(
                    self.opener(target, task_id=task_id),
                    dest,
                    policy=self.retries.download,
                    on_progress=on_progress,
                    what=f"download {task_id}",
                    check_start=check_video(f"download {task_id}"),
                )
            except (ResultRefused, TransportError) as exc:
                failures.append(exc)
            except HTTPStatusError as exc:
                if not is_retryable(exc, "download"):
                    raise
                failures.append(exc)
        refusals = [f for f in failures if not (isinstance(f, ResultRefused) and f.gone)]
        if not refusals:
            raise ContentExpired(
                f"download {task_id}: the provider says the video is gone ({failures[-1]})",
                task_id=task_id,
            ) from failures[-1]
        raise refusals[-1]

    # -- finding a task whose create answer was lost ---------------------------------------

    async def find_task(
        self,
        req: CreateRequest,
        *,
        since: float,
        known: Collection[str],
        remix_task_id: str | None = None,
    ) -> TaskSnapshot | None:
        """The task a create made although its answer was lost, or None.

        Only where the spec offers a way: a `list` operation and `x-vidpipe.reattach.match`,
        which names, for every request field, the field of a listed task that shows it. The
        task must show every field sent with the same value, be created no earlier than
        `since` (unix seconds, less `_SKEW` for the clocks), not be one of the `known` task
        ids, and be the only one that does; anything else is None (the shot stays unknown).
        """
        match = _reattach_match(self.spec)
        sent = self.sent_fields(req, remix_task_id)
        if match is None or sent is None or not set(sent) <= set(match):
            return None
        op = self.spec.operation("list")
        names = {p.get("name") for p in op.definition.get("parameters", [])}
        params: dict[str, str | int] = {}
        if "limit" in names:
            params["limit"] = 100
        if "order" in names:
            params["order"] = "desc"
        found: list[Any] = []
        for _page in range(_LIST_PAGES):
            page = await self._list_page(op.path, params)
            items = self.read(page, "data")
            if not isinstance(items, list):
                break
            older = False
            for item in items:
                created = self.read(item, "created_at")
                if isinstance(created, int | float) and created < since - _SKEW:
                    older = True
                    continue
                task = self.read(item, "id")
                if task is None or str(task) in known:
                    continue
                if all(str(self.read(item, match[k])) == str(v) for k, v in sent.items()):
                    found.append(item)
            last = self.read(page, "last_id")
            if older or not self.read(page, "has_more") or not last or "after" not in names:
                break
            params["after"] = str(last)
        if len(found) != 1:
            return None
        return self.snapshot(Answer(200, httpx.Headers(), found[0]))

    def sent_fields(
        self, req: CreateRequest, remix_task_id: str | None
    ) -> dict[str, object] | None:
        """The fields a create sends, as a listed task could show them; None when they
        cannot be compared (files, or a remix through its own endpoint)."""
        if req.files or (req.remix_of is not None and req.remix_via != "create-field"):
            return None
        fields: dict[str, object] = {**req.fields, "model": req.model}
        if req.remix_of is not None:
            if not req.remix_field or remix_task_id is None:
                return None
            fields[req.remix_field] = remix_task_id
        return fields

    async def _list_page(self, path: str, params: Mapping[str, str | int]) -> object:
        client = self.client.get_async_httpx_client()

        async def call() -> Answer:
            try:
                response = await client.get(path, params=dict(params))
            except httpx.HTTPError as exc:
                raise transport_error(exc, what="list", connection=self.connection) from exc
            if response.status_code != 200:
                raise self._status_error(
                    "list", response.status_code, response.headers, response.content
                )
            doc = _json_object(response.content)
            if doc is None:
                raise MalformedAnswer("list: the answer is not a JSON object")
            return Answer(200, response.headers, doc)

        return (await self._retrying("poll", "list", call)).body


#: Result-URL answers that refuse a download; each sends the download to its next source.
_REFUSALS = frozenset({401, 403, 404, 410})
#: How far a listed task's creation may precede the intent (clocks differ), in seconds.
_SKEW = 600.0
_LIST_PAGES = 10


def _refreshable(exc: Exception) -> bool:
    """What a download round may try again after reading the task for a fresh URL."""
    return isinstance(exc, ResultRefused | TransportError) or (
        isinstance(exc, HTTPStatusError) and is_retryable(exc, "download")
    )


def _reattach_match(spec: Spec) -> Mapping[str, str] | None:
    """`x-vidpipe.reattach.match` (request field -> listed field) when the spec has a list."""
    ext = spec.doc.get("x-vidpipe")
    how = ext.get("reattach") if isinstance(ext, Mapping) else None
    match = how.get("match") if isinstance(how, Mapping) else None
    if not spec.has("list") or not isinstance(match, Mapping) or not match:
        return None
    return {str(k): str(v) for k, v in match.items()}
