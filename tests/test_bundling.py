"""A spec references its family's shared parts and is read bundled with them; a registry
takes the user's folders of specs as well as the shipped ones."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import yaml

from vidpipe.errors import SpecError
from vidpipe.openapi import SPEC_DIR
from vidpipe.specs import SpecRegistry, default_registry, load_spec

from .reelsmith import write_draft, write_spec

SHARED = SPEC_DIR / "shared" / "videos.yaml"


def test_a_spec_holds_its_own_parts_and_references_the_shared_ones() -> None:
    sora = load_spec(SPEC_DIR / "anyfast_sora.yaml")
    raw = yaml.safe_load((SPEC_DIR / "anyfast_sora.yaml").read_text())
    assert set(raw["components"]["schemas"]) == {"CreateVideoRequest", "Video"}
    schemas = sora.doc["components"]["schemas"]
    assert {"VideoStatus", "VideoFields", "ErrorResponse", "RemixVideoRequest"} <= set(schemas)
    assert sora.operation("status").path == "/v1/videos/{video_id}"
    assert sora.sources == (SHARED,)
    assert sora.origins[("schemas", "VideoStatus")] == SHARED
    assert sora.status_file() == SHARED


def test_a_spec_component_replaces_the_shared_one_of_its_name_everywhere() -> None:
    """newapi's own VideoStatus (the document's words) is what the shared status call uses."""
    newapi = load_spec(SPEC_DIR / "newapi.yaml")
    status = newapi.doc["components"]["schemas"]["VideoStatus"]
    assert "video_url" in status["enum"]
    assert ("schemas", "VideoStatus") not in newapi.origins
    answer = newapi.resolve(newapi.operation("status").definition["responses"]["200"])
    video = answer["content"]["application/json"]["schema"]
    own = video["allOf"][-1]
    assert "video_url" in own["properties"]["status"]["anyOf"][0]["enum"]
    assert newapi.status_file() == SPEC_DIR / "newapi.yaml"


def test_a_spec_component_that_only_references_a_shared_one_imports_it() -> None:
    happyhorse = load_spec(SPEC_DIR / "anyfast_happyhorse.yaml")
    raw = yaml.safe_load((SPEC_DIR / "anyfast_happyhorse.yaml").read_text())
    assert set(raw["components"]["schemas"]["DashScopeStatus"]) == {"$ref"}
    imported = happyhorse.doc["components"]["schemas"]["DashScopeStatus"]
    assert imported["x-vidpipe-emulator"] == {"raw-task": "dashscope"}
    assert "SeedanceStatus" not in happyhorse.doc["components"]["schemas"]


def test_the_sha256_covers_the_shared_parts(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(SPEC_DIR, specs, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    before = load_spec(specs / "anyfast_sora.yaml")
    own = hashlib.sha256((specs / "anyfast_sora.yaml").read_bytes()).hexdigest()
    assert before.sha256 != own  # the shared file counts too
    shared = specs / "shared" / "videos.yaml"
    shared.write_text(shared.read_text() + "# a comment\n")
    after = load_spec(specs / "anyfast_sora.yaml")
    assert after.sha256 != before.sha256
    assert load_spec(specs / "apifree.yaml").sha256 != default_registry()["apifree"].sha256
    # A spec with no references: the sha256 of its bytes, as before shared parts existed.
    bundled = tmp_path / "flat.yaml"
    bundled.write_text(yaml.safe_dump(dict(before.doc), sort_keys=False))
    assert load_spec(bundled).sha256 == hashlib.sha256(bundled.read_bytes()).hexdigest()


def test_a_shared_file_not_beside_the_spec_is_found_among_the_shipped_ones(
    tmp_path: Path,
) -> None:
    alone = tmp_path / "anyfast_sora.yaml"
    shutil.copy(SPEC_DIR / "anyfast_sora.yaml", alone)
    spec = load_spec(alone)
    assert spec.sources == (SHARED,)
    with pytest.raises(SpecError, match=r"'elsewhere\.yaml', which is neither beside"):
        text = alone.read_text().replace(
            "shared/videos.yaml#/components/schemas/VideoFields",
            "elsewhere.yaml#/components/schemas/VideoFields",
        )
        alone.write_text(text)
        load_spec(alone)


def test_two_different_shared_components_of_one_name_are_refused(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    other = yaml.safe_load(SHARED.read_text())
    other["components"]["schemas"]["VideoError"]["properties"]["extra"] = {"type": "string"}
    (tmp_path / "shared" / "other.yaml").write_text(yaml.safe_dump(other))
    spec = yaml.safe_load((SPEC_DIR / "anyfast_sora.yaml").read_text())
    spec["components"]["schemas"]["Oops"] = {
        "$ref": "shared/other.yaml#/components/schemas/VideoError"
    }
    (tmp_path / "x.yaml").write_text(yaml.safe_dump(spec))
    with pytest.raises(SpecError, match="VideoError comes from both"):
        load_spec(tmp_path / "x.yaml")


def test_a_draft_with_todos_left_is_refused_naming_them(tmp_path: Path) -> None:
    draft = write_draft(tmp_path)
    with pytest.raises(SpecError) as info:
        load_spec(draft)
    message = str(info.value)
    assert "is a draft: replace the TODO at x-vidpipe.fields.prompt" in message
    assert "VideoStatus.x-vidpipe-status.BROKEN" in message


def test_api_defaults_to_the_spec_name_and_names_one_spec_or_a_group(tmp_path: Path) -> None:
    registry = default_registry().with_dirs([write_spec(tmp_path / "mine").parent])
    assert registry["reelsmith"].api == "reelsmith"
    assert registry["newapi"].api == "newapi"
    assert {"anyfast", "anyfast_sora", "reelsmith"} <= set(registry.apis())
    assert [s.name for s in registry.for_api("anyfast_sora")] == ["anyfast_sora"]
    assert len(registry.for_api("anyfast")) == 3
    assert registry.find("reelsmith", "reel-1") is registry["reelsmith"]
    assert registry.find("anyfast_sora", "seedance-fast") is None


def test_a_users_folder_adds_specs_and_replaces_shipped_ones_by_name(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    doc = yaml.safe_load((SPEC_DIR / "newapi.yaml").read_text())
    model = doc["components"]["schemas"]["CreateVideoRequest"]["properties"]["model"]
    model["enum"].append("wan-3.0-pro")
    (mine / "newapi.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    (mine / "storyboard.yaml").write_text("name: not-a-spec\nshots: []\n")
    registry = default_registry().with_dirs([mine])
    assert "wan-3.0-pro" in registry.models("newapi")
    assert not registry["newapi"].builtin and registry["anyfast_sora"].builtin
    assert registry.dirs == (mine.resolve(),)
    assert registry.with_dirs([mine]) is registry  # a folder is read once
    assert "storyboard" not in registry.specs
    with pytest.raises(SpecError, match="is not a folder of specs"):
        default_registry().with_dirs([tmp_path / "nothing"])


def test_a_spec_name_must_be_an_identifier(tmp_path: Path) -> None:
    shutil.copy(SPEC_DIR / "apifree.yaml", tmp_path / "my-api.yaml")
    with pytest.raises(SpecError, match="must be a Python identifier"):
        SpecRegistry.load(SPEC_DIR).with_dirs([tmp_path])


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")
def test_specs_are_read_with_libyaml_into_the_same_documents(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vidpipe import bundling

    assert bundling.YAML_LOADER.__name__ == "CSafeLoader"
    fast = {spec.name: spec.doc for spec in SpecRegistry.load(SPEC_DIR)}
    monkeypatch.setattr(bundling, "YAML_LOADER", yaml.SafeLoader)
    slow = {spec.name: spec.doc for spec in SpecRegistry.load(SPEC_DIR)}
    assert fast == slow and fast
