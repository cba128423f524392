"""Request bodies as received: JSON, or a multipart form with its file parts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from .problems import RequestProblem

__all__ = ["JSON", "MULTIPART", "Body", "FilePart", "read_body"]

JSON = "application/json"
MULTIPART = "multipart/form-data"


@attrs.frozen
class FilePart:
    """One uploaded file of a multipart form."""

    filename: str
    content_type: str
    data: bytes = attrs.field(repr=False)

    def canonical(self) -> dict[str, str]:
        return {"sha256": hashlib.sha256(self.data).hexdigest(), "content_type": self.content_type}


@attrs.frozen
class Body:
    """A request body as received: a JSON value, or a form as name -> list of values."""

    content_type: str
    json: Any = None
    form: Mapping[str, Sequence[str | FilePart]] = attrs.field(factory=dict)

    def peek(self, name: str) -> Any:
        """The raw value of a top-level field before coercion (first one for forms)."""
        if self.content_type == MULTIPART:
            values = self.form.get(name)
            return values[0] if values else None
        return self.json.get(name) if isinstance(self.json, dict) else None


async def read_body(request: Request) -> Body:
    """Read a JSON or multipart body; anything else, or a broken body, is a RequestProblem."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in ("", JSON) or media.endswith("+json"):
        raw = await request.body()
        try:
            value = json.loads(raw) if raw.strip() else None
        except (ValueError, UnicodeDecodeError) as exc:
            raise RequestProblem(f"The request body is not valid JSON: {exc}") from None
        return Body(JSON, json=value)
    if media == MULTIPART:
        try:
            form = await request.form()
        except MultiPartException as exc:
            raise RequestProblem(f"The multipart body cannot be parsed: {exc.message}") from None
        fields: dict[str, list[str | FilePart]] = {}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                part: str | FilePart = FilePart(
                    value.filename or name,
                    (value.content_type or "application/octet-stream")
                    .split(";")[0]
                    .strip()
                    .lower(),
                    data,
                )
            else:
                part = value
            fields.setdefault(name, []).append(part)
        await form.close()
        return Body(MULTIPART, form=fields)
    raise RequestProblem(
        f"Unsupported Content-Type {media!r}; send {JSON} or {MULTIPART}.",
        code="unsupported_media_type",
    )
