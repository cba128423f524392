"""The fields of a create call and of its answer, as a provider document or a spec describes
them, and the changes from one description to another.

Both `vidpipe specs check-docs` (a spec against its document) and `vidpipe specs diff` (one
version of a spec against another) read fields into `Field`s and compare them here, so the
two report the same kinds of change in the same words:

    added / removed       a field one side has and the other lacks
    required / optional   a field became required, or stopped being required
    type                  its JSON types differ (widened, narrowed or changed)
    values                enum values added or removed (or an enum brought in or lifted)
    range                 minimum or maximum moved

Types are spelled `string`, `integer`, `number`, `boolean`, `object`, `file` (a binary
string) and `array<T>`; `null` is left out (nullable is not a change of type).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from .specs import Spec, json_type, object_properties

__all__ = [
    "Change",
    "Field",
    "compare_fields",
    "describe",
    "field_types",
    "schema_field",
    "spec_fields",
]

Part = Literal["request", "response"]
Kind = Literal["added", "removed", "required", "optional", "type", "values", "range"]


@attrs.frozen
class Field:
    """One field: its types, whether it is required, its enum values and its range."""

    name: str
    types: frozenset[str]
    required: bool = False
    enum: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    #: Where it was described: "document" unless a spec says otherwise (`x-source`).
    source: str = "document"
    line: int | None = None  # in a document


@attrs.frozen
class Change:
    """One difference from the old description of a field to the new one.

    For "values", `added` and `removed` list the enum values; `old`/`new` hold the types
    ("type"), the (minimum, maximum) pairs ("range"), or the field ("added", "removed").
    """

    part: Part
    kind: Kind
    field: str
    old: Any = None
    new: Any = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    def direction(self) -> str:
        """For a type or range change: "widened", "narrowed" or "changed"; else ""."""
        if self.kind == "type":
            old, new = _comparable(self.old, self.new)
            if old < new:
                return "widened"
            return "narrowed" if new < old else "changed"
        if self.kind == "range":
            (old_low, old_high), (new_low, new_high) = self.old, self.new
            narrower = _raised(old_low, new_low) or _raised(new_high, old_high)
            wider = _raised(new_low, old_low) or _raised(old_high, new_high)
            if narrower and not wider:
                return "narrowed"
            return "widened" if wider and not narrower else "changed"
        if self.kind == "values" and (self.old is None) != (self.new is None):
            return "narrowed" if self.old is None else "widened"  # an enum brought in / lifted
        return ""


def _raised(low: float | None, high: float | None) -> bool:
    """True when the bound moved from `low` to a stricter `high` (None is no bound)."""
    if high is None:
        return False
    return low is None or high > low


def _comparable(old: frozenset[str], new: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """`old` and `new`, with item types dropped when one side names a bare `array`."""
    if "array" in old | new:
        return _bare_arrays(old), _bare_arrays(new)
    return old, new


def _bare_arrays(types: frozenset[str]) -> frozenset[str]:
    return frozenset("array" if t.startswith("array") else t for t in types)


def _range_text(bounds: tuple[float | None, float | None]) -> str:
    low, high = bounds
    if low is None and high is None:
        return "any"
    return f"{'' if low is None else low}..{'' if high is None else high}"


def describe(change: Change) -> str:
    """The change in words, from the field's point of view ("... 'seconds': ...")."""
    what = "parameter" if change.part == "request" else "response field"
    name = f"{what} {change.field!r}"
    if change.kind in ("added", "removed"):
        field = change.new if change.kind == "added" else change.old
        types = "/".join(sorted(field.types)) or "any type"
        required = ", required" if field.required else ""
        return f"{name} {change.kind} ({types}{required})"
    if change.kind == "required":
        return f"{name} is now required"
    if change.kind == "optional":
        return f"{name} is no longer required"
    if change.kind == "type":
        old = "/".join(sorted(change.old)) or "any type"
        new = "/".join(sorted(change.new)) or "any type"
        return f"{name}: type {change.direction()} from {old} to {new}"
    if change.kind == "range":
        return (
            f"{name}: range {change.direction()} from {_range_text(change.old)} "
            f"to {_range_text(change.new)}"
        )
    words = "status word" if change.field == "status" and change.part == "response" else "value"
    if change.old is None:
        return f"{name}: now limited to the values {', '.join(change.added)}"
    if change.new is None:
        return f"{name}: no longer limited to the values {', '.join(change.removed)}"
    parts = []
    if change.added:
        parts.append(f"{words}{'s' * (len(change.added) > 1)} {', '.join(change.added)} added")
    if change.removed:
        parts.append(
            f"{words}{'s' * (len(change.removed) > 1)} {', '.join(change.removed)} removed"
        )
    return f"{name}: {'; '.join(parts)}"


