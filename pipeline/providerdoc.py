"""A provider's API document, read into the fields of its create call and of its answer.

Provider documents come as text in a few layouts, all read into the same `ApiDocument`:

- "a field per block" (the seed documents): the field name on one line, its type on the
  next (`string`, `integer`, `enum<string>`, `object[]`, `file`), then `required`,
  `default:X`, a description, `Available options:` with the enum values (comma-separated,
  one or more lines) and `Required range: A <= x <= B`;
- tables, `| name | type | required | description |` (the header row names the columns; a
  `values`, `options` or `enum` column, or "Available options: a, b" / "One of: `a`, `b`" in
  the description, lists enum values);
- either of them under Markdown headings (`## Request body`, `## Response`).

The request section starts at a line or heading such as `Body`, `Request body` or
`Request body parameters`, the answer's at `Response`, `Response body` or `Response schema`.
The route (`POST /v1/videos`, the `curl --url` of an example, or the path spelled one segment a
line), the server and the body's content type are read where the document gives them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from .errors import InputError, Problem

__all__ = ["ApiDocument", "DocField", "doc_types", "parse_document"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_BASE_TYPES = r"string|integer|number|boolean|file|object|array|int|float|bool"
_TYPE = re.compile(
    rf"^(?:enum<\w+>|{_BASE_TYPES})(?:\[\])?(?:\s*(?:/|\|| or )\s*(?:enum<\w+>|{_BASE_TYPES})(?:\[\])?)*$",
    re.IGNORECASE,
)
_KEYWORDS = {"required", "optional", "header", "query", "path", "body"}
_REQUEST = ("request body parameters", "request body", "request parameters", "body")
_RESPONSE = ("response schema", "response body", "response fields", "response")
_STOPS = {
    "example request",
    "example response",
    "example response:",
    "errors",
    "next step",
    "authorizations",
}
_RANGE = re.compile(r"(-?\d+(?:\.\d+)?)\s*<=?\s*x\s*<=?\s*(-?\d+(?:\.\d+)?)")
_OPTIONS = re.compile(
    r"(?:available options|allowed values|one of|options|values)\s*:\s*(.+)$", re.IGNORECASE
)
_DEFAULT = re.compile(r"^default\s*:\s*(.*)$", re.IGNORECASE)
_CONTENT_TYPES = ("multipart/form-data", "application/json", "application/x-www-form-urlencoded")
_ROUTE = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE)[ \t]+`?(/[\w{}./-]*)")
_URL = re.compile(r"(?:--url\s+|curl\s+)(https?://[^\s'\"\\]+)")
_TRUE = {"yes", "y", "true", "required", "✓", "✔", "x"}


@attrs.frozen
class DocField:
    """One field as a document lists it. `type` is as written (`enum<string>`, `object[]`)."""

    name: str
    type: str
    required: bool = False
    enum: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    default: str | None = None
    description: str = ""
    line: int | None = None  # 1-based, in the document

    @property
    def types(self) -> frozenset[str]:
        return doc_types(self.type)


@attrs.frozen
class ApiDocument:
    """What a provider document says about its create call."""

    path: Path
    sha256: str
    request: Mapping[str, DocField]
    response: Mapping[str, DocField]
    title: str = ""
    method: str | None = None
    route: str | None = None
    server: str | None = None
    content_type: str | None = None


_ALIASES = {
    "int": "integer",
    "float": "number",
    "double": "number",
    "bool": "boolean",
    "str": "string",
    "binary": "file",
    "dict": "object",
    "map": "object",
}


def _one_type(text: str) -> str:
    text = text.strip().lower()
    match = re.fullmatch(r"enum<(\w+)>", text)
    if match:
        text = match.group(1)
    array = re.fullmatch(r"(?:array<(\w+)>|array of (\w+)s?|(\w+)\[\])", text)
    if array:
        inner = next(g for g in array.groups() if g)
        return f"array<{_one_type(inner)}>"
    return _ALIASES.get(text, text)


def doc_types(text: str) -> frozenset[str]:
    """The JSON types a document's type text names, as `vidpipe.specs`' comparisons spell
    them: `string`, `integer`, `file`, `array<object>`, ...; `null` is left out."""
    parts = re.split(r"\s*(?:/|\||,|\bor\b)\s*", text.strip())
    return frozenset(t for t in (_one_type(p) for p in parts if p.strip()) if t != "null")


def _heading(line: str) -> tuple[int, str]:
    """(Markdown heading level or 0, the text without #s, trailing colon or emphasis)."""
    stripped = line.strip()
    level = len(stripped) - len(stripped.lstrip("#"))
    text = stripped.lstrip("#").strip().strip("*_").rstrip(":").strip().lower()
    return level, text


def _starts(line: str, names: Sequence[str]) -> bool:
    level, text = _heading(line)
    if text in names:
        return True
    # A heading may be glued to the end of the line before it (a code sample, say).
    return not level and any(
        " " in n and line.strip().lower().endswith(n) and len(line.strip()) > len(n) for n in names
    )


def _section(lines: list[str], names: Sequence[str], until: Sequence[str]) -> tuple[int, int]:
    """The [start, end) line range of the section that starts at a line in `names`."""
    begin = next((i for i, line in enumerate(lines) if _starts(line, names)), None)
    if begin is None:
        return 0, 0
    level = _heading(lines[begin])[0]
    for i in range(begin + 1, len(lines)):
        heading, text = _heading(lines[i])
        if _starts(lines[i], until) or text in _STOPS:
            return begin + 1, i
        if level and heading and heading <= level:
            return begin + 1, i
    return begin + 1, len(lines)


def _split_values(text: str) -> tuple[str, ...]:
    text = text.strip().rstrip(".")
    parts = re.split(r"\s*(?:,|\||\bor\b)\s*", text)
    return tuple(v for v in (p.strip().strip("`'\"") for p in parts) if v)


# -- the "field per block" layout ----------------------------------------------------------


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
        and name.lower() not in _KEYWORDS
        and bool(_TYPE.match(lines[i + 1].strip()))
    )


