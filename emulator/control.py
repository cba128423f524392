"""The emulator's own routes, without auth: ``GET /_emulator/stats``, ``POST
/_emulator/reset`` (``?scope=all`` also forgets the tasks and restarts the fault streams)
and ``GET /_emulator/health``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .instance import Emulator

__all__ = ["ControlRoutes"]


class ControlRoutes:
    """The stats, reset and health routes of one emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator

    async def stats(self, request: Request) -> Response:
        return JSONResponse(self.emu.snapshot_stats())

    async def reset(self, request: Request) -> Response:
        everything = request.query_params.get("scope") == "all"
        self.emu.reset(everything=everything)
        return JSONResponse({"reset": "all" if everything else "stats"})

    async def health(self, request: Request) -> Response:
        config = self.emu.config
        return JSONResponse(
            {
                "status": "ok",
                "specs": sorted(s.name for s in self.emu.registry),
                "apis": list(self.emu.registry.apis()),
                "seed": config.seed,
                "job_seconds": config.job_seconds,
                "faults": str(config.faults),
            }
        )
