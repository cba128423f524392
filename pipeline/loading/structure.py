"""The storyboard's structure, checked against its JSON Schema, each problem at its line.

jsonschema checks the data against `storyboard.schema.json`, and every error becomes one
line: the YAML line, the key path, what was found and, for a misspelt key, a "did you
mean". A pattern's message is the schema's own `patternErrorMessage`, as an editor shows
it. Values under `providers:` are never repeated (a key may be written in the wrong place).

The check also marks which values are broken, so the checks of meaning that follow leave
those alone instead of piling more problems on the same mistake.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .findings import Findings, shot_label, suggest
from .schema import SLUG, is_json_number, validator
from .yamllines import YamlPath, dotted

__all__ = ["check_structure"]


def check_structure(findings: Findings, data: Any) -> Any:
    """Check `data` (the document's, perhaps with provider values expanded) against the schema.

    Problems go to `findings`. Returns the data with plain numbers read as the text they
    were written as wherever the schema wants text (`ratio: 16:9`, `model: 1.5`).
    """
    check = validator()
    errors = list(check.iter_errors(data))
    plain = findings.doc.plain
    texts = {
        path: plain[path]
        for path in (tuple(e.absolute_path) for e in _plain_number_errors(errors))
        if path in plain
    }
    if texts:
        for path, text in texts.items():
            data = _replaced(data, path, text)
        errors = list(check.iter_errors(data))
    explainer = _Explainer(findings, data)
    for error in errors:
        explainer.explain(error)
    return data


def _plain_number_errors(errors: Iterable[Any]) -> Iterator[Any]:
    """Errors, at any depth, that a number was found where only text will do.

    (Not infinities or NaN: `.inf` in YAML is a mistake rather than text.)
    """
    for error in errors:
        if (
            error.validator == "type"
            and "string" in _as_list(error.validator_value)
            and is_json_number(None, error.instance)
        ):
            yield error
        if error.validator in ("anyOf", "oneOf") and not _fitting_branches(error):
            yield from _plain_number_errors(error.context)


def _fitting_branches(error: Any) -> list[list[Any]]:
    """The errors of each alternative of an anyOf whose type fits the value."""
    branches: dict[int, list[Any]] = {}
    for sub in error.context or ():
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    return [
        errs
        for errs in branches.values()
        if not any(e.validator == "type" and not e.relative_path for e in errs)
    ]


def _replaced(data: Any, path: YamlPath, value: Any) -> Any:
    """A copy of `data` with the value at `path` replaced (copying only along the path)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    copied: Any = list(data) if isinstance(data, list) else dict(data)
    copied[head] = _replaced(data[head], rest, value)
    return copied


def _as_list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}

#: What the keys of a mapping are called, by the mapping's own key.
_KEY_NOUNS = {"providers": "provider name", "vars": "variable name"}


def _found(value: object) -> str:
    """What a value is, in words: "a string", "a list", "a date"."""
    if value is None:
        return "null"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "an infinite number"
    kind = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value))
    if kind:
        return kind
    name = type(value).__name__
    return name if name == "bytes" else f"a {name}"


def _expected(types: Sequence[str]) -> str:
    """ "a string or a list" for the types a schema admits (null, "not set", left out)."""
    shown = [_TYPE_NAMES.get(t, t) for t in types if t != "null"] or ["null"]
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " or " + shown[-1]


