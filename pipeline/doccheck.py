"""Compare a provider's API document with the spec that transcribes it.

Provider documents come in two text layouts: a "field per block" layout (the field name on
one line, its type on the next, then `required`, a description and `Available options:` with
the enum values), and a Markdown table layout (`| name | type | required | description |`).
Both are read into the same shape, then compared with the spec's create call: every
parameter and enum value the document lists must be in the spec, and every spec field that
claims to come from the document (not marked `x-source: reference`) must be in the document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from .errors import InputError, Problem
from .specs import Spec, load_spec

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TYPE = re.compile(
    r"^(enum<\w+>|string|integer|number|boolean|file|object|array)(\[\])?$", re.IGNORECASE
)
_KEYWORDS = {"required", "optional"}
_TABLE_ROW = re.compile(r"^\|?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\|\s*([^|]+?)\s*\|")


@attrs.frozen
class DocField:
    """One field as a document lists it."""

    name: str
    type: str
    required: bool = False
    enum: tuple[str, ...] = ()


@attrs.frozen
class ApiDocument:
    """What a provider document says about its create call."""

    path: Path
    request: Mapping[str, DocField]
    response: Mapping[str, DocField]


@attrs.frozen
class DocCheck:
    """Differences between a document and its spec; empty lists mean they agree."""

    document: str
    spec: str
    missing_params: list[str] = attrs.Factory(list)
    missing_enum_values: dict[str, list[str]] = attrs.Factory(dict)
    missing_required: list[str] = attrs.Factory(list)
    missing_response_fields: list[str] = attrs.Factory(list)
    missing_response_enum_values: dict[str, list[str]] = attrs.Factory(dict)
    extra_params: list[str] = attrs.Factory(list)
    extra_response_fields: list[str] = attrs.Factory(list)

    @property
    def ok(self) -> bool:
        """True when nothing the document lists is missing from the spec."""
        return not (
            self.missing_params
            or self.missing_enum_values
            or self.missing_required
            or self.missing_response_fields
            or self.missing_response_enum_values
        )

    def lines(self) -> list[str]:
        """A human-readable report, one finding per line."""
        out = []
        for name in self.missing_params:
            out.append(f"missing parameter: {name}")
        for name, values in self.missing_enum_values.items():
            out.append(f"missing enum values of {name}: {', '.join(values)}")
        for name in self.missing_required:
            out.append(f"parameter not marked required: {name}")
        for name in self.missing_response_fields:
            out.append(f"missing response field: {name}")
        for name, values in self.missing_response_enum_values.items():
            out.append(f"missing enum values of response field {name}: {', '.join(values)}")
        for name in self.extra_params:
            out.append(
                f"extra parameter (not in the document, not marked x-source: reference): {name}"
            )
        for name in self.extra_response_fields:
            out.append(
                f"extra response field (not in the document, not marked x-source: reference): {name}"
            )
        return out


def _options(lines: list[str], start: int) -> tuple[tuple[str, ...], int]:
    """Read the comma-separated values after an `Available options:` line."""
    values: list[str] = []
    i = start
    while i < len(lines):
        text = lines[i].strip()
        if not text:
            i += 1
            continue
        more = text.endswith(",")
        values.extend(v.strip() for v in text.rstrip(",").split(",") if v.strip())
        i += 1
        if not more:
            break
    return tuple(values), i


def _starts_field(lines: list[str], i: int) -> bool:
    """A field block starts with its name on one line and its type on the next."""
    if i + 1 >= len(lines):
        return False
    name = lines[i].strip()
    return (
        bool(_NAME.match(name))
        and name not in _KEYWORDS
        and bool(_TYPE.match(lines[i + 1].strip()))
    )


def _parse_blocks(lines: list[str]) -> dict[str, DocField]:
    fields: dict[str, DocField] = {}
    i = 0
    while i < len(lines) - 1:
        if not _starts_field(lines, i):
            i += 1
            continue
        required = False
        enum: tuple[str, ...] = ()
        j = i + 2
        while j < len(lines):
            text = lines[j].strip()
            if _starts_field(lines, j):
                break
            if text == "required":
                required = True
            elif text == "Available options:":
                enum, j = _options(lines, j + 1)
                continue
            j += 1
        name, typ = lines[i].strip(), lines[i + 1].strip()
        fields[name] = DocField(name, typ, required, enum)
        i = j
    return fields


def _parse_table(lines: list[str]) -> dict[str, DocField]:
    fields: dict[str, DocField] = {}
    for line in lines:
        m = _TABLE_ROW.match(line.strip())
        if not m or m.group(1) in {"Name", "Field"}:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        required = len(cells) > 2 and cells[2].lower() == "yes"
        fields[m.group(1)] = DocField(m.group(1), m.group(2), required)
    return fields


def _section(lines: list[str], starts: Iterable[str], ends: Iterable[str]) -> list[str]:
    starts, ends = tuple(starts), tuple(ends)
    # A heading may be glued to the end of the line before it (a code sample, say).
    begin = next(
        (i for i, line in enumerate(lines) if any(line.strip().endswith(s) for s in starts)),
        None,
    )
    if begin is None:
        return []
    rest = lines[begin + 1 :]
    end = next((i for i, line in enumerate(rest) if line.strip() in ends), len(rest))
    return rest[:end]


def parse_document(path: Path) -> ApiDocument:
    """Read a provider document's request parameters and response fields."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(Problem(f"cannot read document: {exc.strerror}", str(path))) from exc
    if any(line.strip() == "Request body parameters" for line in lines):
        request = _parse_table(
            _section(lines, ["Request body parameters"], ["Example request", "Response schema"])
        )
        response = _parse_table(_section(lines, ["Response schema"], ["Example response:"]))
    else:
        request = _parse_blocks(_section(lines, ["Body"], ["Response"]))
        response = _parse_blocks(_section(lines, ["Response"], []))
    if not request:
        raise InputError(Problem("no request parameters found in the document", str(path)))
    return ApiDocument(path, request, response)


