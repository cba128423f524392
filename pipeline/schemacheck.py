"""A JSON Schema validator that answers "valid" fast and explains with jsonschema.

Most documents checked are valid, and most of the time of a check goes to finding that out.
`SchemaCheck` first asks jsonschema-rs (compiled, many times faster) whether a document is
valid; only when it is not, or when the document holds something JSON has no form for (a
date, an infinity, a key that is not text), does it ask jsonschema, whose errors every
message is made from. So the errors are always jsonschema's, and a document jsonschema
would refuse is never let through: a document is passed without jsonschema only when both
libraries must agree (plain JSON values, the same draft, formats not asserted).

Documents are plain data as read from YAML or JSON (lists, not tuples: jsonschema-rs takes a
tuple for an array, jsonschema does not).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import jsonschema_rs

if TYPE_CHECKING:
    import jsonschema

__all__ = ["SchemaCheck"]

#: Makes the jsonschema validator of a schema (by default Draft 2020-12's).
PythonValidator = Callable[[Any], "jsonschema.protocols.Validator"]


class SchemaCheck:
    """`iter_errors` of a jsonschema validator, with jsonschema-rs's answer for valid data.

    `python` makes the jsonschema validator whose errors are reported, on the first
    document jsonschema-rs does not pass: a run whose documents are all valid never imports
    jsonschema. It may redefine types only to be stricter than JSON, as a number that is
    not a boolean, an infinity or NaN, which JSON cannot hold anyway.
    """

    def __init__(self, schema: Any, python: PythonValidator | None = None) -> None:
        self.schema = schema
        self._make = python
        self.fast = jsonschema_rs.Draft202012Validator(schema, validate_formats=False)

    @functools.cached_property
    def python(self) -> jsonschema.protocols.Validator:
        """The jsonschema validator, made when first needed."""
        if self._make is not None:
            return self._make(self.schema)
        import jsonschema

        return jsonschema.Draft202012Validator(self.schema)

    def is_valid(self, instance: Any) -> bool:
        """Whether jsonschema would find no error in `instance`."""
        return self._fast_valid(instance) or self.python.is_valid(instance)

    def validate(self, instance: Any) -> None:
        """Raise jsonschema's `ValidationError` unless `instance` is valid."""
        if not self._fast_valid(instance):
            self.python.validate(instance)

    def iter_errors(self, instance: Any) -> Iterator[jsonschema.ValidationError]:
        """jsonschema's errors for `instance` (none, without asking it, when it is valid)."""
        if self._fast_valid(instance):
            return iter(())
        errors: Iterator[jsonschema.ValidationError] = self.python.iter_errors(instance)
        return errors

    def _fast_valid(self, instance: Any) -> bool:
        try:
            return bool(self.fast.is_valid(instance))
        except (ValueError, TypeError, OverflowError):  # no JSON form: jsonschema decides
            return False
