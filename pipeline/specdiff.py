"""What changed between two versions of a spec, each change classed breaking or not.

`vidpipe specs diff OLD NEW` compares two spec files (each bundled with its shared parts), the
way oasdiff compares OpenAPI documents, over what vidpipe and a storyboard depend on:

    create call, request fields   breaking: a field or enum value removed, a type narrowed or
                                  changed, a field newly required (or added as required), a
                                  range narrowed, an enum brought in
    create answer, fields         breaking: a field removed, a type widened or changed, an
                                  enum value added or the enum lifted (a reader sees a value
                                  it never saw)
    status words                  breaking: a word removed from x-vidpipe-status, or mapped to
                                  another state
    operations                    breaking: a role removed, or its method or path changed
    unified fields                breaking: a unified name removed or sent to another field
    family, content type          breaking: changed

Everything else that changes in these (a field added, a value added to a request enum, a
type widened, a word mapped) is not breaking. Exit codes of the command: 0 no change, 1 a
breaking change, 3 changes that are all not breaking (2 is bad input, as everywhere).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from .apifields import Change, compare_fields, describe, spec_fields
from .specs import Spec

__all__ = ["SpecChange", "diff_specs"]


@attrs.frozen
class SpecChange:
    """One difference between two versions of a spec."""

    text: str
    breaking: bool

    def __str__(self) -> str:
        return f"{'breaking' if self.breaking else 'non-breaking'}: {self.text}"


def _breaking(change: Change) -> bool:
    """Whether a field change can break a caller (request) or a reader (response)."""
    direction = change.direction()
    if change.part == "request":
        if change.kind == "added":
            return bool(change.new.required)
        if change.kind == "values":  # an enum lifted takes every value it took, and more
            return direction == "narrowed" or (direction == "" and bool(change.removed))
        return change.kind in ("removed", "required") or direction in ("narrowed", "changed")
    if change.kind == "values":  # an enum lifted lets new values through; one brought in, none
        return direction == "widened" or (direction == "" and bool(change.added))
    return change.kind == "removed" or direction in ("widened", "changed")


def _status_changes(old: Spec, new: Spec) -> list[SpecChange]:
    found = []
    for word, state in old.status_map.items():
        now = new.status_map.get(word)
        if now is None:
            found.append(SpecChange(f"status word {word!r} ({state}) no longer mapped", True))
        elif now != state:
            found.append(SpecChange(f"status word {word!r} now means {now}, not {state}", True))
    found += [
        SpecChange(f"status word {word!r} mapped to {state}", False)
        for word, state in new.status_map.items()
        if word not in old.status_map
    ]
    return found


def _operation_changes(old: Spec, new: Spec) -> list[SpecChange]:
    found = []
    for role in old.operations:
        if not new.has(role):
            found.append(SpecChange(f"operation {role} removed", True))
            continue
        before, after = old.operation(role), new.operation(role)
        if (before.method, before.path) != (after.method, after.path):
            found.append(
                SpecChange(
                    f"operation {role} moved from {before.method} {before.path} to "
                    f"{after.method} {after.path}",
                    True,
                )
            )
    found += [
        SpecChange(f"operation {role} added", False) for role in new.operations if not old.has(role)
    ]
    return found


def _mapping_changes(old: Spec, new: Spec) -> list[SpecChange]:
    found = []
    for unified, rule in old.fields.items():
        now = new.fields.get(unified)
        if now is None:
            found.append(SpecChange(f"unified field {unified!r} no longer mapped", True))
        elif (now.field, now.form) != (rule.field, rule.form):
            found.append(
                SpecChange(
                    f"unified field {unified!r} now goes to {now.field!r} ({now.form})", True
                )
            )
    found += [
        SpecChange(f"unified field {unified!r} mapped to {rule.field!r}", False)
        for unified, rule in new.fields.items()
        if unified not in old.fields
    ]
    settings: Mapping[str, tuple[object, object]] = {
        "family": (old.family, new.family),
        "create content type": (old.create_content_type, new.create_content_type),
        "upload content type": (old.upload_content_type, new.upload_content_type),
        "remix via": (old.remix_via, new.remix_via),
    }
    found += [
        SpecChange(f"{what} changed from {before} to {after}", True)
        for what, (before, after) in settings.items()
        if before != after
    ]
    return found


def diff_specs(old: Spec, new: Spec) -> list[SpecChange]:
    """Every change from `old` to `new`, each classed breaking or not."""
    old_request, old_response = spec_fields(old)
    new_request, new_response = spec_fields(new)
    found = [
        SpecChange(describe(c), _breaking(c))
        for c in (
            compare_fields("request", old_request, new_request)
            + compare_fields("response", old_response, new_response)
        )
    ]
    return (
        found
        + _status_changes(old, new)
        + _operation_changes(old, new)
        + _mapping_changes(old, new)
    )
