"""What the emulator's answers look like on the wire, per API family."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse

from . import generations, videos

__all__ = ["error_response"]


def error_response(
    family: str | None,
    status: int,
    message: str,
    *,
    code: str,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An error in the family's shape: OpenAI style for videos (and the emulator's own
    routes), new-api style for generations."""
    if family == "generations":
        body = generations.error_body(status, message, code)
    else:
        body = videos.error_body(status, message, code, param)
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))
