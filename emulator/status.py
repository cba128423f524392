"""The status role: a task as it stands now, in its family's shape, with a poll hint."""

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
    early = await route.disturbed(f"status:{task.id}")
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
