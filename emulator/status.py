"""The status role: a task as it stands now, in its family's shape, with a poll hint.

A read may meet a burst of faults (``burst-*``: several in a row for the same task) or a
single one drawn for it alone."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .handling import SpecRoute
from .wire.generations import task_envelope
from .wire.videos import video_object

__all__ = ["status"]


async def status(route: SpecRoute, request: Request) -> Response:
    emu = route.emu
    task = route.task(request)
    scope = f"status:{task.id}"
    burst = emu.faults.burst(scope)
    early = await (emu.disturb(burst, route.family) if burst else route.disturbed(scope))
    if early is not None:
        return early
    emu.stats.polled(task)
    snap = await emu.observe(task)
    url = emu.cdn_url(request, task)
    headers = emu.poll_hint(snap)
    dialect = emu.dialect(task)
    if route.family == "videos":
        return JSONResponse(video_object(task, snap, url, dialect.status), headers=headers)
    return JSONResponse(task_envelope(task, snap, url, dialect), headers=headers)
