"""The storyboard JSON Schema: valid, what the loader checks the structure with, useful in
editors, and free of any list the spec registry owns."""

from __future__ import annotations

import re
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from vidpipe.errors import InputError
from vidpipe.loading import load, storyboard_schema
from vidpipe.model import Storyboard
from vidpipe.openapi import SPEC_DIR
from vidpipe.specs import SpecRegistry, default_registry

ROOT = Path(__file__).resolve().parents[1]

GOOD = [
    """\
    version: 1
    name: sunflower-cat
    seed: 1234
    providers:
      anyfast:
        api: anyfast
        base_url: ${ANYFAST_BASE_URL:-embedded}
        api_key: ${ANYFAST_API_KEY:-}
        concurrency: 2
    defaults: {provider: anyfast, model: sora-2, seconds: 4, size: 1280x720}
    vars: {hero: "a ginger cat", light: "golden hour"}
    shots:
      - id: establish
        prompt: "Wide shot: {{ hero }} walks through sunflowers, {{ light }}"
      - id: closeup
        template: closeup.j2
        vars: {emotion: curious}
        model: seedance-fast
        duration: 5
        ratio: "16:9"
        resolution: 720p
        params: {watermark: false}
      - id: night
        remix: establish
        prompt: "The same shot at night"
      - id: poster
        image: "https://cdn.example/poster.png"
        seed: 7
        model: ~
        prompt: Camera slowly zooms in
    final: {concat: [establish, closeup, night]}
    """,
    """\
    providers:
      gw:
        api: newapi
        base_url: "https://gw.example"
        concurrency: "${GW_CONC:-3}"
        rate: "${GW_RATE:-60/min}"
    shots:
      - {id: only, prompt: hi}
    """,
]

# Each bad storyboard: the line of its one problem and what the message says.
BAD: dict[str, tuple[str, int, str]] = {
    "unknown top-level key": (
        "providers: {anyfast: {}}\nshots: [{id: a, prompt: x}]\nshot: 1\n",
        3,
        "unknown key 'shot' in the storyboard (did you mean 'shots'?)",
    ),
    "unknown shot key": (
        "providers: {anyfast: {}}\nshots:\n  - {id: a, prompt: x, promt: x}\n",
        3,
        "unknown key 'promt' in shot 'a' (did you mean 'prompt'?)",
    ),
    "id not a slug": (
        "providers: {anyfast: {}}\nshots: [{id: Not A Slug, prompt: x}]\n",
        2,
        "shots[0]: id 'Not A Slug' is not a slug (lowercase letters",
    ),
    "prompt and template": (
        "providers: {anyfast: {}}\nshots: [{id: a, prompt: x, template: t.j2}]\n",
        2,
        "shot 'a' has both prompt and template; keep one",
    ),
    "seconds and duration": (
        "providers: {anyfast: {}}\nshots: [{id: a, prompt: x, seconds: 4, duration: 4}]\n",
        2,
        "shot 'a' has both seconds and duration; they mean the same, keep one",
    ),
    "bad size": (
        "providers: {anyfast: {}}\nshots: [{id: a, prompt: x, size: big}]\n",
        2,
        "shot 'a': size 'big' must look like 1280x720",
    ),
    "negative seed": (
        "providers: {anyfast: {}}\nshots: [{id: a, prompt: x, seed: -1}]\n",
        2,
        "shot 'a': seed must be 0 or more, not -1",
    ),
    "id in defaults": (
        "providers: {anyfast: {}}\ndefaults: {id: a}\nshots: [{id: a, prompt: x}]\n",
        2,
        "unknown key 'id' in defaults",
    ),
    "remix in defaults": (
        "providers: {anyfast: {}}\ndefaults:\n  remix: a\nshots: [{id: a, prompt: x}]\n",
        3,
        "unknown key 'remix' in defaults",
    ),
    "unknown provider key": (
        "providers:\n  anyfast: {api_kye: x}\nshots: [{id: a, prompt: x}]\n",
        2,
        "unknown key 'api_kye' in provider 'anyfast' (did you mean 'api_key'?)",
    ),
    "base_url not a URL": (
        "providers:\n  anyfast: {base_url: gw.example}\nshots: [{id: a, prompt: x}]\n",
        2,
        "provider 'anyfast': base_url must be an http(s) URL or 'embedded'",
    ),
    "bad rate": (
        "providers:\n  anyfast: {rate: lots}\nshots: [{id: a, prompt: x}]\n",
        2,
        "provider 'anyfast': rate must be a number per second, or like \"60/min\"",
    ),
    "no shots": ("providers: {anyfast: {}}\n", 1, "the storyboard has no shots"),
    "empty shots": ("providers: {anyfast: {}}\nshots: []\n", 2, "shots must not be empty"),
    "version 2": (
        "version: 2\nproviders: {anyfast: {}}\nshots: [{id: a, prompt: x}]\n",
        1,
        "version must be 1, not 2",
    ),
    "shot without id": (
        "providers: {anyfast: {}}\nshots:\n  - {prompt: x}\n",
        3,
        "shots[0] has no id",
    ),
    "reserved var": (
        "providers: {anyfast: {}}\nvars: {shot: x}\nshots: [{id: a, prompt: x}]\n",
        2,
        "variable name 'shot' is not allowed (reserved",
    ),
    "shot var not an identifier": (
        "providers: {anyfast: {}}\nshots:\n  - {id: a, prompt: x, vars: {2x: y}}\n",
        3,
        "shot 'a': variable name '2x' is not an identifier",
    ),
    "provider name not a slug": (
        "providers:\n  Any Fast: {api: anyfast}\nshots: [{id: a, prompt: x}]\n",
        2,
        "provider name 'Any Fast' is not a slug",
    ),
    "remix not text": (
        "providers: {anyfast: {}}\n"
        "shots:\n  - {id: a, prompt: x}\n  - {id: b, prompt: x, remix: [a]}\n",
        4,
        "shot 'b': remix must be a string, not a list",
    ),
    "a shot that is not a mapping": (
        "providers: {anyfast: {}}\nshots:\n  - {id: a, prompt: x}\n  - just text\n",
        4,
        "shots[1] must be a mapping, not a string",
    ),
}


