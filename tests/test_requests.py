"""Shots become create requests checked against the spec, with problems at their lines."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from vidpipe.errors import InputError
from vidpipe.fingerprint import derive_seed
from vidpipe.loading import load
from vidpipe.requests import LocalFile, build_requests
from vidpipe.specs import default_registry

from .images import PNG

HEAD = """\
version: 1
name: t
seed: 7
providers:
  anyfast: {api: anyfast}
  apifree: {api: apifree}
  gw: {api: newapi}
defaults: {provider: anyfast, model: sora-2}
shots:
"""


def _board(tmp_path: Path, shots: str) -> Path:
    (tmp_path / "ref.png").write_bytes(PNG)
    path = tmp_path / "board.yaml"
    path.write_text(HEAD + textwrap.indent(textwrap.dedent(shots), "  "))
    return path


def _requests(path: Path):  # type: ignore[no-untyped-def]
    return build_requests(load(path), default_registry())


def _problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        _requests(path)
    return [str(p) for p in info.value.problems]


def test_sora_shot_maps_unified_names(tmp_path: Path) -> None:
    path = _board(tmp_path, "- {id: a, prompt: hi, seconds: 8, size: 720x1280, image: ref.png}\n")
    req = _requests(path)["a"]
    assert req.spec.name == "anyfast_sora"
    assert req.fields == {"model": "sora-2", "prompt": "hi", "seconds": "8", "size": "720x1280"}
    assert isinstance(req.files["input_reference"], LocalFile)
    assert req.content_type == "multipart/form-data"
    assert req.seed == derive_seed(7, "a") and not req.seed_sent


def test_resolution_and_ratio_become_a_size_and_back(tmp_path: Path) -> None:
    path = _board(
        tmp_path,
        """\
        - {id: a, prompt: x, resolution: 720p, ratio: "9:16"}
        - {id: b, prompt: x, model: seedance-fast, size: 1280x720}
        - {id: c, prompt: x, model: happyhorse-1.0-i2v, image: ref.png, size: 1920x1080}
        """,
    )
    reqs = _requests(path)
    assert reqs["a"].fields["size"] == "720x1280"
    assert (reqs["b"].fields["resolution"], reqs["b"].fields["ratio"]) == ("720p", "16:9")
    assert (reqs["c"].fields["resolution"], reqs["c"].fields["ratio"]) == ("1080P", "16:9")


def test_seedance_builds_content_items(tmp_path: Path) -> None:
    path = _board(tmp_path, "- {id: a, prompt: cat, model: seedance-fast, image: ref.png}\n")
    req = _requests(path)["a"]
    text, image = req.fields["content"]
    assert text == {"type": "text", "text": "cat"}
    assert image["type"] == "image_url" and image["role"] == "reference_image"
    assert isinstance(image["image_url"]["url"], LocalFile)
    assert req.public_fields()["content"][1]["image_url"]["url"]["file"] == "ref.png"
    assert set(req.file_digests()) == {"content[1].image_url.url"}


def test_derived_seed_is_sent_where_the_spec_takes_one(tmp_path: Path) -> None:
    path = _board(tmp_path, "- {id: a, prompt: x, provider: gw, model: veo3}\n")
    req = _requests(path)["a"]
    assert req.fields["seed"] == derive_seed(7, "a") and req.seed_sent


def test_apifree_sends_json_unless_it_uploads(tmp_path: Path) -> None:
    path = _board(
        tmp_path,
        """\
        - {id: a, prompt: x, provider: apifree, model: m1, seconds: 8}
        - {id: b, prompt: x, provider: apifree, model: m1, seconds: 8, image: ref.png}
        """,
    )
    reqs = _requests(path)
    assert reqs["a"].content_type == "application/json" and reqs["a"].fields["seconds"] == 8
    assert reqs["b"].content_type == "multipart/form-data" and reqs["b"].fields["seconds"] == "8"


@pytest.mark.parametrize(
    ("shot", "line", "needle"),
    [
        ("- {id: a, prompt: x, seconds: 5}\n", 10, "'5' is not one of: 4, 8, 12"),
        ("- {id: a, prompt: x, size: 640x480}\n", 10, "'640x480' is not one of"),
        (
            "- {id: a, prompt: x, model: sora-3}\n",
            10,
            "has no model 'sora-3'; did you mean 'sora-2'?",
        ),
        ("- {id: a, prompt: x, seed: 3}\n", 10, "takes no seed"),
        (
            "- {id: a, prompt: x, model: happyhorse-1.0-i2v, image: ref.png, duration: 20}\n",
            10,
            "20 is out of range 3..15",
        ),
        ("- {id: a, prompt: x, model: happyhorse-1.0-i2v}\n", 10, "requires 'image'"),
        (
            "- {id: a, prompt: x, params: {remix_vidoe_id: v}}\n",
            10,
            "did you mean 'remix_video_id'",
        ),
        ("- {id: a, prompt: x, params: {model: other}}\n", 10, "params.model is set by vidpipe"),
        ("- {id: a, prompt: x, image: 'https://x.test/a.png'}\n", 10, "uploaded file"),
        (
            "- {id: a, prompt: x, model: seedance-fast}\n- {id: b, prompt: y, model: seedance-fast, remix: a}\n",
            11,
            "cannot remix",
        ),
        (
            "- {id: a, prompt: x}\n- {id: b, prompt: y, remix: a, provider: gw, model: veo3}\n",
            11,
            "must use the same provider",
        ),
    ],
)
def test_bad_values_are_reported_at_their_line(
    tmp_path: Path, shot: str, line: int, needle: str
) -> None:
    problems = _problems(_board(tmp_path, shot))
    assert any(needle in p and f"board.yaml:{line}:" in p for p in problems), problems


def test_every_problem_of_every_shot_is_reported_at_once(tmp_path: Path) -> None:
    path = _board(
        tmp_path,
        """\
        - id: a
          prompt: x
          seconds: 5
          size: 1x1
        - id: b
          prompt: y
          model: seedance-fast
          seed: 1
        """,
    )
    problems = _problems(path)
    assert len(problems) == 3, problems
    assert any("board.yaml:12:" in p and "seconds" in p for p in problems)
    assert any("board.yaml:13:" in p and "size" in p for p in problems)
    assert any("board.yaml:17:" in p and "seed" in p for p in problems)


def test_a_shot_with_one_problem_still_gets_its_spec_check(tmp_path: Path) -> None:
    path = _board(
        tmp_path,
        "- {id: a, prompt: x, model: seedance-fast, seed: 3, duration: 99}\n",
    )
    problems = _problems(path)
    assert any("takes no seed" in p for p in problems), problems
    assert any("99 is out of range -1..15" in p for p in problems), problems


def test_a_default_value_is_reported_at_the_defaults_line(tmp_path: Path) -> None:
    path = _board(tmp_path, "- {id: a, prompt: x, model: seedance-fast}\n")
    text = path.read_text().replace("model: sora-2}", "model: sora-2, resolution: 4k}")
    path.write_text(text)
    problems = _problems(path)
    assert any("board.yaml:8:" in p and "resolution" in p for p in problems), problems


def test_validation_follows_an_edited_spec(tmp_path: Path) -> None:
    """A provider adds a size: editing the spec is all it takes for vidpipe to accept it."""
    import shutil

    import yaml

    from vidpipe.openapi import SPEC_DIR
    from vidpipe.specs import SpecRegistry

    path = _board(tmp_path, "- {id: a, prompt: x, size: 1920x1080}\n")
    board = load(path)
    with pytest.raises(InputError, match="'1920x1080' is not one of"):
        build_requests(board, default_registry())

    specs = tmp_path / "specs"
    shutil.copytree(SPEC_DIR, specs, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    doc = yaml.safe_load((specs / "anyfast_sora.yaml").read_text())
    size = doc["components"]["schemas"]["CreateVideoRequest"]["properties"]["size"]
    size["enum"].append("1920x1080")
    size["x-enum-varnames"].append("W1920_H1080")
    (specs / "anyfast_sora.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    assert build_requests(board, SpecRegistry.load(specs))["a"].fields["size"] == "1920x1080"