def _number(text: str) -> float:
    value = float(text)
    return int(value) if value.is_integer() else value


def _parse_blocks(lines: list[str], offset: int) -> dict[str, DocField]:
    fields: dict[str, DocField] = {}
    i = 0
    while i < len(lines) - 1:
        if not _starts_field(lines, i):
            i += 1
            continue
        required = False
        enum: tuple[str, ...] = ()
        low = high = None
        default = None
        description = ""
        j = i + 2
        while j < len(lines):
            text = lines[j].strip()
            if _starts_field(lines, j):
                break
            if text == "Example:":  # its value is on the next line that is not blank
                j += 1
                while j < len(lines) and not lines[j].strip():
                    j += 1
                j += 1
                continue
            if text.lower() == "required":
                required = True
            elif text == "Available options:":
                enum, j = _options(lines, j + 1)
                continue
            elif _DEFAULT.match(text):
                default = _DEFAULT.match(text).group(1).strip()  # type: ignore[union-attr]
            elif text.startswith("Required range:") and _RANGE.search(text):
                found = _RANGE.search(text)
                assert found is not None
                low, high = _number(found.group(1)), _number(found.group(2))
            elif text and not description and text.lower() not in _KEYWORDS:
                description = text
            j += 1
        name, typ = lines[i].strip(), lines[i + 1].strip()
        fields[name] = DocField(
            name, typ, required, enum, low, high, default, description, offset + i + 1
        )
        i = j
    return fields


# -- tables --------------------------------------------------------------------------------


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


_COLUMNS = {
    "name": ("name", "field", "parameter", "param", "property"),
    "type": ("type",),
    "required": ("required", "req", "mandatory"),
    "description": ("description", "notes", "meaning"),
    "values": ("values", "options", "enum", "allowed values", "available options"),
    "default": ("default",),
}


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        text = cell.strip("*_` ").lower()
        for role, names in _COLUMNS.items():
            if text in names and role not in found:
                found[role] = index
    return found


