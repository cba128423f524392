"""A draft spec from a provider document (`vidpipe specs draft`).

The draft transcribes what the document says: the create call's route, content type and
body fields (types, enums, required, defaults, ranges), the answer's fields and the status
words it lists, with the document's file name and sha256 recorded. The family's shared parts
(`specs/shared/<family>.yaml`: the status, content and remix calls, the error body, the
answer fields documents leave out) are referenced, not copied. What the document cannot
say is left as a value starting with "TODO": which request field takes each of the
storyboard's unified names, and what each status word means. `vidpipe.specs` refuses a spec
while a TODO is left in those places, so a draft cannot be used half-finished.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .apifields import field_types
from .errors import InputError, Problem
from .openapi import SPEC_DIR
from .providerdoc import ApiDocument, DocField, parse_document
from .specs import SHARED_DIR, TODO, resolve_refs

__all__ = ["draft_spec"]

_STATES = "queued, running, succeeded or failed"
_ERRORS = ("400", "401", "429", "500")


class _Family:
    """What a draft of one family references and names."""

    def __init__(self, family: str) -> None:
        self.name = family
        self.shared = f"{SHARED_DIR}/{family}.yaml"
        self.videos = family == "videos"
        self.answer = "Video" if self.videos else "VideoTask"
        self.fields = "VideoFields" if self.videos else "VideoTaskFields"
        self.error = "Error" if self.videos else "TaskError"
        self.tag = "videos" if self.videos else "video-generations"
        self.create = "createVideo" if self.videos else "createVideoGeneration"
        self.route = "/v1/videos" if self.videos else "/v1/video/generations"
        self.unified = (
            ("prompt", "duration", "size", "image", "seed")
            if self.videos
            else ("prompt", "duration", "resolution", "ratio", "image", "seed")
        )

    def ref(self, kind: str, name: str) -> dict[str, str]:
        return {"$ref": f"{self.shared}#/components/{kind}/{name}"}

    def shared_fields(self) -> dict[str, tuple[Any, frozenset[str]]]:
        """The answer fields the shared parts add: each as a draft references it (its
        `$ref`s pointed into the shared file), and its types."""
        doc = yaml.safe_load((SPEC_DIR / self.shared).read_text(encoding="utf-8"))
        props = doc["components"]["schemas"][self.fields].get("properties", {})
        return {
            name: (_pointed_into(prop, self.shared), field_types(resolve_refs(doc, prop)))
            for name, prop in props.items()
        }

    def paths(self) -> dict[str, Any]:
        if self.videos:
            return {
                "/v1/videos/{video_id}": self.ref("pathItems", "Video"),
                "/v1/videos/{video_id}/content": self.ref("pathItems", "VideoContent"),
                "/v1/videos/{video_id}/remix": self.ref("pathItems", "VideoRemix"),
            }
        return {"/v1/video/generations/{task_id}": self.ref("pathItems", "VideoGeneration")}

    def operations(self) -> dict[str, str]:
        if self.videos:
            return {
                "create": self.create,
                "status": "getVideo",
                "content": "getVideoContent",
                "remix": "remixVideo",
            }
        return {"create": self.create, "status": "getVideoGeneration"}


def _pointed_into(node: Any, file: str) -> Any:
    """`node` from `file` with its local `$ref`s naming `file`."""
    if isinstance(node, dict):
        return {
            k: f"{file}{v}" if k == "$ref" and str(v).startswith("#") else _pointed_into(v, file)
            for k, v in node.items()
        }
    return [_pointed_into(v, file) for v in node] if isinstance(node, list) else node


def _typed(value: str, types: frozenset[str]) -> Any:
    """A document's value (an enum value, a default) as the field's type reads it."""
    text = value.strip().strip("\"'")
    try:
        if "integer" in types and "string" not in types:
            return int(text)
        if "number" in types and "string" not in types:
            return float(text)
    except ValueError:
        return text
    if "boolean" in types and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _type_schema(kind: str) -> dict[str, Any]:
    if kind == "file":
        return {"type": "string", "format": "binary"}
    if kind.startswith("array<"):
        return {"type": "array", "items": _type_schema(kind[6:-1])}
    if kind == "array":
        return {"type": "array", "items": {}}
    if kind == "object":
        return {"type": "object", "additionalProperties": True}
    return {"type": kind}


def _property(field: DocField) -> dict[str, Any]:
    types = field.types
    kinds = sorted(types)
    schema: dict[str, Any] = (
        _type_schema(kinds[0]) if len(kinds) == 1 else {"anyOf": [_type_schema(k) for k in kinds]}
    )
    if not kinds:
        schema = {}
    if field.enum:
        schema["enum"] = [_typed(v, types) for v in field.enum]
    if field.minimum is not None:
        schema["minimum"] = field.minimum
    if field.maximum is not None:
        schema["maximum"] = field.maximum
    if field.default not in (None, ""):
        schema["default"] = _typed(str(field.default), types)
    if field.description:
        schema["description"] = field.description
    return schema


def _object(fields: Mapping[str, DocField], props: Mapping[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object"}
    required = [name for name, f in fields.items() if f.required]
    if required:
        schema["required"] = required
    schema["properties"] = dict(props)
    return schema


def _fits(unified: str, field: DocField) -> bool:
    """Whether a request field could take a unified name, judged by its type and values."""
    types, enum = field.types, field.enum
    if unified == "prompt":
        return ("string" in types and not enum) or "array<object>" in types
    if unified == "duration":
        numeric = bool(enum) and all(v.lstrip("-").replace(".", "", 1).isdigit() for v in enum)
        return bool(types & {"integer", "number"}) or ("string" in types and numeric)
    if unified == "size":
        return "string" in types and all("x" in v.lower() for v in enum)
    if unified == "image":
        return bool(types & {"file", "array<string>", "array<object>"}) or (
            "string" in types and not enum
        )
    if unified == "seed":
        return "integer" in types and not enum
    return "string" in types  # resolution, ratio


def _candidates(fields: Mapping[str, DocField], unified: str) -> list[str]:
    """The request fields that could take a unified name."""
    return [n for n, f in fields.items() if n != "model" and _fits(unified, f)]


def _unified_fields(document: ApiDocument, family: _Family) -> tuple[dict[str, Any], int]:
    rules: dict[str, Any] = {}
    todos = 0
    for unified in family.unified:
        candidates = _candidates(document.request, unified)
        if not candidates:
            continue
        if unified in document.request and unified != "image":
            rules[unified] = unified
            continue
        if unified == "image":
            hint = (
                "{field: NAME, as: file} for a file part, as: url for a URL, as: image-item "
                "for an item of a content array, naming the field"
            )
        elif unified == "prompt":
            hint = "the name of the field (or {field: NAME, as: text-item} for a content array)"
        else:
            hint = "the name of the request field"
        rules[unified] = (
            f"{TODO}: {hint} that takes the storyboard's {unified} (one of "
            f"{', '.join(candidates)}), or delete this line"
        )
        todos += 1
    return rules, todos


def _answer(document: ApiDocument, family: _Family) -> tuple[dict[str, Any], dict[str, Any]]:
    """The create answer's schema, and the status schema of its words (if it lists any)."""
    shared = family.shared_fields()
    props: dict[str, Any] = {}
    overlaps_fit = True
    status_schema: dict[str, Any] = {}
    for name, field in document.response.items():
        prop = _property(field)
        if name == "status":
            enum = prop.pop("enum", None)
            target = (
                {"$ref": "#/components/schemas/VideoStatus"}
                if enum
                else family.ref("schemas", "VideoStatus")
            )
            prop = {
                **{k: v for k, v in prop.items() if k not in ("type", "anyOf")},
                "anyOf": [target, {"type": "string"}],
            }
            if enum:
                status_schema = {
                    "type": "string",
                    "x-source": "document",
                    "enum": [str(w) for w in enum],
                    "x-vidpipe-status": {
                        str(w): f"{TODO}: what {w!r} means: {_STATES}" for w in enum
                    },
                }
        elif name in shared:
            # The shared part has this field too: the two must agree for the generator.
            schema, types = shared[name]
            if types == field.types:
                described = {"description": field.description} if field.description else {}
                prop = {**schema, **described}
            else:
                overlaps_fit = False
        props[name] = prop
    own = _object(document.response, props)
    if not overlaps_fit:
        return {"x-source": "document", **own}, status_schema
    return {
        "type": "object",
        "x-source": "document",
        "allOf": [family.ref("schemas", family.fields), own],
    }, status_schema


