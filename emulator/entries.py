"""The operations of a spec as the emulator serves them: each with its role, its body
checks and its query parameters, read from the spec so a spec edit changes the emulator.

A `/v1/videos` spec is also served the two calls the OpenAI Videos API has beside its own:
``GET`` on the create path lists the videos (``limit``, ``order``, ``after``) and ``DELETE``
on the status path deletes one, unless the spec declares those operations itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs
from jsonschema import Draft202012Validator

from ..specs import Operation, Spec
from .schema_check import SchemaCheck

__all__ = ["Entry", "QueryParam", "route_shape", "served_entries", "spec_entries"]

_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_PARAM_RE = re.compile(r"\{[^}/]+\}")


@attrs.frozen
class QueryParam:
    """One query parameter of an operation: its schema, a validator and whether required."""

    schema: Mapping[str, Any]
    validator: Draft202012Validator
    required: bool


@attrs.frozen
class Entry:
    """One spec operation served on a route, with the role it plays."""

    spec: Spec
    role: str | None
    operation: Operation
    bodies: Mapping[str, SchemaCheck]
    query: Mapping[str, QueryParam]

    @property
    def family(self) -> str:
        return self.spec.family


def spec_entries(spec: Spec) -> list[Entry]:
    """Every operation of `spec`. Roles come from ``x-vidpipe.operations``; a POST with the
    create call's body is an alias route of the create call."""
    roles = {op_id: role for role, op_id in spec.operations.items()}
    create_body = spec.operation("create").definition.get("requestBody")
    found = []
    for path, item in spec.doc.get("paths", {}).items():
        for method, definition in item.items():
            if method not in _METHODS or not isinstance(definition, dict):
                continue
            op_id = definition.get("operationId", f"{method} {path}")
            role = roles.get(op_id)
            if role is None and method == "post" and definition.get("requestBody") == create_body:
                role = "create"
            body = spec.resolve(definition.get("requestBody", {}))
            bodies = {
                ctype: SchemaCheck(media.get("schema", {}))
                for ctype, media in (body.get("content") or {}).items()
            }
            query = {}
            for param in spec.resolve(
                item.get("parameters", []) + definition.get("parameters", [])
            ):
                if isinstance(param, dict) and param.get("in") == "query":
                    schema = param.get("schema", {})
                    query[param["name"]] = QueryParam(
                        schema, Draft202012Validator(schema), bool(param.get("required"))
                    )
            operation = Operation(op_id, method.upper(), path, definition)
            found.append(Entry(spec, role, operation, bodies, query))
    return found


_LIST_QUERY: Mapping[str, Mapping[str, Any]] = {
    "limit": {"type": "integer", "minimum": 0, "maximum": 100, "default": 20},
    "order": {"type": "string", "enum": ["asc", "desc"], "default": "desc"},
    "after": {"type": "string"},
}


def served_entries(spec: Spec) -> list[Entry]:
    """The spec's operations, plus list and delete for a `/v1/videos` spec without them."""
    found = spec_entries(spec)
    if spec.family != "videos":
        return found
    taken = {(e.operation.method, route_shape(e.operation.path)) for e in found}
    query = {
        name: QueryParam(schema, Draft202012Validator(schema), False)
        for name, schema in _LIST_QUERY.items()
    }
    for role, method, path, params in (
        ("list", "GET", spec.operation("create").path, query),
        ("delete", "DELETE", spec.operation("status").path, {}),
    ):
        if (method, route_shape(path)) not in taken:
            operation = Operation(f"emulator.{role}", method, path, {})
            found.append(Entry(spec, role, operation, {}, params))
    return found


def route_shape(path: str) -> str:
    """A path template with every parameter named ``{id}``, so specs' routes line up."""
    return _PARAM_RE.sub("{id}", path)
