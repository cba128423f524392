"""SchemaCheck: jsonschema-rs answers for valid documents, jsonschema decides and explains."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import jsonschema
import pytest

from vidpipe.loading.schema import is_json_number
from vidpipe.schemacheck import SchemaCheck

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z]+$"},
        "seconds": {"type": "number", "minimum": 1},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": False,
}


class _Counting:
    """A jsonschema validator that counts how often it is asked."""

    def __init__(self, validator: Any) -> None:
        self.inner = validator
        self.schema = validator.schema
        self.asked = 0

    def is_valid(self, instance: Any) -> bool:
        self.asked += 1
        return bool(self.inner.is_valid(instance))

    def iter_errors(self, instance: Any) -> Any:
        self.asked += 1
        return self.inner.iter_errors(instance)

    def validate(self, instance: Any) -> None:
        self.asked += 1
        self.inner.validate(instance)


def _check(validator: Any = None) -> tuple[SchemaCheck, _Counting]:
    counting = _Counting(validator or jsonschema.Draft202012Validator(SCHEMA))
    return SchemaCheck(counting.schema, lambda schema: counting), counting


def test_a_valid_document_is_passed_without_asking_jsonschema() -> None:
    check, python = _check()
    document = {"id": "cat", "seconds": 4, "tags": ["a", "b"]}
    assert list(check.iter_errors(document)) == []
    assert check.is_valid(document)
    check.validate(document)
    assert python.asked == 0
    assert check.schema is python.schema


def test_an_invalid_document_gets_jsonschemas_own_errors() -> None:
    check, python = _check()
    document = {"id": "Cat", "seconds": 0, "colour": "red"}
    found = sorted((e.validator, list(e.absolute_path)) for e in check.iter_errors(document))
    expected = sorted(
        (e.validator, list(e.absolute_path))
        for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(document)
    )
    assert found == expected and len(found) == 3
    assert not check.is_valid(document)
    with pytest.raises(jsonschema.ValidationError):
        check.validate(document)
    assert python.asked == 3


@pytest.mark.parametrize(
    "document",
    [
        {"id": "cat", "tags": [dt.date(2024, 1, 1)]},  # no JSON form: jsonschema refuses it
        {"id": "cat", "seconds": math.inf},  # a number jsonschema's type here refuses
        {"id": "cat", "seconds": True},  # a boolean is not a number
    ],
)
def test_what_jsonschema_refuses_is_refused(document: dict[str, Any]) -> None:
    strict = jsonschema.validators.extend(
        jsonschema.Draft202012Validator,
        type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
            "number", is_json_number
        ),
    )(SCHEMA)
    check, python = _check(strict)
    assert [e.validator for e in check.iter_errors(document)] == ["type"]
    assert python.asked == 1


@pytest.mark.parametrize(
    "document",
    [
        {1: "a key that is not text"},  # jsonschema-rs cannot read it at all
        {"id": "cat\n"},  # `$` of Python's re matches before a final newline
    ],
)
def test_what_only_jsonschema_accepts_is_accepted(document: dict[Any, Any]) -> None:
    check, python = _check(
        jsonschema.Draft202012Validator({**SCHEMA, "additionalProperties": True})
    )
    assert list(check.iter_errors(document)) == []
    assert check.is_valid(document)
    assert python.asked == 2


def test_valid_storyboards_are_checked_without_importing_jsonschema() -> None:
    import subprocess
    import sys

    code = (
        "import sys, yaml\n"
        "from importlib import resources\n"
        "from vidpipe.loading.schema import validator\n"
        "doc = yaml.safe_load(resources.files('vidpipe.starter').joinpath('storyboard.yaml')"
        ".read_text())\n"
        "assert validator().is_valid(doc)\n"
        "print('jsonschema' in sys.modules)\n"
        "doc['shots'][0]['seconds'] = 'long'\n"
        "print([e.validator for e in validator().iter_errors(doc)], 'jsonschema' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "False"  # valid: jsonschema-rs said so, jsonschema was never loaded
    assert out[1].endswith("True") and "[]" not in out[1]  # invalid: jsonschema explains