class _Explainer:
    """Turns jsonschema errors into Problems at the document's lines."""

    def __init__(self, findings: Findings, data: Any) -> None:
        self.findings = findings
        self.data = data

    def label(self, path: YamlPath) -> str:
        """How a place is named in messages: "shot 'a'", "provider 'x'", "vars.hero"."""
        if not path:
            return "the storyboard"
        head = path[0]
        if head == "shots" and len(path) >= 2 and isinstance(path[1], int):
            owner, rest = self.shot_label(path[1]), path[2:]
        elif head == "providers" and len(path) >= 2:
            owner, rest = f"provider {path[1]!r}", path[2:]
        else:
            return dotted(path)
        return f"{owner}: {dotted(rest)}" if rest else owner

    def shot_label(self, index: int) -> str:
        shots = self.data.get("shots") if isinstance(self.data, dict) else None
        shot = shots[index] if isinstance(shots, list) and index < len(shots) else None
        shot_id = shot.get("id") if isinstance(shot, dict) else None
        return shot_label(
            index, shot_id if isinstance(shot_id, str) and SLUG.match(shot_id) else None
        )

    def add(self, message: str, at: YamlPath, *, value: bool, broken: Iterable[YamlPath]) -> None:
        self.findings.add(message, at, value=value)
        for path in broken:
            self.findings.broken.add(path)

    def explain(self, error: Any) -> None:
        path: YamlPath = tuple(error.absolute_path)
        if "propertyNames" in error.absolute_schema_path:
            self.key_name(error, path)
            return
        kind = error.validator
        if kind == "additionalProperties":
            self.unknown_keys(error, path)
        elif kind == "required":
            for key in error.validator_value:
                if isinstance(error.instance, dict) and key not in error.instance:
                    subject = self.label(path)
                    self.add(f"{subject} has no {key}", path, value=False, broken=[(*path, key)])
        elif kind == "not" and "required" in error.validator_value:
            self.both(error, path)
        elif kind in ("anyOf", "oneOf"):
            self.alternatives(error, path)
        else:
            message = self.value_message(error, self.label(path), secret=path[:1] == ("providers",))
            self.add(message, path, value=True, broken=[path])

    def unknown_keys(self, error: Any, path: YamlPath) -> None:
        allowed = list(error.schema.get("properties", {}))
        where = self.label(path)
        for key in error.instance:
            if key not in allowed:
                self.add(
                    f"unknown key {key!r} in {where}{suggest(key, allowed)}",
                    (*path, key),
                    value=False,
                    broken=(),
                )

    def key_name(self, error: Any, parent: YamlPath) -> None:
        name = error.instance
        noun = _KEY_NOUNS.get(str(parent[-1]) if parent else "", "key")
        owner = self.label(parent[:-1]) if len(parent) > 1 else ""
        subject = f"{owner}: {noun} {name!r}" if owner else f"{noun} {name!r}"
        if error.validator == "pattern":
            message = f"{subject} {error.schema.get('patternErrorMessage', 'is not valid')}"
        elif error.validator == "not":
            reason = error.validator_value.get("description")
            message = f"{subject} is not allowed" + (f" ({reason})" if reason else "")
        else:
            message = f"{subject}: {error.message}"
        self.add(message, (*parent, name), value=False, broken=[(*parent, name)])

    def both(self, error: Any, path: YamlPath) -> None:
        first, second = error.validator_value["required"][:2]
        reason = error.validator_value.get("description")
        self.add(
            f"{self.label(path)} has both {first} and {second}" + (f"; {reason}" if reason else ""),
            (*path, second),
            value=False,
            broken=[(*path, first), (*path, second)],
        )

    def alternatives(self, error: Any, path: YamlPath) -> None:
        """anyOf: explain the alternative whose type fits the value, or say which types do."""
        subject = self.label(path)
        if "errorMessage" in error.schema:
            self.add(f"{subject} {error.schema['errorMessage']}", path, value=True, broken=[path])
            return
        fitting = _fitting_branches(error)
        if fitting:
            for sub in fitting[0]:
                self.explain(sub)
            return
        types = [
            t for e in error.context if e.validator == "type" for t in _as_list(e.validator_value)
        ]
        expected = _expected(list(dict.fromkeys(types)))
        message = f"{subject} must be {expected}, not {_found(error.instance)}"
        self.add(message, path, value=True, broken=[path])

    def value_message(self, error: Any, subject: str, *, secret: bool) -> str:
        """One keyword's complaint about a value. Under `secret`, the value is not shown."""
        kind, value, expected = error.validator, error.instance, error.validator_value
        shown = "" if secret else f" {value!r}"
        not_value = "" if secret else f", not {value!r}"
        if kind == "type":
            hint = ""
            if "string" in _as_list(expected) and type(value).__name__ in ("date", "datetime"):
                hint = " (quote it to keep it as text)"
            return f"{subject} must be {_expected(_as_list(expected))}, not {_found(value)}{hint}"
        if kind == "pattern":
            phrase = error.schema.get("patternErrorMessage") or f"does not match {expected!r}"
            return f"{subject}{shown} {phrase}"
        if kind == "const":
            return f"{subject} must be {expected!r}{not_value}"
        if kind == "enum":
            options = ", ".join(str(o) for o in expected)
            hint = suggest(value, [str(o) for o in expected]) if isinstance(value, str) else ""
            return f"{subject}{shown} is not one of: {options}{'' if secret else hint}"
        if kind == "minimum":
            return f"{subject} must be {expected} or more{not_value}"
        if kind == "exclusiveMinimum":
            return f"{subject} must be more than {expected}{not_value}"
        if kind == "maximum":
            return f"{subject} must be {expected} or less{not_value}"
        if kind == "exclusiveMaximum":
            return f"{subject} must be less than {expected}{not_value}"
        if kind == "minItems":
            many = "be empty" if expected == 1 else f"have fewer than {expected} items"
            return f"{subject} must not {many}"
        if kind == "not":
            reason = expected.get("description") if isinstance(expected, dict) else None
            return f"{subject}{shown} is not allowed" + (f" ({reason})" if reason else "")
        return f"{subject} is not valid" if secret else f"{subject}: {error.message}"