def draft_spec(path: Path, *, family: str, name: str) -> tuple[str, int]:
    """The text of a draft spec for the document at `path`, and how many TODOs it holds."""
    if not name.isidentifier():
        raise InputError(Problem("--name must be a Python identifier (it names the client)"))
    document = parse_document(path)
    fam = _Family(family)
    content_type = document.content_type or "application/json"
    rules, todos = _unified_fields(document, fam)
    answer, status_schema = _answer(document, fam)
    todos += len(status_schema.get("x-vidpipe-status", {}))
    request_props = {n: _property(f) for n, f in document.request.items()}
    create_schema = {"x-source": "document", **_object(document.request, request_props)}
    body_name = "CreateVideoRequest" if fam.videos else "CreateVideoGenerationRequest"
    title = document.title or name
    ext: dict[str, Any] = {
        "family": family,
        "document": path.name,
        "document-sha256": document.sha256,
        "operations": fam.operations(),
        "create-content-type": content_type,
    }
    if fam.videos:
        ext["remix-via"] = "endpoint"
    ext["fields"] = rules
    route = document.route or fam.route
    schemas: dict[str, Any] = {body_name: create_schema, fam.answer: answer}
    if status_schema:
        schemas["VideoStatus"] = status_schema
    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": "draft",
            "description": (
                f"Transcribes provider document `{path.name}` (`{document.method or 'POST'} "
                f"{route}`): the create call, its body and its response fields.\n\n"
                f"The other calls, the error body and the answer fields the document leaves "
                f"out are the family's shared parts (`{fam.shared}`).\n"
            ),
        },
        "servers": [{"url": document.server}] if document.server else [],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": fam.tag}],
        "x-vidpipe": ext,
        "paths": {
            route: {
                "post": {
                    "operationId": fam.create,
                    "tags": [fam.tag],
                    "summary": title,
                    "x-source": "document",
                    "requestBody": {
                        "required": True,
                        "content": {
                            content_type: {"schema": {"$ref": f"#/components/schemas/{body_name}"}}
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The task",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": f"#/components/schemas/{fam.answer}"}
                                }
                            },
                        },
                        **{code: fam.ref("responses", fam.error) for code in _ERRORS},
                    },
                }
            },
            **fam.paths(),
        },
        "components": {
            "securitySchemes": {"bearerAuth": fam.ref("securitySchemes", "bearerAuth")},
            "schemas": schemas,
        },
    }
    if not spec["servers"]:
        del spec["servers"]
    header = (
        f"# Draft spec written by `vidpipe specs draft` from {path.name} ({family} family).\n"
        f"# Before it can be used, replace every value that starts with {TODO} ({todos} here):\n"
        "#   x-vidpipe.fields maps the storyboard's names to this API's request fields,\n"
        f"#   x-vidpipe-status says what each status word means ({_STATES}).\n"
        "# Check what the document may not say (create-content-type, remix-via, defaults),\n"
        f"# then run `vidpipe specs check-docs {path.name} {name}.yaml`, and use the spec from a\n"
        "# folder named by a storyboard's `specs:` (or --specs), or put it in specs/ and run\n"
        "# `make regen`.\n"
    )
    body = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=100)
    return header + body, todos
