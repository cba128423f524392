"""The storyboard JSON Schema: valid itself, in step with the loader, and useful."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from vidpipe import loading
from vidpipe.errors import InputError
from vidpipe.loading import load, storyboard_schema
from vidpipe.model import API_FAMILIES

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
        prompt: Camera slowly zooms in
    final: {concat: [establish, closeup, night]}
    """,
    """\
    providers:
      gw: {api: newapi, base_url: "https://gw.example", concurrency: "${GW_CONC:-3}"}
    shots:
      - {id: only, prompt: hi}
    """,
]

BAD = {
    "unknown top-level key": "providers: {anyfast: {}}\nshots: [{id: a, prompt: x}]\nextra: 1\n",
    "unknown shot key": "providers: {anyfast: {}}\nshots: [{id: a, promt: x}]\n",
    "id not a slug": "providers: {anyfast: {}}\nshots: [{id: Not A Slug, prompt: x}]\n",
    "prompt and template": "providers: {anyfast: {}}\nshots: [{id: a, prompt: x, template: t.j2}]\n",
    "seconds and duration": (
        "providers: {anyfast: {}}\nshots: [{id: a, prompt: x, seconds: 4, duration: 4}]\n"
    ),
    "api not a family": "providers: {gw: {api: openai}}\nshots: [{id: a, prompt: x}]\n",
    "bad size": "providers: {anyfast: {}}\nshots: [{id: a, prompt: x, size: big}]\n",
    "negative seed": "providers: {anyfast: {}}\nshots: [{id: a, prompt: x, seed: -1}]\n",
    "id in defaults": "providers: {anyfast: {}}\ndefaults: {id: a}\nshots: [{id: a, prompt: x}]\n",
    "remix in defaults": (
        "providers: {anyfast: {}}\ndefaults: {remix: a}\nshots: [{id: a, prompt: x}]\n"
    ),
    "unknown provider key": "providers: {anyfast: {key: x}}\nshots: [{id: a, prompt: x}]\n",
    "no shots": "providers: {anyfast: {}}\n",
    "version 2": "version: 2\nproviders: {anyfast: {}}\nshots: [{id: a, prompt: x}]\n",
    "shot without id": "providers: {anyfast: {}}\nshots: [{prompt: x}]\n",
    "reserved var": "providers: {anyfast: {}}\nvars: {shot: x}\nshots: [{id: a, prompt: x}]\n",
}


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


@pytest.mark.skipif(not example_files(), reason="no example storyboards yet")
@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_shipped_examples_validate(path: Path) -> None:
    errors = list(validator().iter_errors(yaml.safe_load(path.read_text())))
    assert not errors, [e.message for e in errors]
    assert load(path, env={}).shots


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_storyboards_fail_the_schema_and_the_loader(tmp_path: Path, name: str) -> None:
    text = BAD[name]
    assert not validator().is_valid(yaml.safe_load(text)), name
    path = tmp_path / "storyboard.yaml"
    path.write_text(text)
    with pytest.raises(InputError):
        load(path, env={})


def _props(node: dict[str, Any]) -> set[str]:
    return set(node["properties"])


def test_schema_keys_match_the_loader() -> None:
    schema = storyboard_schema()
    defs = schema["$defs"]
    assert _props(schema) == set(loading.TOP_KEYS)
    assert _props(defs["shot"]) == set(loading.SHOT_KEYS)
    assert _props(defs["defaults"]) == set(loading.DEFAULT_KEYS)
    assert _props(defs["provider"]) == set(loading.PROVIDER_KEYS)
    assert _props(schema["properties"]["final"]) == set(loading.FINAL_KEYS)
    assert defs["slug"]["pattern"] == loading.ID_PATTERN.pattern
    assert defs["provider"]["properties"]["api"]["anyOf"][0]["enum"] == list(API_FAMILIES)


def test_schema_closes_every_object_and_describes_fields() -> None:
    schema = storyboard_schema()
    defs = schema["$defs"]
    for node in (schema, defs["shot"], defs["defaults"], defs["provider"]):
        assert node["additionalProperties"] is False
    for name, prop in defs["shot"]["properties"].items():
        assert prop.get("description"), name


def test_schema_ships_next_to_the_module() -> None:
    assert (Path(loading.__file__).parent / "storyboard.schema.json").is_file()