def _row_field(cells: list[str], columns: Mapping[str, int], line: int) -> DocField | None:
    """The field one table row describes (None for a row that names none)."""
    row = {
        role: cells[index] if index < len(cells) else ""
        for role in _COLUMNS
        for index in [columns.get(role, len(cells))]
    }
    name = row["name"].strip("`*_ ")
    if not _NAME.match(name):
        return None
    description = row["description"]
    enum = _split_values(row["values"]) if row["values"] else ()
    options = _OPTIONS.search(description)
    if not enum and options:
        enum = _split_values(options.group(1))
    typ = row["type"].strip("` ")
    if typ.lower().startswith("enum") and not enum:
        inline = re.match(r"enum<?\w*>?\s*[:(]\s*(.+?)\)?$", typ, re.IGNORECASE)
        if inline:
            enum = _split_values(inline.group(1))
            typ = "string"
    found = _RANGE.search(description)
    default = re.search(r"default\s*:\s*`?([^`.;,]+)`?", description, re.IGNORECASE)
    return DocField(
        name=name,
        type=typ,
        required=row["required"].strip("`*_ ").lower() in _TRUE,
        enum=enum,
        minimum=_number(found.group(1)) if found else None,
        maximum=_number(found.group(2)) if found else None,
        default=row["default"].strip("` ") or (default.group(1).strip() if default else None),
        description=description,
        line=line,
    )


def _parse_table(lines: list[str], offset: int) -> dict[str, DocField]:
    fields: dict[str, DocField] = {}
    columns: dict[str, int] = {}
    for i, line in enumerate(lines):
        if "|" not in line:
            continue
        cells = _cells(line)
        if all(re.fullmatch(r":?-+:?", c) for c in cells if c):
            continue  # the line under the header
        header = _columns(cells)
        if "name" in header and "type" in header:
            columns = header
            continue
        field = _row_field(cells, columns, offset + i + 1) if columns else None
        if field is not None:
            fields[field.name] = field
    return fields


def _fields(lines: list[str], span: tuple[int, int]) -> dict[str, DocField]:
    start, end = span
    part = lines[start:end]
    table = _parse_table(part, start)
    return table if table else _parse_blocks(part, start)


# -- where the call goes -------------------------------------------------------------------


def _spelled_route(lines: list[str]) -> tuple[str, str, int] | None:
    """The method and path spelled one segment a line (`POST`, `/`, `v1`, `/`, `videos`),
    and the index of the line after them."""
    for i, line in enumerate(lines[:40]):
        if line.strip() in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            segments: list[str] = []
            j = i + 1
            while j + 1 < len(lines) and lines[j].strip() == "/":
                segments.append(lines[j + 1].strip())
                j += 2
            if segments:
                return line.strip(), "/" + "/".join(segments), j
    return None


def _route(lines: list[str]) -> tuple[str | None, str | None, str | None]:
    """(method, path, server) as the document gives them: spelled out, in the example's
    URL, or as `METHOD /path` in the text."""
    text = "\n".join(lines)
    url = _URL.search(text)
    server = path = None
    if url:
        found = re.match(r"(https?://[^/]+)(/.*)?$", url.group(1))
        if found:
            server, path = found.group(1), found.group(2)
    spelled = _spelled_route(lines)
    if spelled:
        return spelled[0], spelled[1], server
    route = _ROUTE.search(text)
    if path:
        return (route.group(1) if route else "POST"), path, server
    if route:
        return route.group(1), route.group(2), server
    return None, None, server


def _content_type(lines: list[str], request: tuple[int, int]) -> str | None:
    start = request[0]
    for line in lines[start : start + 3]:
        if line.strip() in _CONTENT_TYPES:
            return line.strip()
    for line in lines:
        lowered = line.lower()
        if "content-type" in lowered:
            for ctype in _CONTENT_TYPES:
                if ctype in lowered:
                    return ctype
    return None


def _title(lines: list[str]) -> str:
    for line in lines:
        level, _ = _heading(line)
        if level == 1:
            return line.strip().lstrip("#").strip()
    spelled = _spelled_route(lines)
    if spelled and spelled[2] < len(lines):
        return lines[spelled[2]].strip()
    return next((line.strip() for line in lines if line.strip()), "")


def parse_document(path: Path) -> ApiDocument:
    """Read a provider document's request parameters, answer fields and route."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(Problem(f"cannot read document: {exc.strerror}", str(path))) from exc
    lines = raw.decode("utf-8", "replace").splitlines()
    request_span = _section(lines, _REQUEST, _RESPONSE)
    response_span = _section(lines, _RESPONSE, ())
    request = _fields(lines, request_span)
    if not request:
        raise InputError(Problem("no request parameters found in the document", str(path)))
    method, route, server = _route(lines)
    return ApiDocument(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        request=request,
        response=_fields(lines, response_span),
        title=_title(lines),
        method=method,
        route=route,
        server=server,
        content_type=_content_type(lines, request_span),
    )
