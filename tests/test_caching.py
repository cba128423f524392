"""Checks do their expensive work once: a spec's schemas and models, each template and
prompt, each shared image. (How fast that makes `validate` is measured in bench/.)"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vidpipe import requests, specs, templating
from vidpipe.loading import loads
from vidpipe.openapi import SPEC_DIR
from vidpipe.requests import build_requests
from vidpipe.specs import SpecRegistry, load_spec

from .images import PNG, image_bytes


def counting(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[Any]:
    """Replace `owner.name` by a wrapper that records each call's first argument."""
    calls: list[Any] = []
    original: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0] if args else None)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


def test_a_spec_resolves_its_create_schema_once(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_spec(SPEC_DIR / "newapi.yaml")
    resolved = counting(monkeypatch, type(spec), "resolve")
    first = spec.create_schema()
    for _ in range(3):
        assert spec.create_schema() is first
        assert spec.field_schema("prompt")["type"] == "string"
        spec.models()
    content_types = spec.operation("create").definition["requestBody"]["content"]
    assert len(resolved) == len(content_types)  # each body schema once, on first use


def test_a_spec_lists_its_models_once(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_spec(SPEC_DIR / "anyfast_sora.yaml")
    looked_up = counting(monkeypatch, type(spec), "field_schema")
    models = spec.models()
    assert models and "sora-2" in models
    registry = SpecRegistry({spec.name: spec})
    for _ in range(3):
        assert spec.models() is models
        assert registry.find("anyfast", "sora-2") is spec
    assert len(looked_up) == 1


BOARD = """\
name: cached
providers: {anyfast: {}}
defaults: {model: sora-2, size: 1280x720, image: poster.png}
vars: {hero: a cat}
shots:
"""


def test_each_prompt_and_template_is_compiled_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "t.j2").write_text("{{ hero }} in shot {{ shot.id }}")
    (tmp_path / "poster.png").write_bytes(PNG)
    shots = "".join(
        f"  - {{id: p{i}, prompt: 'cached {{{{ hero }}}} {tmp_path.name}'}}\n"
        f"  - {{id: t{i}, template: t.j2}}\n"
        for i in range(4)
    )
    env = templating.make_environment(tmp_path)
    compiled = counting(monkeypatch, type(env), "_compile")
    board = loads(textwrap.dedent(BOARD) + shots, base_dir=tmp_path, env={})
    assert board.shot("p3").prompt == f"cached a cat {tmp_path.name}"
    assert board.shot("t3").prompt == "a cat in shot t3"
    assert len(compiled) == 2  # one inline prompt, one template file, for eight shots
    loads(textwrap.dedent(BOARD) + shots, base_dir=tmp_path, env={})
    assert len(compiled) == 2  # and not again for the same storyboard
    assert templating.make_environment(tmp_path) is env
    (tmp_path / "templates" / "t.j2").write_text("{{ hero }} changed")
    board = loads(textwrap.dedent(BOARD) + shots, base_dir=tmp_path, env={})
    assert board.shot("t0").prompt == "a cat changed"  # an edited template is read again


def test_an_image_shared_by_shots_is_hashed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = tmp_path / "poster.png"
    image.write_bytes(PNG)
    shots = "".join(f"  - {{id: s{i}, prompt: hi}}\n" for i in range(5))
    board = loads(textwrap.dedent(BOARD) + shots, base_dir=tmp_path, env={})
    hashed = counting(monkeypatch, requests, "sha256_file")
    built = build_requests(board, specs.default_registry())
    assert hashed == [image]
    assert len({r.files["input_reference"].sha256 for r in built.values()}) == 1
    image.write_bytes(image_bytes(width=32))  # a changed file is hashed again
    changed = build_requests(board, specs.default_registry())
    assert hashed == [image, image]
    assert (
        changed["s0"].files["input_reference"].sha256 != built["s0"].files["input_reference"].sha256
    )
