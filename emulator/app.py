"""The emulator's ASGI app, built from the specs: every route of every spec is served.

Routes come from the spec paths. Several specs may share a route (for example
``POST /v1/videos``); a create is dispatched on its ``model``: the first spec whose model
enum names it (and which takes the body's content type), else a spec that takes any model.
Every route is also served under ``/{api}/...`` (for example ``/newapi/v1/videos``), where
only that API's specs are considered. Task routes (status, content, remix) follow the task.

What each route does comes from the role the spec's ``x-vidpipe.operations`` gives its
operation (an operation with the create call's body is a create alias) and from the API
family. Requests are validated against the spec, so a spec edit changes the emulator.

Besides the spec routes:

- ``GET /cdn/{token}.mp4``: finished videos on the second origin, no auth, with Range
- ``GET /_emulator/stats``, ``POST /_emulator/reset`` (``?scope=all`` also forgets the
  tasks and restarts the fault streams), ``GET /_emulator/health``: no auth

A prompt containing ``[emulator:fail]`` makes its task fail; ``[emulator:expire]`` makes
its content expire as soon as it completes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal

import attrs
from jsonschema import Draft202012Validator
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, Router
from starlette.types import Message, Receive, Scope, Send

from ..specs import Operation, Spec, SpecRegistry
from .config import EmulatorConfig
from .faults import HTTP_KINDS, TASK_KINDS, DropConnection, Fault, FaultPlan
from .tasks import (
    MAGIC_EXPIRE,
    MAGIC_FAIL,
    Renderer,
    RenderJob,
    Snapshot,
    Stats,
    Task,
    TaskStore,
    created_task,
    task_envelope,
    upstream_for,
    video_object,
)
from .validation import (
    Body,
    Requested,
    RequestProblem,
    SchemaCheck,
    canonical_fields,
    coerce_text,
    interpret,
    read_body,
    request_fingerprint,
)

__all__ = ["Emulator", "EmulatorApp", "create_app"]

log = logging.getLogger("vidpipe.emulator")

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_PARAM_RE = re.compile(r"\{[^}/]+\}")
_REQUEST_FAULTS = tuple(k for k in HTTP_KINDS if k != "truncate")
_DOWNLOAD_FAULTS = HTTP_KINDS
_VARIANTS = ("video", "thumbnail", "spritesheet")
_PROXY_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_REASONS = {502: "Bad Gateway", 503: "Service Temporarily Unavailable"}


@attrs.frozen
class Entry:
    """One spec operation served on a route, with the role it plays."""

    spec: Spec
    role: str | None
    operation: Operation
    bodies: Mapping[str, SchemaCheck]
    query: Mapping[str, tuple[Mapping[str, Any], Draft202012Validator, bool]]

    @property
    def family(self) -> str:
        return self.spec.family


def _entries(spec: Spec) -> list[Entry]:
    roles = {op_id: role for role, op_id in spec.operations.items()}
    create_body = spec.operation("create").definition.get("requestBody")
    found = []
    for path, item in spec.doc.get("paths", {}).items():
        for method, definition in item.items():
            if method not in _METHODS or not isinstance(definition, dict):
                continue
            op_id = definition.get("operationId", f"{method} {path}")
            role = roles.get(op_id)
            if role is None and method == "post" and definition.get("requestBody") == create_body:
                role = "create"  # an alias route of the create call
            body = spec.resolve(definition.get("requestBody", {}))
            bodies = {
                ctype: SchemaCheck(media.get("schema", {}))
                for ctype, media in (body.get("content") or {}).items()
            }
            query = {}
            for param in spec.resolve(
                item.get("parameters", []) + definition.get("parameters", [])
            ):
                if isinstance(param, dict) and param.get("in") == "query":
                    schema = param.get("schema", {})
                    query[param["name"]] = (
                        schema,
                        Draft202012Validator(schema),
                        bool(param.get("required")),
                    )
            operation = Operation(op_id, method.upper(), path, definition)
            found.append(Entry(spec, role, operation, bodies, query))
    return found


def _shape(path: str) -> str:
    return _PARAM_RE.sub("{id}", path)


class Emulator:
    """The state of one emulator: its specs, tasks, renders, faults and counters."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.registry: SpecRegistry = config.registry()
        self.store = TaskStore(config.seed, config.store_dir, self.registry)
        self.stats = Stats()
        self.faults = FaultPlan(config.faults, config.seed)
        self.renderer = Renderer(config.render_cache_size)

    def now(self) -> float:
        return float(self.config.clock())

    def snapshot_stats(self) -> dict[str, Any]:
        """The counters served by ``GET /_emulator/stats``."""
        stats = self.stats.snapshot(self.store.all(), self.now())
        stats["renders"] = {
            "total": self.renderer.renders,
            "seconds": round(self.renderer.render_seconds, 3),
        }
        return stats

    def reset(self, *, everything: bool = False) -> None:
        """Clear the counters; with `everything`, also forget tasks and restart faults."""
        self.stats.reset()
        if everything:
            self.store.clear()
            self.faults.reset()

    # -- routes -------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        grouped: dict[tuple[str, str], list[Entry]] = {}
        for spec in self.registry:
            for entry in _entries(spec):
                key = (entry.operation.method, _shape(entry.operation.path))
                grouped.setdefault(key, []).append(entry)
        routes: list[BaseRoute] = [
            Route("/_emulator/stats", self._stats, methods=["GET"]),
            Route("/_emulator/reset", self._reset, methods=["POST"]),
            Route("/_emulator/health", self._health, methods=["GET"]),
            Route("/cdn/{name}", self._cdn, methods=["GET"]),
        ]
        prefixes: list[tuple[str, str | None]] = [("", None)]
        prefixes += [(f"/{api}", api) for api in self.registry.apis()]
        by_path: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
        for prefix, api in prefixes:
            for (method, shape), entries in grouped.items():
                chosen = [e for e in entries if api is None or e.spec.api == api]
                if chosen:
                    handler = _Handler(self, chosen)
                    by_path.setdefault(prefix + shape, {})[method] = handler.handle
        for path, methods in by_path.items():
            routes.append(Route(path, _by_method(methods), methods=list(methods)))
        return routes

    async def _stats(self, request: Request) -> Response:
        return JSONResponse(self.snapshot_stats())

    async def _reset(self, request: Request) -> Response:
        everything = request.query_params.get("scope") == "all"
        self.reset(everything=everything)
        return JSONResponse({"reset": "all" if everything else "stats"})

    async def _health(self, request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "specs": sorted(s.name for s in self.registry),
                "apis": list(self.registry.apis()),
                "seed": self.config.seed,
                "job_seconds": self.config.job_seconds,
                "faults": str(self.config.faults),
            }
        )

    async def _cdn(self, request: Request) -> Response:
        name = request.path_params["name"]
        token = name[: -len(".mp4")] if name.endswith(".mp4") else ""
        task = self.store.by_token(token) if token else None
        if task is None:
            return PlainTextResponse("Not Found", status_code=404)
        fault = self.faults.draw(f"cdn:{token}", _DOWNLOAD_FAULTS)
        early = await self.disturb(fault, None)
        if early is not None:
            return early
        snap = await self.observe(task)
        if snap.status != "completed":
            return PlainTextResponse("Not Found", status_code=404)
        if snap.expired:
            status = self.config.cdn_expired_status
            return PlainTextResponse("This link has expired.", status_code=status)
        data = await self.renderer.video(task.job)
        return self.send_bytes(request, data, "video/mp4", fault, "cdn")

    # -- shared behaviour -----------------------------------------------------------------

    def authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        keys = self.config.api_keys
        if keys is None:
            return True
        given = token.encode()
        return any(hmac.compare_digest(given, key.encode()) for key in keys)

    async def disturb(self, fault: Fault | None, family: str | None) -> Response | None:
        """Apply an HTTP fault: an answer to send instead, or None to go on (after a delay
        for ``slow``). ``reset`` raises DropConnection; ``truncate`` is left to the sender."""
        if fault is None:
            return None
        self.stats.fault(fault.kind)
        kind = fault.kind
        if kind == "slow":
            await self.config.sleep(self.config.slow_seconds)
            return None
        if kind == "reset":
            raise DropConnection()
        if kind == "429":
            wait = self.config.retry_after_seconds
            headers = {
                "Retry-After": str(max(0, int(-(-wait // 1)))),
                "retry-after-ms": str(int(wait * 1000)),
            }
            return error_response(
                family,
                429,
                "Rate limit reached, retry later.",
                code="rate_limit_exceeded",
                headers=headers,
            )
        if kind == "500":
            return error_response(
                family,
                500,
                "The server had an error processing the request.",
                code="internal_error",
            )
        if kind in ("502", "503"):
            status = int(kind)
            page = _PROXY_PAGE.format(status=status, reason=_REASONS[status])
            return HTMLResponse(page, status_code=status)
        return None  # truncate

    async def observe(self, task: Task) -> Snapshot:
        """The task now; a finished task is rendered here, once, before it shows completed."""
        now = self.now()
        snap = task.snapshot(now)
        if snap.due and task.failure is None and not task.rendered:
            try:
                data = await self.renderer.video(task.job)
            except ValueError as exc:
                task.render_error = f"The emulator could not render this video: {exc}"
            else:
                task.video_bytes = len(data)
                task.video_sha256 = _sha256(data)
            snap = task.snapshot(now)
        return snap

    def urls(self, request: Request) -> tuple[str, str]:
        """The API and CDN origins for answers to `request`."""
        host = request.headers.get("host") or request.url.netloc
        base = self.config.base_url or f"{request.url.scheme}://{host}"
        cdn = self.config.cdn_base_url or f"{request.url.scheme}://{_other_host(host)}"
        return base, cdn

    def cdn_url(self, request: Request, task: Task) -> str:
        return f"{self.urls(request)[1]}/cdn/{task.cdn_token}.mp4"

    def poll_hint(self, snap: Snapshot) -> dict[str, str]:
        if snap.status in ("completed", "failed"):
            return {}
        if self.config.poll_after_ms is not None:
            return {"openai-poll-after-ms": str(self.config.poll_after_ms)}
        hint = int(min(5000.0, max(100.0, snap.remaining * 1000 / 4)))
        return {"openai-poll-after-ms": str(hint)}

    def send_bytes(
        self, request: Request, data: bytes, mime: str, fault: Fault | None, route: str
    ) -> Response:
        size = len(data)
        headers = {"Accept-Ranges": "bytes", "ETag": f'"{_sha256(data)}"'}
        span = _parse_range(request.headers.get("range"), size)
        status = 200
        body = data
        if span == "unsatisfiable":
            headers["Content-Range"] = f"bytes */{size}"
            return Response(b"", status_code=416, headers=headers)
        if isinstance(span, tuple):
            start, end = span
            body = data[start : end + 1]
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        if fault is not None and fault.kind == "truncate" and body:
            keep = min(len(body) - 1, int(len(body) * fault.fraction))
            self.stats.downloaded(route, keep)
            return _TruncatedResponse(body, status, headers, mime, keep)
        self.stats.downloaded(route, len(body))
        rate = self.config.download_bytes_per_second
        if rate is not None and body:
            return _ThrottledResponse(body, status, headers, mime, rate, self.config.sleep)
        return Response(body, status_code=status, headers=headers, media_type=mime)

    def new_task(
        self,
        spec: Spec,
        fields: Mapping[str, Any],
        want: Requested,
        fingerprint: str,
        *,
        model: str,
        source: Task | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Task:
        now = self.now()
        upstream = upstream_for(spec)
        task_id, token = self.store.new_ids(spec, upstream, fingerprint, now)
        failure = None
        expire_early = False
        task_fault = self.faults.draw(f"task:{spec.name}:{fingerprint}", TASK_KINDS)
        if task_fault is not None:
            self.stats.fault(task_fault.kind)
        if MAGIC_FAIL in want.prompt or (task_fault and task_fault.kind == "fail"):
            failure = "The video could not be generated (failure injected by the emulator)."
        if MAGIC_EXPIRE in want.prompt or (task_fault and task_fault.kind == "expire"):
            expire_early = True
        # A remix renders from its source's job, not from the source's task id: equal
        # requests on equal sources give equal bytes whatever ids the sources were given.
        ignored = {"model"}
        if source is not None and "remix" in spec.fields:
            ignored.add(spec.fields["remix"].field)
        job = RenderJob(
            model=model,
            prompt=want.prompt,
            seed=want.seed,
            width=want.width,
            height=want.height,
            seconds=want.seconds,
            fps=want.fps,
            reference_image=want.reference_image,
            source=source.job if source is not None else None,
            extra=dict(extra)
            if extra is not None
            else canonical_fields({k: v for k, v in fields.items() if k not in ignored}),
        )
        task = Task(
            id=task_id,
            spec=spec,
            upstream=upstream,
            model=model,
            prompt=want.prompt,
            fingerprint=fingerprint,
            created_at=now,
            job_seconds=self.config.job_seconds,
            queued_fraction=self.config.queued_fraction,
            content_ttl=self.config.content_ttl_seconds,
            job=job,
            size=want.size,
            seconds_text=want.seconds_text,
            has_image=want.has_image,
            cdn_token=token,
            failure=failure,
            expire_early=expire_early,
            remixed_from=source.id if source is not None else None,
        )
        self.store.add(task)
        self.stats.created(task, remix=source is not None)
        return task


class _Handler:
    """Serves one route for the spec operations that share it."""

    def __init__(self, emulator: Emulator, entries: Sequence[Entry]) -> None:
        self.emu = emulator
        self.entries = list(entries)
        self.family = entries[0].family
        self.role = next((e.role for e in entries if e.role), None)

    async def handle(self, request: Request) -> Response:
        emu = self.emu
        try:
            if not emu.authorized(request):
                missing = "authorization" not in request.headers
                message = (
                    "You didn't provide an API key; send it as 'Authorization: Bearer KEY'."
                    if missing
                    else "Incorrect API key provided."
                )
                raise RequestProblem(message, code="invalid_api_key", status=401)
            if self.role == "create":
                return await self.create(request)
            if self.role == "status":
                return await self.status(request)
            if self.role == "content":
                return await self.content(request)
            if self.role == "remix":
                return await self.remix(request)
            raise RequestProblem(
                "The emulator does not implement this operation.",
                code="not_implemented",
                status=501,
            )
        except RequestProblem as problem:
            emu.stats.reject(problem.status)
            return error_response(
                self.family, problem.status, problem.message, code=problem.code, param=problem.param
            )

    # -- roles ------------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        emu = self.emu
        body = await read_body(request)
        entry = self._pick(body)
        spec = entry.spec
        fields = entry.bodies[body.content_type].check(body)
        want = interpret(spec, fields, body.content_type, emu.config)
        source = None
        if want.remix_of is not None:
            source = await self._remix_source(want.remix_of, spec.fields["remix"].field)
            want = self._like_source(spec, fields, want, source)
        fingerprint = request_fingerprint(fields)
        fault = emu.faults.draw(f"create:{spec.name}:{fingerprint}", _REQUEST_FAULTS)
        lose_answer = fault is not None and fault.kind == "reset" and emu.config.reset_after_create
        if not lose_answer:
            early = await emu.disturb(fault, self.family)
            if early is not None:
                return early
        task = emu.new_task(
            spec, fields, want, fingerprint, model=str(fields["model"]), source=source
        )
        if lose_answer:
            emu.stats.fault("reset")
            raise DropConnection()
        if self.family == "videos":
            return JSONResponse(video_object(task, task.fresh(), None))
        return JSONResponse(created_task(task))

    async def status(self, request: Request) -> Response:
        emu = self.emu
        task = self._task(request)
        early = await emu.disturb(
            emu.faults.draw(f"status:{task.id}", _REQUEST_FAULTS), self.family
        )
        if early is not None:
            return early
        emu.stats.polled(task)
        snap = await emu.observe(task)
        url = emu.cdn_url(request, task)
        headers = emu.poll_hint(snap)
        if self.family == "videos":
            return JSONResponse(video_object(task, snap, url), headers=headers)
        return JSONResponse(task_envelope(task, snap, url, emu.now()), headers=headers)

    async def content(self, request: Request) -> Response:
        emu = self.emu
        task = self._task(request)
        entry = self._entry_of(task)
        query = self._query(request, entry)
        variant = str(query.get("variant", "video"))
        if variant not in _VARIANTS:
            raise RequestProblem(f"Unsupported variant {variant!r}.", param="variant")
        fault = emu.faults.draw(f"content:{task.id}:{variant}", _DOWNLOAD_FAULTS)
        early = await emu.disturb(fault, self.family)
        if early is not None:
            return early
        snap = await emu.observe(task)
        if snap.status in ("queued", "in_progress"):
            raise RequestProblem(
                f"Video {task.id} is not ready yet (status {snap.status}, {snap.progress}%).",
                code="video_not_ready",
            )
        if snap.status == "failed":
            raise RequestProblem(
                f"Video {task.id} failed: {task.error_message}", code="video_failed"
            )
        if snap.expired:
            raise RequestProblem(
                f"The content of video {task.id} has expired.", code="video_expired", status=404
            )
        if variant == "video":
            data, mime = await emu.renderer.video(task.job), "video/mp4"
        else:
            # No separate spritesheet renderer yet: both image variants are the first frame.
            data, mime = await emu.renderer.thumbnail(task.job)
        return emu.send_bytes(request, data, mime, fault, "content")

    async def remix(self, request: Request) -> Response:
        emu = self.emu
        source = self._task(request)
        entry = self._entry_of(source)
        body = await read_body(request)
        check = entry.bodies.get(body.content_type)
        if check is None:
            raise RequestProblem(
                f"This call takes {', '.join(entry.bodies)}, not {body.content_type}.",
                code="unsupported_media_type",
            )
        fields = check.check(body)
        source = await self._remix_source(source.id, None)
        fingerprint = request_fingerprint({**fields, "remixed_from_video_id": source.id})
        fault = emu.faults.draw(f"remix:{source.id}:{fingerprint}", _REQUEST_FAULTS)
        early = await emu.disturb(fault, self.family)
        if early is not None:
            return early
        job = source.job
        prompt = fields.get("prompt")
        want = Requested(
            prompt=prompt if isinstance(prompt, str) else "",
            seed=job.seed,
            width=job.width,
            height=job.height,
            seconds=job.seconds,
            fps=job.fps,
        )
        task = emu.new_task(
            source.spec,
            fields,
            want,
            fingerprint,
            model=source.model,
            source=source,
            extra={"remix": canonical_fields(fields)},
        )
        return JSONResponse(video_object(task, task.fresh(), None))

    # -- helpers ----------------------------------------------------------------------------

    def _pick(self, body: Body) -> Entry:
        model = body.peek("model")
        if not isinstance(model, str) or not model:
            raise RequestProblem("Missing required parameter: 'model'.", param="model")
        creates = [e for e in self.entries if e.role == "create"]
        exact = [e for e in creates if model in (e.spec.models() or ())]
        open_ = [e for e in creates if e.spec.models() is None]
        for group in (exact, open_):
            for entry in group:
                if body.content_type in entry.bodies:
                    return entry
        if exact or open_:
            takes = sorted({c for e in exact + open_ for c in e.bodies})
            raise RequestProblem(
                f"Model '{model}' takes {' or '.join(takes)}, not {body.content_type}.",
                code="unsupported_media_type",
            )
        raise RequestProblem(
            f"The model '{model}' does not exist or is not served here.",
            param="model",
            code="model_not_found",
        )

    def _task(self, request: Request) -> Task:
        task_id = str(next(iter(request.path_params.values()), ""))
        task = self.emu.store.get(task_id)
        if task is None or not any(e.spec is task.spec for e in self.entries):
            if self.family == "videos":
                raise RequestProblem(
                    f"Video with id '{task_id}' not found.", code="video_not_found", status=404
                )
            raise RequestProblem(f"task_not_exist: {task_id}", code="task_not_exist", status=400)
        return task

    def _entry_of(self, task: Task) -> Entry:
        return next(e for e in self.entries if e.spec is task.spec)

    def _query(self, request: Request, entry: Entry) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, (schema, validator, required) in entry.query.items():
            raw = request.query_params.get(name)
            if raw is None:
                if required:
                    raise RequestProblem(f"Missing required parameter: '{name}'.", param=name)
                if "default" in schema:
                    values[name] = schema["default"]
                continue
            value = coerce_text(raw, schema)
            if not validator.is_valid(value):
                raise RequestProblem(f"Invalid value for '{name}': {raw!r}.", param=name)
            values[name] = value
        return values

    async def _remix_source(self, task_id: str, param: str | None) -> Task:
        """The completed task to remix; `param` names the create field that named it (an
        unknown id there is a 400, while on the remix route it is a 404)."""
        source = self.emu.store.get(task_id)
        if source is None or source.spec.family != self.family:
            raise RequestProblem(
                f"Video with id '{task_id}' not found.",
                param=param,
                code="video_not_found",
                status=404 if param is None else 400,
            )
        snap = await self.emu.observe(source)
        if snap.status != "completed":
            raise RequestProblem(
                f"Video {task_id} is {snap.status}; only a completed video can be remixed.",
                param=param,
                code="video_not_ready",
            )
        return source

    def _like_source(
        self, spec: Spec, fields: Mapping[str, Any], want: Requested, source: Task
    ) -> Requested:
        """A remix through a create field keeps the source's size and length unless given."""
        size_names = {
            spec.fields[u].field for u in ("size", "resolution", "ratio") if u in spec.fields
        }
        size_names |= {"size", "width", "height"}
        time_names = {spec.fields["duration"].field} if "duration" in spec.fields else set()
        time_names |= {"seconds", "duration"}
        job = source.job
        if not size_names & set(fields):
            want = attrs.evolve(want, width=job.width, height=job.height)
        if not time_names & set(fields):
            want = attrs.evolve(want, seconds=job.seconds)
        if want.seed is None:
            want = attrs.evolve(want, seed=job.seed)
        return want


def _by_method(
    methods: Mapping[str, Callable[[Request], Awaitable[Response]]],
) -> Callable[[Request], Awaitable[Response]]:
    if len(methods) == 1:
        return next(iter(methods.values()))

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await methods[method](request)

    return dispatch


def error_response(
    family: str | None,
    status: int,
    message: str,
    *,
    code: str,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An error in the family's shape: OpenAI style for videos, new-api style for generations."""
    if family == "generations":
        if status == 400 and code != "task_not_exist":
            code = "invalid_request"
        body: dict[str, Any] = {"code": code, "message": message, "data": None}
    else:
        kind = "invalid_request_error"
        if status == 429:
            kind = "requests"
        elif status >= 500:
            kind = "server_error"
        body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def _parse_range(
    header: str | None, size: int
) -> tuple[int, int] | Literal["unsatisfiable"] | None:
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


def _other_host(host: str) -> str:
    """The other loopback name for the same server: the CDN's origin when served locally."""
    name, sep, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    if not sep:
        name, port = host, ""
    swapped = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}.get(name.lower(), name)
    return f"{swapped}:{port}" if port else swapped


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


class _ThrottledResponse(Response):
    """Sends its body in small chunks, no faster than `rate` bytes per second."""

    def __init__(
        self,
        body: bytes,
        status: int,
        headers: Mapping[str, str],
        mime: str,
        rate: float,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        super().__init__(body, status_code=status, headers=dict(headers), media_type=mime)
        self.rate = rate
        self.sleep = sleep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        data = b"" if scope.get("method") == "HEAD" else bytes(self.body)
        step = max(1, int(self.rate / 20))  # about 20 chunks a second
        for start in range(0, len(data), step):
            chunk = data[start : start + step]
            more = start + step < len(data)
            await send({"type": "http.response.body", "body": chunk, "more_body": more})
            if more:
                await self.sleep(len(chunk) / self.rate)
        if not data:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


class EmulatorApp:
    """The ASGI app: the spec routes plus the emulator's own, with a JSON 500 for bugs.

    `DropConnection` is let through on purpose: the server layer drops the connection.
    """

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.router = Router(emulator.routes(), default=self._not_found)

    @property
    def config(self) -> EmulatorConfig:
        return self.emulator.config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.router(scope, receive, tracking_send)
        except DropConnection:
            raise
        except Exception as exc:
            log.exception("emulator error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise DropConnection() from exc
            answer = error_response(None, 500, "Internal emulator error.", code="internal_error")
            await answer(scope, receive, send)

    async def _not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = error_response(
            None, 404, f"Unknown route {scope.get('path')}.", code="unknown_url"
        )
        await answer(scope, receive, send)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(config: EmulatorConfig | None = None) -> EmulatorApp:
    """The emulator as an ASGI app serving every route of every spec in the registry."""
    return EmulatorApp(Emulator(config or EmulatorConfig()))