def load_text(tmp_path: Path, text: str, registry: SpecRegistry | None = None) -> Storyboard:
    path = tmp_path / "board.yaml"
    path.write_text(text)
    return load(path, env={}, registry=registry)


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(storyboard_schema())


def test_schema_is_valid_draft_2020_12() -> None:
    schema = storyboard_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("text", GOOD)
def test_good_storyboards_validate_and_load(tmp_path: Path, text: str) -> None:
    text = textwrap.dedent(text)
    validator().validate(yaml.safe_load(text))
    path = tmp_path / "storyboard.yaml"
    path.write_text(text)
    assert load(path, env={}).shots


def example_files() -> list[Path]:
    return sorted((ROOT / "examples").glob("**/*.yaml"))


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_shipped_examples_validate(path: Path) -> None:
    errors = list(validator().iter_errors(yaml.safe_load(path.read_text())))
    assert not errors, [e.message for e in errors]
    assert load(path, env={}).shots


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_structure_is_one_located_problem(tmp_path: Path, name: str) -> None:
    text, line, message = BAD[name]
    assert not validator().is_valid(yaml.safe_load(text)), "the schema itself refuses it"
    path = tmp_path / "storyboard.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load(path, env={})
    (problem,) = info.value.problems
    assert (problem.file, problem.line) == (str(path), line), problem
    assert problem.message.startswith(message), problem.message


def _patterns(node: Any, explained: bool = False) -> Iterator[tuple[dict[str, Any], bool]]:
    """Every schema with a pattern, and whether it or a schema around it has a message."""
    if isinstance(node, dict):
        explained = explained or "errorMessage" in node
        if "pattern" in node:
            yield node, explained or "patternErrorMessage" in node
        for value in node.values():
            yield from _patterns(value, explained)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value, explained)