def _enum_values(schema: Mapping[str, Any]) -> set[str]:
    values = {str(v) for v in schema.get("enum", ())}
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key, ()):
            values |= _enum_values(sub)
    return values


def _create_properties(spec: Spec) -> tuple[dict[str, Any], set[str]]:
    body = spec.operation("create").definition.get("requestBody", {})
    props: dict[str, Any] = {}
    required: set[str] = set()
    for media in body.get("content", {}).values():
        schema = spec.resolve(media["schema"])
        props.update(schema.get("properties", {}))
        required |= set(schema.get("required", ()))
    return props, required


def _response_properties(spec: Spec) -> dict[str, Any]:
    responses = spec.operation("create").definition.get("responses", {})
    ok = responses.get("200") or responses.get("201") or {}
    ok = spec.resolve(ok)
    props: dict[str, Any] = {}
    for media in ok.get("content", {}).values():
        props.update(media.get("schema", {}).get("properties", {}))
    return props


def _from_reference(schema: Mapping[str, Any]) -> bool:
    """True for a property that says it does not come from the document's field list."""
    return bool(schema.get("x-source", "document") != "document")


def compare(document: ApiDocument, spec: Spec) -> DocCheck:
    """What the spec lacks of the document, and what it claims beyond it."""
    props, required = _create_properties(spec)
    check = DocCheck(document=document.path.name, spec=spec.name)
    for name, field in document.request.items():
        if name not in props:
            check.missing_params.append(name)
            continue
        lacking = sorted(set(field.enum) - _enum_values(props[name]))
        if lacking:
            check.missing_enum_values[name] = lacking
        if field.required and name not in required:
            check.missing_required.append(name)
    response = _response_properties(spec)
    for name, field in document.response.items():
        if name not in response:
            check.missing_response_fields.append(name)
            continue
        lacking = sorted(set(field.enum) - _enum_values(response[name]))
        if lacking:
            check.missing_response_enum_values[name] = lacking
    check.extra_params.extend(
        sorted(n for n, s in props.items() if n not in document.request and not _from_reference(s))
    )
    check.extra_response_fields.extend(
        sorted(
            n for n, s in response.items() if n not in document.response and not _from_reference(s)
        )
    )
    return check


def check_document(document: Path, spec: Path | Spec) -> DocCheck:
    """Parse `document` and compare it with `spec` (a path or a loaded Spec)."""
    loaded = spec if isinstance(spec, Spec) else load_spec(spec)
    return compare(parse_document(document), loaded)
