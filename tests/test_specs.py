"""The specs: valid OpenAPI, complete vidpipe extensions, faithful to the documents."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from vidpipe.doccheck import check_all, compare
from vidpipe.errors import InputError, SpecError
from vidpipe.openapi import SPEC_DIR
from vidpipe.providerdoc import parse_document
from vidpipe.specs import SpecRegistry, default_registry, load_spec, schema_types
from vidpipe.states import TASK_STATES as STATES

from .conftest import ROOT

SPEC_PATHS = sorted(p for p in SPEC_DIR.glob("*.yaml") if p.name != "openapi-python-client.yaml")
SHARED_PATHS = sorted((SPEC_DIR / "shared").glob("*.yaml"))


def test_each_spec_transcribes_a_document_of_its_own() -> None:
    documents = [s.document for s in default_registry()]
    assert len(SPEC_PATHS) == len(default_registry().specs)
    assert all(documents) and len(set(documents)) == len(documents)


@pytest.mark.parametrize("path", SPEC_PATHS, ids=lambda p: p.stem)
def test_spec_is_valid_openapi_31(path: Path) -> None:
    """Valid bundled with its shared parts, which is what the generator and the emulator read."""
    doc = dict(load_spec(path).doc)
    assert doc["openapi"].startswith("3.1")
    assert not [ref for ref in _refs(doc) if not ref.startswith("#/")]
    validate(doc)


@pytest.mark.parametrize("path", SHARED_PATHS, ids=lambda p: p.stem)
def test_shared_parts_are_valid_openapi_31(path: Path) -> None:
    validate(yaml.safe_load(path.read_text()))


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [str(v) for k, v in node.items() if k == "$ref"] + [
            r for v in node.values() for r in _refs(v)
        ]
    return [r for v in node for r in _refs(v)] if isinstance(node, list) else []


@pytest.mark.parametrize("path", SPEC_PATHS, ids=lambda p: p.stem)
def test_spec_names_its_document_and_marks_reference_parts(path: Path) -> None:
    spec = load_spec(path)
    assert spec.document in spec.doc["info"]["description"]
    assert "reference" in spec.doc["info"]["description"]
    for role in spec.operations:
        source = spec.operation(role).definition.get("x-source")
        assert source == ("document" if role == "create" else "reference"), role


@pytest.mark.parametrize("path", SPEC_PATHS, ids=lambda p: p.stem)
def test_every_status_word_maps_to_a_vidpipe_state(path: Path) -> None:
    spec = load_spec(path)
    for name, schema in spec.doc["components"]["schemas"].items():
        if "x-vidpipe-status" not in schema:
            continue
        mapping = schema["x-vidpipe-status"]
        assert set(schema["enum"]) <= set(mapping), f"{name} leaves enum values unmapped"
        assert set(mapping.values()) <= set(STATES)


@pytest.mark.parametrize("path", SPEC_PATHS, ids=lambda p: p.stem)
def test_server_owned_status_enums_accept_new_values(path: Path) -> None:
    """A status the server adds later must parse: every status field is anyOf [enum, string]."""
    spec = load_spec(path)
    for name, schema in spec.doc["components"]["schemas"].items():
        status = schema.get("properties", {}).get("status")
        if status is None:
            continue
        assert "anyOf" in status, f"{name}.status is a closed type"
        kinds = [s.get("type") for s in status["anyOf"]]
        assert "string" in kinds, f"{name}.status has no plain-string fallback"


@pytest.mark.parametrize("path", SPEC_PATHS, ids=lambda p: p.stem)
def test_field_rules_point_at_real_create_fields(path: Path) -> None:
    spec = load_spec(path)
    for rule in spec.fields.values():
        content_types = [spec.create_content_type, spec.upload_content_type]
        assert any(
            rule.field in spec.create_schema(ct).get("properties", {}) for ct in content_types if ct
        ), rule


def test_registry_finds_the_spec_for_a_model() -> None:
    registry = default_registry()
    assert registry.find("anyfast", "sora-2").name == "anyfast_sora"  # type: ignore[union-attr]
    assert registry.find("anyfast", "seedance-fast").name == "anyfast_seedance"  # type: ignore[union-attr]
    assert registry.find("anyfast", "happyhorse-1.0-i2v").name == "anyfast_happyhorse"  # type: ignore[union-attr]
    assert registry.find("apifree", "any-model-id").name == "apifree"  # type: ignore[union-attr]
    assert registry.find("newapi", "kling-video").name == "newapi"  # type: ignore[union-attr]
    assert registry.find("anyfast", "kling-video") is None
    assert "veo3.1" in registry.models("newapi")


def test_a_spec_without_the_extension_is_refused(tmp_path: Path) -> None:
    doc = yaml.safe_load((SPEC_DIR / "anyfast_sora.yaml").read_text())
    del doc["x-vidpipe"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError, match="x-vidpipe"):
        load_spec(bad)


def test_a_status_mapped_to_an_unknown_state_is_refused(tmp_path: Path) -> None:
    doc = copy.deepcopy(dict(load_spec(SPEC_DIR / "anyfast_sora.yaml").doc))
    doc["components"]["schemas"]["VideoStatus"]["x-vidpipe-status"]["queued"] = "waiting"
    shutil.copy(SPEC_DIR / "openapi-python-client.yaml", tmp_path)
    (tmp_path / "x.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError, match="unknown state 'waiting'"):
        SpecRegistry.load(tmp_path).specs["x"].status_map  # noqa: B018


def test_status_words_normalise_from_the_spec() -> None:
    registry = default_registry()
    seedance = registry["anyfast_seedance"]
    assert seedance.normalise_status("SUCCESS") == "succeeded"
    assert seedance.normalise_status("cancelled") == "failed"
    assert seedance.normalise_status("") == "queued"
    assert registry["anyfast_happyhorse"].normalise_status("PENDING") == "queued"
    assert registry["newapi"].normalise_status("in_progress") == "running"
    assert registry["anyfast_sora"].normalise_status("brand-new-word") is None


# --- transcription: the documents in ../shared/seeds against their specs ---------------


@pytest.mark.shared
def test_every_spec_agrees_with_its_document(shared_dir: Path) -> None:
    """What `make test` runs as `vidpipe specs check-docs --all`: also fails when a document
    changed since its spec recorded its sha256."""
    checks = check_all(default_registry(), shared_dir / "seeds")
    assert sorted(c.spec.name for c in checks) == sorted(default_registry().specs)
    for check in checks:
        assert check.ok, "\n".join(check.lines())
        assert check.spec.document_sha256 == check.document.sha256


@pytest.mark.shared
def test_documents_parse_into_fields_enums_and_required_flags(shared_dir: Path) -> None:
    seeds = shared_dir / "seeds"
    sora = parse_document(next(seeds.glob("000_*.txt")))
    assert sora.request["seconds"].enum == ("4", "8", "12")
    assert sora.request["model"].required and sora.request["prompt"].required
    assert not sora.request["size"].required
    assert (sora.method, sora.route, sora.content_type) == (
        "POST",
        "/v1/videos",
        "multipart/form-data",
    )
    gateway = parse_document(next(seeds.glob("004_*.txt")))
    assert gateway.request["model"].enum == default_registry()["newapi"].models()
    assert "in_progress" in gateway.response["status"].enum
    apifree = parse_document(next(seeds.glob("003_*.txt")))
    assert set(apifree.request) == {
        "model",
        "prompt",
        "size",
        "seconds",
        "input_reference",
        "stream",
    }
    assert apifree.request["seconds"].types == {"string", "integer"}
    assert "progress" in apifree.response
    happyhorse = parse_document(next(seeds.glob("002_*.txt")))
    assert (happyhorse.request["duration"].minimum, happyhorse.request["duration"].maximum) == (
        3,
        15,
    )


@pytest.mark.shared
def test_transcription_check_reports_what_changed_from_the_spec(
    shared_dir: Path, tmp_path: Path
) -> None:
    """A spec that lost a size and a parameter and gained one: the check names all three."""
    doc = yaml.safe_load((SPEC_DIR / "anyfast_sora.yaml").read_text())
    props = doc["components"]["schemas"]["CreateVideoRequest"]["properties"]
    props["size"]["enum"].remove("1792x1024")
    del props["remix_video_id"]
    props["style"] = {"type": "string"}
    edited = tmp_path / "anyfast_sora.yaml"
    edited.write_text(yaml.safe_dump(doc))
    spec = load_spec(edited)
    result = compare(parse_document(shared_dir / "seeds" / spec.document), spec)
    assert not result.ok
    assert [line.split(": ", 1)[1] for line in result.lines()] == [
        "parameter 'size': value 1792x1024 added",
        "parameter 'remix_video_id' added (string)",
        "parameter 'style' removed (string)",
    ]


def test_an_unreadable_document_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read document"):
        parse_document(tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("nothing to see\n")
    with pytest.raises(InputError, match="no request parameters"):
        parse_document(empty)


def test_root_holds_the_generator_config() -> None:
    config = yaml.safe_load((ROOT / "specs" / "openapi-python-client.yaml").read_text())
    assert config["content_type_overrides"]["video/mp4"] == "application/octet-stream"
    assert all("--isolated" in hook for hook in config["post_hooks"])


@pytest.mark.parametrize(
    ("schema", "types"),
    [
        ({"type": "integer"}, {"integer"}),
        ({"type": ["string", "null"]}, {"string", "null"}),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, {"string", "integer"}),
        ({"allOf": [{"$comment": "x"}, {"type": "number"}]}, {"number"}),
        ({"oneOf": [{"enum": ["4", "8"]}, {"type": "integer"}]}, {"string", "integer"}),
        ({"enum": [4, 8, "12"]}, {"integer", "string"}),
        ({"const": True}, {"boolean"}),
        ({"description": "anything"}, set()),
    ],
)
def test_schema_types_looks_through_combinators_and_values(
    schema: dict[str, Any], types: set[str]
) -> None:
    assert schema_types(schema) == types


def test_a_create_validator_is_made_once_per_content_type() -> None:
    spec = default_registry()["anyfast_sora"]
    validator = spec.create_validator()
    assert validator is spec.create_validator(spec.create_content_type)
    assert validator.schema is spec.create_schema()
    assert not validator.is_valid({"model": 12})