def compare_fields(
    part: Part,
    old: Mapping[str, Field],
    new: Mapping[str, Field],
    *,
    removable: Iterable[str] | None = None,
) -> list[Change]:
    """Every change from `old` to `new`, field by field in `new`'s order, then the removed.

    Only fields in `removable` (default: all of `old`) are reported when `new` lacks them.
    """
    changes: list[Change] = []
    for name, after in new.items():
        before = old.get(name)
        if before is None:
            changes.append(Change(part, "added", name, None, after))
            continue
        if after.required != before.required:
            changes.append(Change(part, "required" if after.required else "optional", name))
        old_types, new_types = _comparable(before.types, after.types)
        if before.types and after.types and old_types != new_types:
            changes.append(Change(part, "type", name, before.types, after.types))
        if before.enum or after.enum:
            gained = tuple(v for v in after.enum if v not in before.enum)
            lost = tuple(v for v in before.enum if v not in after.enum)
            if not before.enum or not after.enum:
                changes.append(
                    Change(
                        part,
                        "values",
                        name,
                        before.enum or None,
                        after.enum or None,
                        gained if before.enum else after.enum,
                        lost if after.enum else before.enum,
                    )
                )
            elif gained or lost:
                changes.append(Change(part, "values", name, before.enum, after.enum, gained, lost))
        bounds = ((before.minimum, before.maximum), (after.minimum, after.maximum))
        if bounds[0] != bounds[1]:
            changes.append(Change(part, "range", name, bounds[0], bounds[1]))
    keep = set(old) if removable is None else set(removable)
    changes.extend(
        Change(part, "removed", name, field)
        for name, field in old.items()
        if name not in new and name in keep
    )
    return changes


# -- fields of a spec ------------------------------------------------------------------------


def field_types(schema: Mapping[str, Any]) -> frozenset[str]:
    """The types a resolved schema admits, as this module spells them (`file` for a binary
    string, `array<T>` with its items' type; no `null`)."""
    found: set[str] = set()
    kind = schema.get("type")
    kinds = [kind] if isinstance(kind, str) else list(kind) if isinstance(kind, list) else []
    for k in kinds:
        if k == "string" and schema.get("format") == "binary":
            found.add("file")
        elif k == "array":
            items = schema.get("items")
            inner = field_types(items) if isinstance(items, Mapping) else frozenset()
            found |= {f"array<{t}>" for t in inner} or {"array"}
        elif k != "null":
            found.add(str(k))
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key) or ():
            if isinstance(sub, Mapping):
                found |= field_types(sub)
    if not found:
        values = [schema["const"]] if "const" in schema else schema.get("enum")
        if isinstance(values, list):
            found |= {json_type(v) for v in values if v is not None}
    return frozenset(found)


def _enum(schema: Mapping[str, Any]) -> tuple[str, ...]:
    values = [str(v) for v in schema.get("enum") or () if v is not None]
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key) or ():
            if isinstance(sub, Mapping):
                values += [v for v in _enum(sub) if v not in values]
    return tuple(dict.fromkeys(values))


def _bound(schema: Mapping[str, Any], key: str) -> float | None:
    value = schema.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    for sub in schema.get("anyOf") or ():
        if isinstance(sub, Mapping) and _bound(sub, key) is not None:
            return _bound(sub, key)
    return None


def schema_field(name: str, schema: Mapping[str, Any], required: bool) -> Field:
    """A (resolved) property schema as a Field."""
    return Field(
        name=name,
        types=field_types(schema),
        required=required,
        enum=_enum(schema),
        minimum=_bound(schema, "minimum"),
        maximum=_bound(schema, "maximum"),
        source=str(schema.get("x-source", "document")),
    )


def _merge(fields: dict[str, Field], more: Mapping[str, Field]) -> None:
    """Fields of one more content type: types, values and requiredness add up."""
    for name, field in more.items():
        had = fields.get(name)
        if had is None:
            fields[name] = field
            continue
        fields[name] = attrs.evolve(
            had,
            types=had.types | field.types,
            required=had.required or field.required,
            enum=tuple(dict.fromkeys((*had.enum, *field.enum))) if had.enum and field.enum else (),
        )


def _object_fields(schema: Mapping[str, Any]) -> dict[str, Field]:
    props, required = object_properties(schema)
    return {
        name: schema_field(name, prop, name in required)
        for name, prop in props.items()
        if isinstance(prop, Mapping)
    }


def spec_fields(spec: Spec) -> tuple[dict[str, Field], dict[str, Field]]:
    """The create call's body fields (every content type together) and the fields of its
    success answer."""
    create = spec.operation("create").definition
    request: dict[str, Field] = {}
    for media in (create.get("requestBody") or {}).get("content", {}).values():
        if isinstance(media, Mapping) and "schema" in media:
            _merge(request, _object_fields(spec.resolve(media["schema"])))
    responses = create.get("responses") or {}
    ok = spec.resolve(responses.get("200") or responses.get("201") or {})
    response: dict[str, Field] = {}
    for media in (ok.get("content") or {}).values():
        if isinstance(media, Mapping) and "schema" in media:
            _merge(response, _object_fields(media["schema"]))
    return request, response
