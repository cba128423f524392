"""The storyboard JSON Schema (`storyboard.schema.json`, draft 2020-12): one description of a
storyboard's keys, types and value forms, for editors and for vidpipe's own check.

The names the loader needs (what a slug is, which variable names are reserved, which
fields a shot shares with defaults) are read from it rather than written again.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..schemacheck import SchemaCheck

if TYPE_CHECKING:
    import jsonschema

__all__ = [
    "RESERVED_VARS",
    "SCHEMA_FILE",
    "SHOT_FIELDS",
    "SLUG",
    "VAR_NAME",
    "is_json_number",
    "storyboard_schema",
    "validator",
]

#: The schema ships next to the package's modules (`vidpipe/storyboard.schema.json`).
SCHEMA_FILE = "storyboard.schema.json"
_ROOT_PACKAGE = __package__.rpartition(".")[0]


@functools.cache
def _schema() -> dict[str, Any]:
    text = resources.files(_ROOT_PACKAGE).joinpath(SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def storyboard_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) for storyboard files, for editors and checks."""
    return copy.deepcopy(_schema())


#: Shot ids, provider names and storyboard names (the schema's `slug`).
SLUG = re.compile(_schema()["$defs"]["slug"]["pattern"])
_VAR_NAMES = _schema()["$defs"]["vars"]["propertyNames"]
#: Variable names, and the names a variable may not have (the template's own context).
VAR_NAME = re.compile(_VAR_NAMES["pattern"])
RESERVED_VARS: tuple[str, ...] = tuple(_VAR_NAMES["not"]["enum"])
#: The fields a shot shares with `defaults:` (all but its id and remix).
SHOT_FIELDS: tuple[str, ...] = tuple(_schema()["properties"]["defaults"]["properties"])


def is_json_number(checker: object, value: object) -> bool:
    """JSON has no infinities or NaN, and a boolean is not a number."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _python_validator(schema: Any) -> jsonschema.protocols.Validator:
    """jsonschema's Draft 2020-12 validator of `schema`, where a number is a JSON number."""
    import jsonschema

    draft = jsonschema.Draft202012Validator
    numbers = draft.TYPE_CHECKER.redefine("number", is_json_number)
    validator: jsonschema.protocols.Validator = jsonschema.validators.extend(
        draft, type_checker=numbers
    )(schema)
    return validator


@functools.cache
def validator() -> SchemaCheck:
    """A validator for the schema (made once), where a number is a JSON number."""
    return SchemaCheck(_inlined(_schema()), _python_validator)


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with each `$ref` to a definition replaced by the definition itself.

    The same checks, but jsonschema need not look a reference up for every value (half
    the time of a check). A definition that refers to itself keeps its reference.
    """
    defs = schema["$defs"]

    def inline(node: Any, within: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [inline(item, within) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        name = ref.removeprefix("#/$defs/") if isinstance(ref, str) else ""
        if name not in defs or name in within:
            return {key: inline(value, within) for key, value in node.items()}
        target = inline(defs[name], (*within, name))
        rest = {key: inline(value, within) for key, value in node.items() if key != "$ref"}
        if rest.keys() & target.keys() - {"description"}:
            return {"allOf": [target], **rest}
        return {**target, **rest}

    result: dict[str, Any] = inline(schema, ())
    return result
