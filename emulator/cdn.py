"""``GET /cdn/{token}.mp4``: finished videos on the second origin, no auth, with Range.

Result URLs point here, as a gateway's point at its storage: the path carries an unguessable
token, not the task id, and an expired link answers `EmulatorConfig.cdn_expired_status`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from .fault_answers import denied
from .faults import DOWNLOAD_KINDS
from .instance import Emulator

__all__ = ["CdnRoute"]


class CdnRoute:
    """Serves the CDN origin of one emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    async def handle(self, request: Request) -> Response:
        emu = self.emu
        name = request.path_params["name"]
        token = name[: -len(".mp4")] if name.endswith(".mp4") else ""
        task = emu.store.by_token(token) if token else None
        if task is None:
            return PlainTextResponse("Not Found", status_code=404)
        fault = emu.faults.draw(f"cdn:{token}", DOWNLOAD_KINDS)
        early = await emu.disturb(fault, None)
        if early is not None:
            return early
        snap = await emu.observe(task)
        if snap.state != "succeeded":
            return PlainTextResponse("Not Found", status_code=404)
        if snap.expired:
            status = emu.config.cdn_expired_status
            return PlainTextResponse("This link has expired.", status_code=status)
        refusal = emu.faults.denial(task.id, "cdn")
        if refusal is not None:
            return denied(refusal, None, emu.stats)
        data = await emu.renderer.video(task.job)
        return emu.send_bytes(request, data, "video/mp4", fault, "cdn")
