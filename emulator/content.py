"""The content role: a finished task's video (or an image variant) with Range support."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .fault_answers import denied
from .faults import DOWNLOAD_KINDS
from .handling import SpecRoute
from .problems import RequestProblem

__all__ = ["content"]

_VARIANTS = ("video", "thumbnail", "spritesheet")


async def content(route: SpecRoute, request: Request) -> Response:
    emu = route.emu
    task = route.task(request)
    query = route.query(request, route.entry_of(task))
    variant = str(query.get("variant", "video"))
    if variant not in _VARIANTS:
        raise RequestProblem(f"Unsupported variant {variant!r}.", param="variant")
    fault = emu.faults.draw(f"content:{task.id}:{variant}", DOWNLOAD_KINDS)
    early = await emu.disturb(fault, route.family)
    if early is not None:
        return early
    snap = await emu.observe(task)
    if snap.state in ("queued", "running"):
        word = emu.dialect(task).status.word(snap.state, snap.through)
        raise RequestProblem(
            f"Video {task.id} is not ready yet (status {word}, {snap.progress}%).",
            code="video_not_ready",
        )
    if snap.state == "failed":
        raise RequestProblem(f"Video {task.id} failed: {task.error_message}", code="video_failed")
    if snap.expired:
        raise RequestProblem(
            f"The content of video {task.id} has expired.", code="video_expired", status=404
        )
    if variant == "video":
        refusal = emu.faults.denial(task.id, "content")
        if refusal is not None:
            return denied(refusal, route.family, emu.stats)
        data, mime = await emu.renderer.video(task.job), "video/mp4"
    else:
        # No separate spritesheet renderer yet: both image variants are the first frame.
        data, mime = await emu.renderer.thumbnail(task.job)
    return emu.send_bytes(request, data, mime, fault, "content")
