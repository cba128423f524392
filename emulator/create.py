"""The create and remix roles: both validate a request and make a new task.

A create on a route several specs share is dispatched on its ``model``: the first spec
whose model enum names it (and which takes the body's content type), else a spec that takes
any model. A remix is made either through the spec's remix route or through a create field
naming the source video (``x-vidpipe.fields.remix``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..specs import Spec
from .bodies import Body, read_body
from .entries import Entry
from .fault_answers import lost_answer, too_many_in_flight
from .faults import CREATE_KINDS, CREATED_KINDS, DropConnection
from .fingerprints import canonical_fields, request_fingerprint
from .handling import SpecRoute
from .problems import RequestProblem
from .requested import Requested, interpret
from .task import Task
from .wire.generations import created_task
from .wire.videos import video_object

__all__ = ["create", "remix"]


async def create(route: SpecRoute, request: Request) -> Response:
    emu = route.emu
    body = await read_body(request)
    entry = _pick(route, body)
    spec = entry.spec
    fields = entry.bodies[body.content_type].check(body)
    want = interpret(spec, fields, body.content_type, emu.config)
    source = None
    if want.remix_of is not None:
        source = await _remix_source(route, want.remix_of, spec.fields["remix"].field)
        want = _like_source(spec, fields, want, source)
    fingerprint = request_fingerprint(fields)

    def make() -> Task:
        model = str(fields["model"])
        return emu.new_task(spec, fields, want, fingerprint, model=model, source=source)

    return await _make_and_answer(route, f"create:{spec.name}:{fingerprint}", make)


async def remix(route: SpecRoute, request: Request) -> Response:
    emu = route.emu
    source = route.task(request)
    entry = route.entry_of(source)
    body = await read_body(request)
    check = entry.bodies.get(body.content_type)
    if check is None:
        raise RequestProblem(
            f"This call takes {', '.join(entry.bodies)}, not {body.content_type}.",
            code="unsupported_media_type",
        )
    fields = check.check(body)
    source = await _remix_source(route, source.id, None)
    fingerprint = request_fingerprint({**fields, "remixed_from_video_id": source.id})
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

    def make() -> Task:
        extra = {"remix": canonical_fields(fields)}
        return emu.new_task(
            source.spec, fields, want, fingerprint, model=source.model, source=source, extra=extra
        )

    return await _make_and_answer(route, f"remix:{source.id}:{fingerprint}", make)


async def _make_and_answer(route: SpecRoute, scope: str, make: Callable[[], Task]) -> Response:
    """Make a task and answer with it, meeting the faults a create can meet on the way:
    those that stop the request before the task exists, and those that lose the answer
    after it does (``reset`` with `reset_after_create`, ``created-*``)."""
    emu = route.emu
    fault = emu.faults.draw(scope, CREATE_KINDS)
    after = fault is not None and (
        fault.kind in CREATED_KINDS or (fault.kind == "reset" and emu.config.reset_after_create)
    )
    if not after:
        early = await emu.disturb(fault, route.family)
        if early is not None:
            return early
    if emu.too_busy():
        return too_many_in_flight(route.family, emu.config, emu.stats)
    task = make()
    if fault is not None and after:
        if fault.kind == "reset":
            emu.stats.fault("reset")
            raise DropConnection()
        return lost_answer(fault, route.family, emu.stats)
    dialect = emu.dialect(task)
    if route.family == "videos":
        return JSONResponse(video_object(task, task.fresh(), None, dialect.created))
    return JSONResponse(created_task(task, dialect))


def _pick(route: SpecRoute, body: Body) -> Entry:
    model = body.peek("model")
    if not isinstance(model, str) or not model:
        raise RequestProblem("Missing required parameter: 'model'.", param="model")
    creates = [e for e in route.entries if e.role == "create"]
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


async def _remix_source(route: SpecRoute, task_id: str, param: str | None) -> Task:
    """The completed task to remix; `param` names the create field that named it (an
    unknown id there is a 400, while on the remix route it is a 404)."""
    source = route.emu.store.get(task_id)
    if source is None or source.spec.family != route.family:
        raise RequestProblem(
            f"Video with id '{task_id}' not found.",
            param=param,
            code="video_not_found",
            status=404 if param is None else 400,
        )
    snap = await route.emu.observe(source)
    if snap.state != "succeeded":
        word = route.emu.dialect(source).status.word(snap.state, snap.through)
        raise RequestProblem(
            f"Video {task_id} is {word}; only a completed video can be remixed.",
            param=param,
            code="video_not_ready",
        )
    return source


def _like_source(spec: Spec, fields: Mapping[str, Any], want: Requested, source: Task) -> Requested:
    """A remix through a create field keeps the source's size and length unless given."""
    size_names = {spec.fields[u].field for u in ("size", "resolution", "ratio") if u in spec.fields}
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