def test_every_pattern_has_a_message_for_people() -> None:
    """A value of the wrong form is explained in words (editors show the same words)."""
    schema = storyboard_schema()
    for node, explained in _patterns(schema):
        # The ${VAR} form needs none: values are checked after the environment is read.
        assert explained or node is schema["$defs"]["env-ref"], node


def test_numbers_are_finite_as_in_json(tmp_path: Path) -> None:
    text = "name: x\nproviders: {anyfast: {}}\nshots: [{id: a, prompt: x, params: {n: .nan}}]\n"
    with pytest.raises(InputError) as info:
        load_text(tmp_path, text)
    assert [p.message for p in info.value.problems] == [
        "shot 'a': params.n must be a string, a number, a boolean, a list or a mapping, not NaN"
    ]
    with pytest.raises(InputError) as info:
        load_text(tmp_path, text.replace("params: {n: .nan}", "duration: .inf"))
    assert [p.message for p in info.value.problems] == [
        "shot 'a': duration must be a number or a string, not an infinite number"
    ]


def test_schema_closes_every_object_and_describes_fields() -> None:
    schema = storyboard_schema()
    defs = schema["$defs"]
    for node in (schema, defs["shot"], defs["provider"], schema["properties"]["defaults"]):
        assert node["additionalProperties"] is False
    for name, prop in defs["shot"]["properties"].items():
        target = defs[prop["$ref"].rsplit("/", 1)[1]] if "$ref" in prop else prop
        assert prop.get("description") or target.get("description"), name


def test_shots_and_defaults_share_the_field_definitions() -> None:
    schema = storyboard_schema()
    shot = schema["$defs"]["shot"]["properties"]
    defaults = schema["properties"]["defaults"]["properties"]
    assert set(shot) - set(defaults) == {"id", "remix", "matrix"}
    for name, prop in defaults.items():
        assert shot[name] == prop, name


def test_the_schema_ships_in_the_package() -> None:
    assert (ROOT / "pipeline" / "storyboard.schema.json").is_file()
    assert storyboard_schema()["title"] == "vidpipe storyboard"


# --- the API names come from the spec registry ------------------------------------------


def test_the_schema_lists_no_api_names() -> None:
    api = storyboard_schema()["$defs"]["provider"]["properties"]["api"]
    assert "enum" not in str(api)
    for name in default_registry().apis():
        assert f"'{name}'" not in str(api)


def test_an_unknown_api_lists_the_registry_s_apis(tmp_path: Path) -> None:
    text = "name: x\nproviders:\n  gw: {api: newapii}\nshots: [{id: a, prompt: x}]\n"
    with pytest.raises(InputError) as info:
        load_text(tmp_path, text)
    (problem,) = info.value.problems
    known = ", ".join(default_registry().apis())
    assert problem.line == 3
    assert problem.message == f"provider 'gw': api must be one of {known} (did you mean 'newapi'?)"


@pytest.fixture
def acme_registry(tmp_path: Path) -> SpecRegistry:
    """The shipped specs plus one more, `acme`, that speaks a new API."""
    folder = tmp_path / "specs"
    shutil.copytree(SPEC_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    doc = yaml.safe_load((folder / "newapi.yaml").read_text())
    doc["x-vidpipe"]["api"] = "acme"
    (folder / "acme.yaml").write_text(yaml.safe_dump(doc))
    return SpecRegistry.load(folder)


def test_a_new_spec_is_a_new_api_with_no_list_to_edit(
    tmp_path: Path, acme_registry: SpecRegistry
) -> None:
    text = (
        "name: x\nproviders:\n  gw: {api: acme}\n  acme: {}\n"
        "shots: [{id: a, prompt: x, provider: gw}]\n"
    )
    board = load_text(tmp_path, text, acme_registry)
    assert board.providers["gw"].api == "acme"
    assert board.providers["acme"].api == "acme"  # a provider named after its API
    known = ", ".join(default_registry().apis())
    with pytest.raises(InputError, match=re.escape(f"api must be one of {known}\n")):
        load_text(tmp_path, text)
