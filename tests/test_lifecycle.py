"""Model lifecycle: a spec marks a model deprecated or shut down (`x-vidpipe.lifecycle`),
and `validate`, `plan` and `run` warn once per model, at the line of the first shot using it."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
import yaml

from vidpipe.errors import SpecError
from vidpipe.lifecycle import lifecycle_warnings
from vidpipe.loading import load
from vidpipe.openapi import SPEC_DIR
from vidpipe.requests import build_requests
from vidpipe.specs import ModelLifecycle, default_registry, load_spec

from .test_cli import vidpipe

BOARD = """\
version: 1
name: ends
providers:
  anyfast: {api: anyfast}
defaults: {provider: anyfast, seconds: 4, size: 1280x720}
shots:
  - id: first
    model: sora-2
    prompt: a
  - id: second
    model: seedance-fast
    prompt: b
  - id: third
    model: sora-2
    prompt: c
"""


def board(tmp_path: Path, text: str = BOARD) -> Path:
    path = tmp_path / "ends.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_the_shipped_specs_say_sora_2_was_shut_down() -> None:
    entry = default_registry()["anyfast_sora"].lifecycle["sora-2"]
    assert entry.status == "shut-down"
    assert entry.date == dt.date(2026, 9, 24)
    assert entry.source.startswith("https://")
    assert "sora-2" in default_registry()["newapi"].lifecycle


def test_one_warning_per_model_at_its_first_shot(tmp_path: Path) -> None:
    storyboard = load(board(tmp_path))
    requests = build_requests(storyboard, default_registry())
    warnings = lifecycle_warnings(storyboard, requests, today=dt.date(2026, 12, 1))
    assert len(warnings) == 1
    (warning,) = warnings
    assert warning.line == 8  # `model: sora-2` of shot first
    assert "was shut down on 2026-09-24" in warning.message
    assert "gateways may still route it" in warning.message
    assert "shots first, third" in warning.message


def test_the_wording_follows_the_date() -> None:
    entry = ModelLifecycle("m", "shut-down", dt.date(2026, 9, 24), "https://x")
    assert "shuts down on 2026-09-24" in entry.warning(dt.date(2026, 1, 1))
    assert "was shut down on" in entry.warning(dt.date(2026, 9, 24))
    deprecated = ModelLifecycle("m", "deprecated", dt.date(2026, 9, 24), "https://x", "use n")
    assert "is deprecated from 2026-09-24: use n" in deprecated.warning(dt.date(2026, 1, 1))


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_validate_and_plan_warn_and_still_succeed(tmp_path: Path, command: str) -> None:
    path = board(tmp_path)
    result = vidpipe(command, path)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(lines) == 1
    assert lines[0].startswith(f"warning: {path}:8: model sora-2 was shut down on 2026-09-24")


def test_no_warning_for_a_model_without_an_end(tmp_path: Path) -> None:
    text = BOARD.replace("model: sora-2", "model: seedance-fast")
    result = vidpipe("validate", board(tmp_path, text))
    assert result.exit_code == 0
    assert "warning" not in result.stderr


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ({"status": "retired", "date": "2026-01-01", "source": "x"}, "status must be one of"),
        ({"status": "deprecated", "date": "soon", "source": "x"}, "date must be a date"),
        ({"status": "deprecated", "date": "2026-01-01"}, "needs status, date and source"),
        ({"status": "deprecated", "date": "2026-01-01", "source": "x", "why": 1}, "unknown keys"),
    ],
)
def test_a_bad_lifecycle_entry_is_a_spec_error(
    tmp_path: Path, entry: dict[str, object], complaint: str
) -> None:
    doc = yaml.safe_load((SPEC_DIR / "anyfast_sora.yaml").read_text())
    doc["x-vidpipe"]["lifecycle"] = {"sora-2": entry}
    (tmp_path / "shared").symlink_to(SPEC_DIR / "shared")
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(SpecError, match=complaint):
        load_spec(path)
