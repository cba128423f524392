"""The soak benchmark's storyboard stays valid against its own specs (the bench itself takes a
minute and is not part of the suite): every provider names an API of those specs and points
at the emulator's prefix for that API."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml

from bench.bench_soak import _specs, _storyboard
from vidpipe.loading import load
from vidpipe.specs import SpecRegistry


def test_the_soak_storyboard_loads_and_each_provider_points_at_its_api(tmp_path: Path) -> None:
    _specs(tmp_path / "specs")
    registry = SpecRegistry.load(tmp_path / "specs")
    doc = _storyboard("http://127.0.0.1:1", "http://127.0.0.1:2")
    board = tmp_path / "soak.yaml"
    board.write_text(yaml.safe_dump(doc, sort_keys=False))
    storyboard = load(board, env={}, registry=registry)  # raises on an unknown api or model
    assert len(storyboard.shots) == 200
    for name, provider in doc["providers"].items():
        assert provider["api"] in registry.apis(), name
        # The emulator serves each API's routes under /{api} (emulator/routes.py).
        assert httpx.URL(provider["base_url"]).path == f"/{provider['api']}", name
