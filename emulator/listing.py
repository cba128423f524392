"""The list and delete roles of `/v1/videos`, as the OpenAI Videos API has them.

A list shows the tasks of the route's specs (under ``/{api}/`` only that API's), newest
first unless ``order=asc``, ``limit`` at a time, continuing ``after`` a given id.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .handling import SpecRoute
from .problems import RequestProblem
from .wire.videos import deleted_video, video_list, video_object

__all__ = ["delete_video", "list_videos"]


async def list_videos(route: SpecRoute, request: Request) -> Response:
    emu = route.emu
    query = route.query(request, route.entries[0])
    early = await route.disturbed("list")
    if early is not None:
        return early
    specs = {id(e.spec) for e in route.entries}
    tasks = [t for t in emu.store.all() if id(t.spec) in specs]
    if query["order"] == "desc":
        tasks.reverse()
    after = query.get("after")
    if after is not None:
        ids = [t.id for t in tasks]
        if after not in ids:
            raise RequestProblem(
                f"No video with id '{after}' to list after.", param="after", code="video_not_found"
            )
        tasks = tasks[ids.index(after) + 1 :]
    page, rest = tasks[: query["limit"]], tasks[query["limit"] :]
    videos = []
    for task in page:
        snap = await emu.observe(task)
        words = emu.dialect(task).status
        videos.append(video_object(task, snap, emu.cdn_url(request, task), words))
    return JSONResponse(video_list(videos, has_more=bool(rest)))


async def delete_video(route: SpecRoute, request: Request) -> Response:
    task = route.task(request)
    early = await route.disturbed(f"delete:{task.id}")
    if early is not None:
        return early
    route.emu.store.delete(task)
    return JSONResponse(deleted_video(task.id))
