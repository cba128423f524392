"""Status words come from the spec alone: the emulator answers each spec in its own words,
as the spec's `x-vidpipe-status` and `x-vidpipe-emulator` say, and refuses a spec whose
words it could not say consistently."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from vidpipe.emulator import EmbeddedEmulator, EmulatorConfig
from vidpipe.emulator.dialect import dialect_for
from vidpipe.errors import SpecError
from vidpipe.openapi import SPEC_DIR
from vidpipe.specs import SpecRegistry, default_registry, load_spec
from vidpipe.states import TASK_STATES

from .emulator_fixtures import Clock, apifree, client, emulator, form, seedance


def _edited(tmp_path: Path, name: str, change: Callable[[dict[str, Any]], None]) -> SpecRegistry:
    """The shipped specs in a temp dir, with `change` applied to spec `name`'s document
    (bundled: the shared parts it uses are its own there, so they can be changed)."""
    specs = tmp_path / "specs"
    shutil.copytree(SPEC_DIR, specs, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = specs / f"{name}.yaml"
    doc = copy.deepcopy(dict(load_spec(path).doc))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return SpecRegistry.load(specs)


def _status_schema(doc: dict[str, Any], name: str, mapping: dict[str, str]) -> None:
    schema = doc["components"]["schemas"][name]
    schema["enum"] = list(mapping)
    schema["x-vidpipe-status"] = mapping
    schema.pop("x-vidpipe-emulator", None)


SORA_WORDS = {"PENDING": "queued", "WORKING": "running", "DONE": "succeeded", "BROKEN": "failed"}


async def test_a_videos_spec_with_other_words_is_answered_in_them(tmp_path: Path) -> None:
    registry = _edited(
        tmp_path, "anyfast_sora", lambda doc: _status_schema(doc, "VideoStatus", SORA_WORDS)
    )
    clock = Clock()
    emu = emulator(specs=registry, job_seconds=10, queued_fraction=0.2, clock=clock)
    body = {"model": "sora-2", "prompt": "x", "seconds": "4", "size": "720x1280"}
    async with client(emu) as c:
        created = (await c.post("/anyfast/v1/videos", files=form(body))).json()
        failing = await c.post(
            "/anyfast/v1/videos", files=form({**body, "prompt": "x [emulator:fail]"})
        )
        seen = [created["status"]]
        for _ in range(3):
            clock.advance(4)
            seen.append((await c.get(f"/anyfast/v1/videos/{created['id']}")).json()["status"])
        broken = (await c.get(f"/anyfast/v1/videos/{failing.json()['id']}")).json()["status"]
        # Other specs on the same emulator keep their own words.
        other = (await c.post("/v1/videos", json=apifree())).json()["status"]
    assert seen == ["PENDING", "WORKING", "WORKING", "DONE"]
    assert broken == "BROKEN" and other == "queued"
    spec = registry["anyfast_sora"]
    assert [spec.normalise_status(w) for w in seen] == ["queued", "running", "running", "succeeded"]


def _seedance_words(doc: dict[str, Any]) -> None:
    _status_schema(
        doc, "VideoStatus", {"NEW": "queued", "GOING": "running", "OK": "succeeded", "KO": "failed"}
    )
    _status_schema(
        doc,
        "TaskStatus",
        {
            "WAIT": "queued",
            "HOLD": "queued",
            "BUSY": "running",
            "FINE": "succeeded",
            "BAD": "failed",
        },
    )
    doc["components"]["schemas"]["TaskStatus"]["x-vidpipe-emulator"] = {
        "sends": {"queued": ["HOLD", "WAIT"]}
    }
    _status_schema(
        doc, "SeedanceStatus", {"q": "queued", "r": "running", "s": "succeeded", "f": "failed"}
    )
    doc["components"]["schemas"]["SeedanceStatus"]["x-vidpipe-emulator"] = {"raw-task": "seedance"}


async def test_a_generations_spec_is_answered_in_its_envelope_and_raw_words(
    tmp_path: Path,
) -> None:
    registry = _edited(tmp_path, "anyfast_seedance", _seedance_words)
    clock = Clock()
    emu = emulator(specs=registry, job_seconds=10, queued_fraction=0.4, clock=clock)
    async with client(emu) as c:
        created = (await c.post("/v1/video/generations", json=seedance())).json()
        seen = []
        for step in (0, 3, 3, 4):  # at 0, 3, 6 and 10 s
            clock.advance(step)
            data = (await c.get(f"/v1/video/generations/{created['id']}")).json()["data"]
            seen.append((data["status"], data["data"]["status"]))
    assert created["status"] == "NEW" and created["id"].startswith("cgt-")
    # The queue (4 s) says HOLD for its first half, then WAIT, as `sends` lists them.
    assert seen == [("HOLD", "q"), ("WAIT", "q"), ("BUSY", "r"), ("FINE", "s")]


async def test_a_list_of_words_is_shown_in_turn_over_the_state(tmp_path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        schema = doc["components"]["schemas"]["VideoStatus"]
        schema["x-vidpipe-emulator"] = {"sends": {"running": ["in_progress", "unknown"]}}

    registry = _edited(tmp_path, "apifree", change)
    clock = Clock()
    emu = emulator(specs=registry, job_seconds=10, queued_fraction=0.2, clock=clock)
    async with client(emu) as c:
        vid = (await c.post("/v1/videos", json=apifree())).json()["id"]
        seen = []
        for _ in range(5):
            clock.advance(2)
            seen.append((await c.get(f"/v1/videos/{vid}")).json()["status"])
    assert seen == ["in_progress", "in_progress", "unknown", "unknown", "completed"]


def _sends(words: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        doc["components"]["schemas"]["VideoStatus"]["x-vidpipe-emulator"] = words

    return change


def _drop_word(word: str) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        schema = doc["components"]["schemas"]["VideoStatus"]
        del schema["x-vidpipe-status"][word]
        schema["enum"].remove(word)

    return change


def _unlink_status(doc: dict[str, Any]) -> None:
    video = doc["components"]["schemas"]["Video"]
    own = video["allOf"][-1]
    own["properties"]["status"] = {"type": "string"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_sends({"sends": {"running": "completed"}}), "maps it to succeeded"),
        (_sends({"sends": {"running": "nope"}}), "maps it to nothing"),
        (_sends({"sends": {"busy": "in_progress"}}), "must map states"),
        (_sends({"speaks": {}}), "takes only sends, raw-task"),
        (_sends({"raw-task": "seedance"}), "raw-task belongs on one status schema"),
        (_drop_word("completed"), "maps no word to succeeded"),
        (_unlink_status, "names no schema with x-vidpipe-status"),
    ],
)
def test_a_spec_the_emulator_cannot_speak_is_refused_by_name(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    registry = _edited(tmp_path, "apifree", change)
    with pytest.raises(SpecError, match=message) as caught:
        dialect_for(registry["apifree"])
    assert "apifree" in str(caught.value)


def test_an_unknown_raw_task_is_refused(tmp_path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["components"]["schemas"]["SeedanceStatus"]["x-vidpipe-emulator"] = {"raw-task": "x"}

    registry = _edited(tmp_path, "anyfast_seedance", change)
    with pytest.raises(SpecError, match="known: seedance, dashscope"):
        EmbeddedEmulator(EmulatorConfig(specs=registry))


@pytest.mark.parametrize("spec", list(default_registry()), ids=lambda s: s.name)
def test_every_word_the_emulator_sends_reads_back_as_its_state(spec: Any) -> None:
    """What the runner makes of a word (the merged mapping of the whole spec) is the state
    the emulator meant by it, for every answer of every shipped spec."""
    dialect = dialect_for(spec)
    for words in (dialect.created, dialect.status, dialect.raw):
        if words is None:
            continue
        for state in TASK_STATES:
            for word in words.sends[state]:
                assert spec.normalise_status(word) == state, (words.schema, word)
