"""`vidpipe specs draft`: a spec from a provider document, with the family's shared parts by
reference and the author's choices left as TODOs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from vidpipe.cli import main
from vidpipe.doccheck import check_document
from vidpipe.specdiff import diff_specs
from vidpipe.specdraft import draft_spec
from vidpipe.specs import Spec, default_registry, load_spec

from .reelsmith import DOCUMENT, settle_todos


def test_a_draft_transcribes_the_document_and_references_the_family() -> None:
    text, todos = draft_spec(DOCUMENT, family="videos", name="reelsmith")
    assert text.startswith("# Draft spec written by `vidpipe specs draft` from reelsmith.txt")
    doc = yaml.safe_load(text)
    ext = doc["x-vidpipe"]
    assert ext["document"] == "reelsmith.txt" and len(ext["document-sha256"]) == 64
    assert ext["create-content-type"] == "multipart/form-data"
    assert doc["servers"] == [{"url": "https://api.reelsmith.example"}]
    body = doc["components"]["schemas"]["CreateVideoRequest"]
    assert body["required"] == ["model", "scene"]
    assert body["properties"]["length_s"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 8,
        "default": 4,
        "description": "Reel length in whole seconds.",
    }
    assert body["properties"]["frame"]["enum"] == ["256x144", "640x360", "1280x720"]
    assert body["properties"]["still"] == {
        "type": "string",
        "format": "binary",
        "description": "An image the reel opens on (image/png or image/jpeg).",
    }
    # The other calls are the family's, referenced; the status words are the document's.
    assert doc["paths"]["/v1/videos/{video_id}"] == {
        "$ref": "shared/videos.yaml#/components/pathItems/Video"
    }
    status = doc["components"]["schemas"]["VideoStatus"]
    assert status["enum"] == ["WAITING", "RENDERING", "DONE", "BROKEN"]
    assert all(v.startswith("TODO") for v in status["x-vidpipe-status"].values())
    assert all(v.startswith("TODO") for v in ext["fields"].values())
    assert "one of length_s, noise_seed" in ext["fields"]["duration"]
    assert todos == len(ext["fields"]) + len(status["x-vidpipe-status"]) == 9


def _choices(spec: Spec) -> dict[str, str]:
    """The answers the shipped spec gives to a draft's TODOs."""
    answers = {
        unified: rule.field if rule.form == "value" else f"{{field: {rule.field}, as: {rule.form}}}"
        for unified, rule in spec.fields.items()
    }
    return {**answers, **{word: state for word, state in spec.status_map.items()}}


def _finished(path: Path, spec: Spec) -> Path:
    """A draft's TODOs settled as `spec` settles them; those it has no answer to dropped."""
    path.write_text(settle_todos(path.read_text(), _choices(spec), drop_others=True))
    return path


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(default_registry().specs))
def test_each_seed_document_drafts_into_a_spec_that_agrees_with_it(
    name: str, shared_dir: Path, tmp_path: Path
) -> None:
    shipped = default_registry()[name]
    document = shared_dir / "seeds" / shipped.document
    text, _ = draft_spec(document, family=shipped.family, name=name)
    (tmp_path / f"{name}.yaml").write_text(text)
    spec = load_spec(_finished(tmp_path / f"{name}.yaml", shipped))
    result = check_document(document, spec)
    assert result.ok, "\n".join(result.lines())


@pytest.mark.shared
def test_the_gateway_with_33_models_drafts_into_its_shipped_spec(
    shared_dir: Path, tmp_path: Path
) -> None:
    """Everything the shipped newapi spec says, its draft says too, but the word the
    reference adds (`unknown`), which no document lists."""
    shipped = default_registry()["newapi"]
    text, _ = draft_spec(shared_dir / "seeds" / shipped.document, family="videos", name="newapi")
    path = tmp_path / "newapi.yaml"
    path.write_text(text)
    drafted = load_spec(_finished(path, shipped))
    assert [str(c) for c in diff_specs(shipped, drafted)] == [
        "breaking: status word 'unknown' (running) no longer mapped"
    ]


def test_the_command_writes_once_and_needs_an_identifier(tmp_path: Path) -> None:
    out = tmp_path / "reelsmith.yaml"
    args = ["specs", "draft", str(DOCUMENT), "--family", "videos", "--name", "reelsmith"]
    first = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert first.exit_code == 0 and re.search(r"wrote .*reelsmith\.yaml: 9 TODOs", first.output)
    again = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert again.exit_code == 2 and "already exists (use --force" in again.output
    assert CliRunner().invoke(main, [*args, "--out", str(out), "--force"]).exit_code == 0
    bad = CliRunner().invoke(main, [*args[:-1], "reel-smith", "--out", str(tmp_path / "x.yaml")])
    assert bad.exit_code == 2 and "--name must be a Python identifier" in bad.output
    assert not (tmp_path / "x.yaml").exists()
