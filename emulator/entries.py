"""The operations of a spec as the emulator serves them: each with its role, its body
checks and its query parameters, read from the spec so a spec edit changes the emulator."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs
from jsonschema import Draft202012Validator

from ..specs import Operation, Spec
from .schema_check import SchemaCheck

__all__ = ["Entry", "QueryParam", "route_shape", "spec_entries"]

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


def route_shape(path: str) -> str:
    """A path template with every parameter named ``{id}``, so specs' routes line up."""
    return _PARAM_RE.sub("{id}", path)
