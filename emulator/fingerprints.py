"""The fingerprint of a validated request, by which the stats count creates per request."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from ..fingerprint import canonical_json
from .bodies import FilePart

__all__ = ["canonical_fields", "request_fingerprint"]


def canonical_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """`fields` with file parts replaced by their digest, ready for canonical JSON."""

    def walk(value: Any) -> Any:
        if isinstance(value, FilePart):
            return value.canonical()
        if isinstance(value, Mapping):
            return {str(k): walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v) for v in value]
        return value

    out: dict[str, Any] = walk(fields)
    return out


def request_fingerprint(fields: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of a validated request (files by their digest)."""
    return hashlib.sha256(canonical_json(canonical_fields(fields))).hexdigest()
