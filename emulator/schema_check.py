"""Checking request bodies against the spec's schemas (JSON Schema draft 2020-12).

Multipart forms arrive as strings and file parts, so their values are first coerced to the
types the schema names: integers, numbers, booleans, objects (a JSON part), arrays (repeated
fields). A field the schema marks as ``format: binary`` must be a file part, with a content
type from its ``x-content-types`` list when the spec gives one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from ..specs import schema_types
from .bodies import MULTIPART, Body, FilePart
from .problems import RequestProblem

__all__ = ["SchemaCheck", "coerce_text"]

_MESSAGE_LIMIT = 240


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _is_binary(schema: Mapping[str, Any]) -> bool:
    return schema.get("format") == "binary" or "x-content-types" in schema


def coerce_text(text: str, schema: Mapping[str, Any]) -> Any:
    """A form string turned into the type `schema` asks for, or left as is if it does not fit."""
    kinds = schema_types(schema)
    if not kinds or "string" in kinds:
        return text
    stripped = text.strip()
    if "integer" in kinds and re.fullmatch(r"[+-]?\d+", stripped):
        return int(stripped)
    if "number" in kinds:
        try:
            return float(stripped)
        except ValueError:
            pass
    if "boolean" in kinds and stripped.lower() in ("true", "false", "1", "0"):
        return stripped.lower() in ("true", "1")
    if "null" in kinds and stripped.lower() in ("", "null"):
        return None
    if kinds & {"object", "array"}:
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    return text


class SchemaCheck:
    """Validation of one operation body (one content type) against its resolved schema."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = dict(schema)
        self.properties: Mapping[str, Any] = self.schema.get("properties", {}) or {}
        self._validator = Draft202012Validator(self.schema)

    def check(self, body: Body) -> dict[str, Any]:
        """The validated fields (file parts as `FilePart`), or a RequestProblem."""
        if body.content_type == MULTIPART:
            fields = self._coerce_form(body.form)
            instance: Any = {k: "" if isinstance(v, FilePart) else v for k, v in fields.items()}
        else:
            fields = body.json if isinstance(body.json, dict) else {}
            instance = body.json
        error = best_match(self._validator.iter_errors(instance))
        if error is not None:
            raise _problem(error)
        return dict(fields)

    def _coerce_form(self, form: Mapping[str, Sequence[str | FilePart]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, values in form.items():
            schema = self.properties.get(name, {})
            kinds = schema_types(schema)
            if "array" in kinds and "string" not in kinds:
                items = schema.get("items", {}) if isinstance(schema.get("items"), Mapping) else {}
                # One JSON part holds the whole array (so a JSON object there is no array);
                # otherwise each repeated part is one item.
                first = values[0]
                if len(values) == 1 and isinstance(first, str) and first.lstrip()[:1] in ("[", "{"):
                    out[name] = _json_or_text(first)
                else:
                    out[name] = [self._one(name, v, items) for v in values]
            else:
                out[name] = self._one(name, values[0], schema)
        return out

    def _one(self, name: str, value: str | FilePart, schema: Mapping[str, Any]) -> Any:
        if isinstance(value, FilePart):
            if schema and not _is_binary(schema):
                raise RequestProblem(f"'{name}' takes a text value, not a file.", param=name)
            allowed = schema.get("x-content-types")
            if allowed and value.content_type not in allowed:
                raise RequestProblem(
                    f"'{name}' must be one of {', '.join(allowed)}, not {value.content_type}.",
                    param=name,
                )
            return value
        if _is_binary(schema):
            raise RequestProblem(f"'{name}' must be uploaded as a file part.", param=name)
        return coerce_text(value, schema)


def _param(error: ValidationError) -> str | None:
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [p for p in error.validator_value if p not in error.instance]
        path.extend(missing[:1])
    if not path:
        return None
    text = str(path[0])
    for part in path[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _problem(error: ValidationError) -> RequestProblem:
    param = _param(error)
    if error.validator == "required":
        return RequestProblem(f"Missing required parameter: '{param}'.", param=param)
    detail = error.message
    if len(detail) > _MESSAGE_LIMIT:
        detail = detail[: _MESSAGE_LIMIT - 3] + "..."
    where = f"'{param}'" if param else "the request body"
    return RequestProblem(f"Invalid value for {where}: {detail}", param=param)
