"""Status words: which word an answer uses for each state, read from the spec alone.

A status schema's ``x-vidpipe-status`` maps every word the API can send to one of vidpipe's
states (queued, running, succeeded, failed). The emulator says each state with the first
word the mapping gives it, unless the schema's ``x-vidpipe-emulator.sends`` names the
words: one word, or a list the task shows in turn over its time in that state::

    TaskStatus:
      x-vidpipe-status: {NOT_START: queued, SUBMITTED: queued, QUEUED: queued, ...}
      x-vidpipe-emulator:
        sends: {queued: [SUBMITTED, QUEUED]}   # first half of the queue, then the second

Every word sent must be one the mapping gives that same state, and every state needs a
word, so what the emulator says is always something a client reading the spec understands.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ..errors import SpecError
from ..specs import Spec
from ..states import TASK_STATES, TaskState

__all__ = [
    "EXTENSION_KEYS",
    "StatusWords",
    "deref",
    "emulator_extension",
    "find_status_schema",
    "status_words",
]

#: What a status schema's ``x-vidpipe-emulator`` block may say (see also `dialect`).
EXTENSION_KEYS = ("sends", "raw-task")


@attrs.frozen
class StatusWords:
    """The words one status schema (`schema`, a component name) sends for each state."""

    schema: str
    sends: Mapping[TaskState, tuple[str, ...]]

    def word(self, state: TaskState, through: float = 0.0) -> str:
        """The word for `state`, `through` (0..1) the time the task spends in it."""
        words = self.sends[state]
        return words[min(len(words) - 1, max(0, int(through * len(words))))]


def status_words(spec: Spec, name: str, schema: Mapping[str, Any]) -> StatusWords:
    """The words a status schema with an ``x-vidpipe-status`` mapping sends."""
    mapping: Mapping[str, str] = schema.get("x-vidpipe-status") or {}
    chosen = emulator_extension(spec, name, schema).get("sends") or {}
    where = f"{name} (x-vidpipe-emulator.sends)"
    if not isinstance(chosen, Mapping) or not set(chosen) <= set(TASK_STATES):
        raise SpecError(
            f"{where} must map states ({', '.join(TASK_STATES)}) to words", spec=spec.name
        )
    sends: dict[TaskState, tuple[str, ...]] = {}
    for state in TASK_STATES:
        given = chosen.get(state)
        if given is None:
            words = tuple(str(w) for w, s in mapping.items() if s == state)[:1]
        elif isinstance(given, list):
            words = tuple(str(w) for w in given)
        else:
            words = (str(given),)
        if not words:
            raise SpecError(
                f"{name}'s x-vidpipe-status maps no word to {state}, so the emulator cannot say it",
                spec=spec.name,
            )
        for word in words:
            if mapping.get(word) != state:
                raise SpecError(
                    f"{where} sends {word!r} for {state}, but x-vidpipe-status maps it to "
                    f"{mapping.get(word, 'nothing')}",
                    spec=spec.name,
                )
        sends[state] = words
    return StatusWords(name, sends)


def emulator_extension(spec: Spec, name: str, schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """A schema's ``x-vidpipe-emulator`` block (empty when it has none), its keys checked."""
    extension = schema.get("x-vidpipe-emulator") or {}
    if not isinstance(extension, Mapping) or not set(extension) <= set(EXTENSION_KEYS):
        raise SpecError(
            f"{name}'s x-vidpipe-emulator takes only {', '.join(EXTENSION_KEYS)}", spec=spec.name
        )
    return extension


def deref(spec: Spec, node: Any, seen: tuple[str, ...] = ()) -> tuple[str, Any, tuple[str, ...]]:
    """`node` with a local ``$ref`` followed (repeatedly): the last name on the way, the
    target, and the refs seen (a ref seen before is not followed again)."""
    name = ""
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            return name, {}, seen
        seen = (*seen, ref)
        target: Any = spec.doc
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, Mapping) else {}
        name, node = ref.rsplit("/", 1)[1], target
    return name, node, seen


def find_status_schema(
    spec: Spec, node: Any, path: tuple[str, ...], seen: tuple[str, ...] = ()
) -> tuple[str, Mapping[str, Any]] | None:
    """The status schema (component name and schema) at property `path` of the answer
    schema `node`, following ``$ref``, anyOf, oneOf and allOf; None if there is none."""
    name, node, seen = deref(spec, node, seen)
    if not isinstance(node, Mapping):
        return None
    if not path and "x-vidpipe-status" in node:
        return name or "(inline schema)", node
    props = node.get("properties")
    if path and isinstance(props, Mapping) and path[0] in props:
        found = find_status_schema(spec, props[path[0]], path[1:], seen)
        if found is not None:
            return found
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in node.get(key) or ():
            found = find_status_schema(spec, sub, path, seen)
            if found is not None:
                return found
    return None
