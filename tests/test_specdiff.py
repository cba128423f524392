"""`vidpipe specs diff OLD NEW`: each kind of change between two versions of a spec, each way,
classed breaking or not, with an exit code per class."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from vidpipe.cli import main
from vidpipe.openapi import SPEC_DIR
from vidpipe.specdiff import diff_specs
from vidpipe.specs import load_spec

Edit = Callable[[dict[str, Any]], None]
_count = itertools.count()


def written(tmp_path: Path, doc: dict[str, Any], name: str) -> Path:
    folder = tmp_path / f"v{next(_count)}"
    folder.mkdir()
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def versions(tmp_path: Path, edit: Edit, name: str = "anyfast_sora") -> tuple[Path, Path]:
    """The shipped spec `name` and a copy with `edit` applied (its shared parts, referenced
    the same way, are found among the shipped ones)."""
    doc = yaml.safe_load((SPEC_DIR / f"{name}.yaml").read_text())
    before = written(tmp_path, doc, name)
    after = copy.deepcopy(doc)
    edit(after)
    return before, written(tmp_path, after, name)


def changes(old: Path, new: Path) -> list[str]:
    return [str(c) for c in diff_specs(load_spec(old), load_spec(new))]


def both_ways(
    tmp_path: Path, edit: Edit, name: str = "anyfast_sora"
) -> tuple[list[str], list[str]]:
    """The changes from the spec to the edited one, and back."""
    old, new = versions(tmp_path, edit, name)
    return changes(old, new), changes(new, old)


def body(doc: dict[str, Any], name: str = "CreateVideoRequest") -> dict[str, Any]:
    schema: dict[str, Any] = doc["components"]["schemas"][name]
    return schema


def test_a_request_field_added_is_not_breaking_and_removed_is(tmp_path: Path) -> None:
    def add(doc: dict[str, Any]) -> None:
        body(doc)["properties"]["style"] = {"type": "string"}

    forth, back = both_ways(tmp_path, add)
    assert forth == ["non-breaking: parameter 'style' added (string)"]
    assert back == ["breaking: parameter 'style' removed (string)"]


def test_a_required_field_added_is_breaking(tmp_path: Path) -> None:
    def add(doc: dict[str, Any]) -> None:
        body(doc)["properties"]["style"] = {"type": "string"}
        body(doc)["required"].append("style")

    forth, _ = both_ways(tmp_path, add)
    assert forth == ["breaking: parameter 'style' added (string, required)"]


def test_an_enum_value_removed_is_breaking_and_added_is_not(tmp_path: Path) -> None:
    def drop(doc: dict[str, Any]) -> None:
        seconds = body(doc)["properties"]["seconds"]
        seconds["enum"].remove("12")
        seconds["x-enum-varnames"].remove("S12")

    forth, back = both_ways(tmp_path, drop)
    assert forth == ["breaking: parameter 'seconds': value 12 removed"]
    assert back == ["non-breaking: parameter 'seconds': value 12 added"]


def test_an_enum_lifted_is_not_breaking_and_brought_in_is(tmp_path: Path) -> None:
    def lift(doc: dict[str, Any]) -> None:
        size = body(doc)["properties"]["size"]
        del size["enum"], size["x-enum-varnames"]

    forth, back = both_ways(tmp_path, lift)
    sizes = "720x1280, 1280x720, 1024x1792, 1792x1024"
    assert forth == [f"non-breaking: parameter 'size': no longer limited to the values {sizes}"]
    assert back == [f"breaking: parameter 'size': now limited to the values {sizes}"]


def test_a_model_removed_is_breaking(tmp_path: Path) -> None:
    def drop(doc: dict[str, Any]) -> None:
        body(doc)["properties"]["model"]["enum"].remove("veo3")

    forth, back = both_ways(tmp_path, drop, "newapi")
    assert forth == ["breaking: parameter 'model': value veo3 removed"]
    assert back == ["non-breaking: parameter 'model': value veo3 added"]


def test_a_type_narrowed_is_breaking_and_widened_is_not(tmp_path: Path) -> None:
    def widen(doc: dict[str, Any]) -> None:
        body(doc)["properties"]["remix_video_id"] = {
            "anyOf": [{"type": "string"}, {"type": "integer"}]
        }

    forth, back = both_ways(tmp_path, widen)
    assert forth == [
        "non-breaking: parameter 'remix_video_id': type widened from string to integer/string"
    ]
    assert back == [
        "breaking: parameter 'remix_video_id': type narrowed from integer/string to string"
    ]


def test_a_type_changed_is_breaking(tmp_path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        body(doc)["properties"]["remix_video_id"] = {"type": "integer"}

    forth, back = both_ways(tmp_path, change)
    assert forth == ["breaking: parameter 'remix_video_id': type changed from string to integer"]
    assert back == ["breaking: parameter 'remix_video_id': type changed from integer to string"]


def test_newly_required_is_breaking_and_no_longer_required_is_not(tmp_path: Path) -> None:
    def require(doc: dict[str, Any]) -> None:
        body(doc)["required"].append("size")

    forth, back = both_ways(tmp_path, require)
    assert forth == ["breaking: parameter 'size' is now required"]
    assert back == ["non-breaking: parameter 'size' is no longer required"]


def test_a_range_narrowed_is_breaking_and_widened_is_not(tmp_path: Path) -> None:
    def narrow(doc: dict[str, Any]) -> None:
        body(doc, "CreateImageToVideoRequest")["properties"]["duration"]["maximum"] = 10

    forth, back = both_ways(tmp_path, narrow, "anyfast_happyhorse")
    assert forth == ["breaking: parameter 'duration': range narrowed from 3..15 to 3..10"]
    assert back == ["non-breaking: parameter 'duration': range widened from 3..10 to 3..15"]


def _own_video(doc: dict[str, Any]) -> dict[str, Any]:
    part: dict[str, Any] = doc["components"]["schemas"]["Video"]["allOf"][-1]
    return part


def test_a_response_field_removed_is_breaking_and_added_is_not(tmp_path: Path) -> None:
    def drop(doc: dict[str, Any]) -> None:
        del _own_video(doc)["properties"]["size"]

    forth, back = both_ways(tmp_path, drop)
    assert forth == ["breaking: response field 'size' removed (string)"]
    assert back == ["non-breaking: response field 'size' added (string)"]


def test_a_response_enum_value_added_is_breaking_and_removed_is_not(tmp_path: Path) -> None:
    def drop(doc: dict[str, Any]) -> None:
        status = doc["components"]["schemas"]["VideoStatus"]
        status["enum"].remove("url")

    forth, back = both_ways(tmp_path, drop, "newapi")
    assert forth == ["non-breaking: response field 'status': status word url removed"]
    assert back == ["breaking: response field 'status': status word url added"]


def _own_status(doc: dict[str, Any], mapping: dict[str, str]) -> None:
    """Give the spec its own VideoStatus (replacing the shared one) with `mapping`."""
    shared = yaml.safe_load((SPEC_DIR / "shared" / "videos.yaml").read_text())
    status = shared["components"]["schemas"]["VideoStatus"]
    status["x-vidpipe-status"] = mapping
    doc["components"]["schemas"]["VideoStatus"] = status


SHARED_WORDS = {
    "queued": "queued",
    "in_progress": "running",
    "unknown": "running",
    "completed": "succeeded",
    "failed": "failed",
}


def test_a_status_word_unmapped_is_breaking_and_mapped_is_not(tmp_path: Path) -> None:
    def add(doc: dict[str, Any]) -> None:
        _own_status(doc, {**SHARED_WORDS, "cancelled": "failed"})

    forth, back = both_ways(tmp_path, add)
    assert forth == ["non-breaking: status word 'cancelled' mapped to failed"]
    assert back == ["breaking: status word 'cancelled' (failed) no longer mapped"]


def test_a_status_word_remapped_is_breaking(tmp_path: Path) -> None:
    def remap(doc: dict[str, Any]) -> None:
        _own_status(doc, {**SHARED_WORDS, "unknown": "failed"})

    forth, back = both_ways(tmp_path, remap)
    assert forth == ["breaking: status word 'unknown' now means failed, not running"]
    assert back == ["breaking: status word 'unknown' now means running, not failed"]


def test_an_operation_removed_is_breaking_and_added_is_not(tmp_path: Path) -> None:
    def drop(doc: dict[str, Any]) -> None:
        del doc["x-vidpipe"]["operations"]["content"]

    forth, back = both_ways(tmp_path, drop)
    assert forth == ["breaking: operation content removed"]
    assert back == ["non-breaking: operation content added"]


def test_an_operation_moved_is_breaking(tmp_path: Path) -> None:
    def move(doc: dict[str, Any]) -> None:
        doc["paths"]["/v1/clips"] = doc["paths"].pop("/v1/videos")

    forth, _ = both_ways(tmp_path, move)
    assert forth == ["breaking: operation create moved from POST /v1/videos to POST /v1/clips"]


def test_a_unified_field_unmapped_is_breaking_and_mapped_is_not(tmp_path: Path) -> None:
    def drop(doc: dict[str, Any]) -> None:
        del doc["x-vidpipe"]["fields"]["size"]

    forth, back = both_ways(tmp_path, drop)
    assert forth == ["breaking: unified field 'size' no longer mapped"]
    assert back == ["non-breaking: unified field 'size' mapped to 'size'"]


def vidpipe(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result.exit_code, result.output


def test_diff_exit_codes_say_which_class_of_change_there_is(tmp_path: Path) -> None:
    def add(doc: dict[str, Any]) -> None:
        body(doc)["properties"]["style"] = {"type": "string"}

    old, new = versions(tmp_path, add)
    assert vidpipe("specs", "diff", old, old) == (0, "no changes that matter\n")
    assert vidpipe("specs", "diff", old, new) == (
        3,
        "non-breaking: parameter 'style' added (string)\n1 changes, 0 breaking\n",
    )
    assert vidpipe("specs", "diff", new, old) == (
        1,
        "breaking: parameter 'style' removed (string)\n1 changes, 1 breaking\n",
    )
    code, output = vidpipe("specs", "diff", old, tmp_path / "nowhere.yaml")
    assert code == 2 and "no such spec file" in output


def test_a_change_to_a_comment_or_a_description_is_no_change(tmp_path: Path) -> None:
    def describe(doc: dict[str, Any]) -> None:
        body(doc)["properties"]["prompt"]["description"] = "Say what happens."

    assert both_ways(tmp_path, describe) == ([], [])
