"""How one spec speaks: the status words of each answer and, for `/v1/video/generations`,
the upstream whose raw task the envelope wraps. Read from the spec alone, checked once when
the emulator starts (a spec the emulator cannot speak is a `SpecError` naming it).

- The create answer's words come from the status schema its ``status`` property refers to;
  the status answer's from ``status`` of the Video object (`/v1/videos`) or ``data.status``
  of the task envelope (`/v1/video/generations`). A remix answers like a create.
- A generations spec names its upstream with ``x-vidpipe-emulator.raw-task`` (``seedance``
  or ``dashscope``) on the schema of the upstream's own status words; the envelope's
  ``data.data`` then holds that upstream's task in its words. Without one, ``data.data`` is
  empty and task ids are ``task_...``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ..errors import SpecError
from ..specs import Spec
from .wire.upstream import UPSTREAMS, Upstream
from .words import StatusWords, deref, emulator_extension, find_status_schema, status_words

__all__ = ["Dialect", "dialect_for"]

# Where each family's answers carry their status word.
_STATUS_AT: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "videos": {"create": ("status",), "status": ("status",)},
    "generations": {"create": ("status",), "status": ("data", "status")},
}


@attrs.frozen
class Dialect:
    """The words and task naming of one spec's answers."""

    family: str
    created: StatusWords
    status: StatusWords
    upstream: Upstream | None = None
    raw: StatusWords | None = None

    def task_id(self, digest: bytes, created_at: float) -> str:
        """A task id in the style of the API (and upstream) that made the task."""
        if self.upstream is not None:
            return self.upstream.task_id(digest, created_at)
        prefix = "video" if self.family == "videos" else "task"
        return f"{prefix}_{digest.hex()[:32]}"


def dialect_for(spec: Spec) -> Dialect:
    """Read (and check) how `spec` says its states; raises SpecError."""
    words = {
        role: _answer_words(spec, role, path) for role, path in _STATUS_AT[spec.family].items()
    }
    upstream, raw = _upstream(spec)
    return Dialect(spec.family, words["create"], words["status"], upstream, raw)


def _answer_words(spec: Spec, role: str, path: tuple[str, ...]) -> StatusWords:
    responses = spec.operation(role).definition.get("responses", {})
    _, answer, _ = deref(spec, responses.get("200") or responses.get("201") or {})
    content = answer.get("content", {}) if isinstance(answer, Mapping) else {}
    media: Mapping[str, Any] = content.get("application/json") or next(iter(content.values()), {})
    found = find_status_schema(spec, media.get("schema", {}), path)
    if found is None:
        raise SpecError(
            f"the {role} answer's {'.'.join(path)} names no schema with x-vidpipe-status, so "
            f"the emulator cannot tell which words it uses",
            spec=spec.name,
        )
    return status_words(spec, *found)


def _upstream(spec: Spec) -> tuple[Upstream | None, StatusWords | None]:
    schemas: Mapping[str, Any] = spec.doc.get("components", {}).get("schemas", {})
    marked = [
        (name, schema)
        for name, schema in schemas.items()
        if isinstance(schema, Mapping)
        and "x-vidpipe-status" in schema
        and "raw-task" in emulator_extension(spec, name, schema)
    ]
    if not marked:
        return None, None
    if len(marked) > 1 or spec.family != "generations":
        raise SpecError(
            "x-vidpipe-emulator.raw-task belongs on one status schema of a generations spec",
            spec=spec.name,
        )
    name, schema = marked[0]
    kind = schema["x-vidpipe-emulator"]["raw-task"]
    if kind not in UPSTREAMS:
        raise SpecError(
            f"{name}'s x-vidpipe-emulator.raw-task is {kind!r}; known: {', '.join(UPSTREAMS)}",
            spec=spec.name,
        )
    return UPSTREAMS[kind], status_words(spec, name, schema)
