"""Error answers in each family's shape: OpenAI style for `/v1/videos` (and the emulator's
own routes), new-api style for `/v1/video/generations`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

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
    """An error answer in `family`'s shape."""
    if family == "generations":
        body = _new_api_error(status, message, code)
    else:
        body = _openai_error(status, message, code, param)
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def _openai_error(status: int, message: str, code: str, param: str | None) -> dict[str, Any]:
    """``{error: {message, type, param, code}}``, typed by the HTTP status."""
    kind = "invalid_request_error"
    if status == 429:
        kind = "requests"
    elif status >= 500:
        kind = "server_error"
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _new_api_error(status: int, message: str, code: str) -> dict[str, Any]:
    """``{code, message, data}``; a plain 400 is ``invalid_request`` as new-api names it."""
    if status == 400 and code != "task_not_exist":
        code = "invalid_request"
    return {"code": code, "message": message, "data": None}
