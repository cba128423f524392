"""Never pay twice: reruns, edits, lost answers, running tasks, lost files, --force, --only.

Every run here goes through the whole pipeline (`pipeline.runner.run`) against an
in-process emulator whose counters say exactly what was sent.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vidpipe.api import plan
from vidpipe.cli import main
from vidpipe.ledger import Ledger
from vidpipe.manifest import RunResult
from vidpipe.states import ShotState

from .runs import (
    EXAMPLES,
    KITE_MODEL,
    TINY_DEPENDENTS,
    TINY_PROMPTS,
    InProcess,
    creates_by_fingerprint,
    in_process_env,
    load_board,
    manifest,
    run_board,
    sha256_of,
    write_tiny,
)

SHOTS = tuple(TINY_PROMPTS)


def _states(board: Path, tmp: Path) -> dict[str, str]:
    """What `vidpipe plan` says of each shot."""
    return {p.shot_id: p.state for p in plan(load_board(board), state_dir=tmp / "state")}


def _statuses(result: RunResult) -> dict[str, str]:
    return {s.shot_id: s.status for s in result.shots.values()}


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args), env=in_process_env())
    assert result.exit_code == 0, result.output
    return result


def _plan_cli(board: Path, tmp: Path) -> dict[str, str]:
    import json

    doc = json.loads(_cli("plan", str(board), "--state", str(tmp / "state"), "--json").output)
    return {shot_id: s["status"] for shot_id, s in doc["shots"].items()}


def _status_cli(board: Path, tmp: Path) -> dict[str, str]:
    import json

    doc = json.loads(_cli("status", str(board), "--state", str(tmp / "state"), "--json").output)
    return {shot_id: s["status"] for shot_id, s in doc["shots"].items()}


def test_a_rerun_of_a_finished_storyboard_sends_nothing(tmp_path: Path) -> None:
    board = write_tiny(tmp_path / "board")
    emu = InProcess.start()
    assert _states(board, tmp_path) == dict.fromkeys(SHOTS, "new")
    first = run_board(board, emu, tmp_path)
    stats = emu.take_stats()
    assert first.ok and stats["creates"]["total"] == len(SHOTS)
    assert _states(board, tmp_path) == dict.fromkeys(SHOTS, "cached")
    assert _status_cli(board, tmp_path) == dict.fromkeys(SHOTS, "cached")

    started = time.monotonic()
    again = run_board(board, emu, tmp_path)
    took = time.monotonic() - started
    stats = emu.take_stats()
    assert (stats["creates"]["total"], stats["polls"]["total"]) == (0, 0)
    assert stats["downloads"]["total"] == 0
    assert _statuses(again) == dict.fromkeys(SHOTS, "cached")
    assert took < 2.0  # nothing to wait for: only hashing the cached files
    # Same files, same tasks, and the output folder still holds every video.
    assert [(s.sha256, s.task_id) for s in again.shots.values()] == [
        (s.sha256, s.task_id) for s in first.shots.values()
    ]
    for shot in again.shots.values():
        assert shot.file is not None and sha256_of(shot.file) == shot.sha256


def test_the_example_storyboard_first_run_rerun_and_one_edit(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "example")
    board = tmp_path / "example" / "storyboard.yaml"
    emu = InProcess.start()
    first = run_board(board, emu, tmp_path)
    stats = emu.take_stats()
    assert first.ok, first.to_json()
    assert stats["creates"]["total"] == 11 and stats["creates"]["remix"] == 1  # night
    assert stats["polls"]["total"] == 11  # tasks finish at once here: one poll each

    run_board(board, emu, tmp_path)
    stats = emu.take_stats()
    assert (stats["creates"]["total"], stats["polls"]["total"]) == (0, 0)

    # `night` remixes `establish`: editing `establish` makes exactly those two again.
    text = board.read_text()
    board.write_text(text.replace("walks slowly between", "trots between"))
    edited = run_board(board, emu, tmp_path)
    stats = emu.take_stats()
    assert stats["creates"]["total"] == 2 and stats["polls"]["total"] == 2
    assert {s for s, st in _statuses(edited).items() if st == "done"} == {"establish", "night"}
    assert edited.ok and edited.final is not None and edited.final.file is not None


@pytest.mark.parametrize("edited", SHOTS)
def test_editing_one_prompt_recreates_that_shot_and_its_dependents(
    tmp_path: Path, edited: str
) -> None:
    board = write_tiny(tmp_path / "board")
    emu = InProcess.start()
    first = run_board(board, emu, tmp_path)
    before = creates_by_fingerprint(emu.take_stats())
    write_tiny(tmp_path / "board", prompts={edited: TINY_PROMPTS[edited] + ", in the rain"})
    remade = {edited} | TINY_DEPENDENTS[edited]
    assert {s for s, st in _states(board, tmp_path).items() if st == "new"} == remade
    second = run_board(board, emu, tmp_path)
    stats = emu.take_stats()
    assert stats["creates"]["total"] == len(remade)
    # Every create is a request never sent before.
    assert not set(creates_by_fingerprint(stats)) & set(before)
    assert {s for s, st in _statuses(second).items() if st == "done"} == remade
    assert {s for s, st in _statuses(second).items() if st == "cached"} == set(SHOTS) - remade
    changed = {
        a.shot_id
        for a, b in zip(first.shots.values(), second.shots.values(), strict=True)
        if a.sha256 != b.sha256
    }
    assert changed == remade


def test_a_lost_create_answer_is_unknown_and_only_sent_again_when_forced(
    tmp_path: Path,
) -> None:
    board = write_tiny(tmp_path / "board")
    tasks = tmp_path / "emulator"
    # Every create reaches the emulator, which makes the task and drops the connection.
    lossy = InProcess.start(faults="reset=1", reset_after_create=True, store_dir=tasks)
    first = run_board(board, lossy, tmp_path)
    assert lossy.stats()["creates"]["total"] == 2  # kite and field; their remixes wait
    assert _statuses(first) == {
        "kite": "unknown",
        "field": "unknown",
        "dusk": "skipped",
        "night": "skipped",
    }
    expected = {"kite": "unknown", "field": "unknown", "dusk": "new", "night": "new"}
    assert _states(board, tmp_path) == expected
    assert _plan_cli(board, tmp_path) == expected
    assert _status_cli(board, tmp_path) == expected
    planned_kite = plan(load_board(board), state_dir=tmp_path / "state")[0]
    assert planned_kite.task_id is None and "answer was lost" in str(planned_kite.error)

    emu = InProcess.start(store_dir=tasks)  # the same tasks, and no more faults
    again = run_board(board, emu, tmp_path)
    stats = emu.take_stats()
    assert stats["creates"]["total"] == 0 and stats["polls"]["total"] == 0
    assert _statuses(again) == _statuses(first)
    assert "--force kite" in str(again["kite"].error)

    forced = run_board(board, emu, tmp_path, force=("kite",))
    stats = emu.take_stats()
    assert stats["creates"]["by_model"] == {KITE_MODEL: 1}  # kite only: field stays unknown
    assert _statuses(forced)["kite"] == "done" and _statuses(forced)["field"] == "unknown"
    with Ledger.open(tmp_path / "state") as ledger:
        kite = ledger.lookup(str(forced["kite"].fingerprint))
        assert kite is not None and kite.state == ShotState.DONE
        # The audit log keeps the lost attempt that --force set aside.
        kinds = [e.kind for e in ledger.events(kite.fingerprint)]
        assert kinds[:4] == ["intent", "sent", "unknown", "forget"]


def test_a_running_task_is_reattached_not_created_again(tmp_path: Path) -> None:
    board = write_tiny(tmp_path / "board")
    tasks = tmp_path / "emulator"
    slow = InProcess.start(job_seconds=1000, store_dir=tasks)
    # A zero poll deadline stops the run after the first poll of each task.
    first = run_board(board, slow, tmp_path, poll_deadline=0)
    assert slow.stats()["creates"]["total"] == 2
    assert _statuses(first) == {
        "kite": "failed",
        "field": "failed",
        "dusk": "skipped",
        "night": "skipped",
    }
    expected = {"kite": "running", "field": "running", "dusk": "new", "night": "new"}
    assert _states(board, tmp_path) == expected
    assert _status_cli(board, tmp_path) == expected
    planned = plan(load_board(board), state_dir=tmp_path / "state")
    assert [p.task_id for p in planned] == [first[s].task_id for s in ("kite", "field")] + [
        None,
        None,
    ]

    # Later: the same tasks (the emulator's clock is an hour on), finished now.
    later = InProcess.start(store_dir=tasks, clock=lambda: time.time() + 3600)
    second = run_board(board, later, tmp_path)
    stats = later.take_stats()
    assert second.ok
    assert stats["creates"]["total"] == 2 and stats["creates"]["remix"] == 2
    for before, after in ((first[s], second[s]) for s in ("kite", "field")):
        assert after.task_id == before.task_id and stats["polls"]["by_task"][after.task_id] == 1


def test_a_done_shot_whose_file_is_gone_is_downloaded_again(tmp_path: Path) -> None:
    board = write_tiny(tmp_path / "board")
    emu = InProcess.start()
    first = run_board(board, emu, tmp_path)
    emu.take_stats()
    shutil.rmtree(tmp_path / "state" / "cache")
    shutil.rmtree(tmp_path / "out")
    assert _states(board, tmp_path) == dict.fromkeys(SHOTS, "download")
    again = run_board(board, emu, tmp_path)
    stats = emu.take_stats()
    assert again.ok
    # One status call per task for its video URL, one download each, and no create.
    assert stats["creates"]["total"] == 0
    assert stats["polls"]["total"] == len(SHOTS) and stats["downloads"]["total"] == len(SHOTS)
    assert [(s.task_id, s.sha256) for s in again.shots.values()] == [
        (s.task_id, s.sha256) for s in first.shots.values()
    ]
    assert _states(board, tmp_path) == dict.fromkeys(SHOTS, "cached")


def test_expired_content_is_reported_and_regenerated_only_when_forced(tmp_path: Path) -> None:
    board = write_tiny(tmp_path / "board")
    tasks = tmp_path / "emulator"
    run_board(board, InProcess.start(store_dir=tasks), tmp_path)
    shutil.rmtree(tmp_path / "state" / "cache")
    # A day and a bit later the provider no longer serves the videos.
    emu = InProcess.start(store_dir=tasks, clock=lambda: time.time() + 90_000)
    for _ in range(2):  # a plain rerun asks for --force, again and again
        result = run_board(board, emu, tmp_path)
        stats = emu.take_stats()
        assert stats["creates"]["total"] == 0
        assert _statuses(result) == {
            "kite": "expired",
            "field": "expired",
            "dusk": "skipped",
            "night": "skipped",
        }
        assert "--force kite" in str(result["kite"].error)
    assert _states(board, tmp_path)["kite"] == "expired"
    forced = run_board(board, emu, tmp_path, force_all=True)
    stats = emu.take_stats()
    assert forced.ok and stats["creates"]["total"] == len(SHOTS)


def test_force_regenerates_the_named_shot_and_what_is_built_on_it(tmp_path: Path) -> None:
    board = write_tiny(tmp_path / "board")
    emu = InProcess.start()
    first = run_board(board, emu, tmp_path)
    emu.take_stats()
    forced = run_board(board, emu, tmp_path, force=("dusk",))
    stats = emu.take_stats()
    # dusk again, and night, which remixes dusk: it is made from dusk's new task.
    assert stats["creates"]["total"] == 2 and stats["creates"]["remix"] == 2
    assert _statuses(forced) == {
        "kite": "cached",
        "field": "cached",
        "dusk": "done",
        "night": "done",
    }
    assert forced["dusk"].task_id != first["dusk"].task_id
    assert forced["night"].source_task == forced["dusk"].task_id
    # The emulator renders the same request to the same bytes.
    assert forced["dusk"].sha256 == first["dusk"].sha256

    everything = run_board(board, emu, tmp_path, force_all=True)
    stats = emu.take_stats()
    assert stats["creates"]["total"] == len(SHOTS)
    assert _statuses(everything) == dict.fromkeys(SHOTS, "done")


def test_only_runs_the_named_shots_and_their_sources(tmp_path: Path) -> None:
    board = write_tiny(tmp_path / "board")
    emu = InProcess.start()
    partial = run_board(board, emu, tmp_path, only=("dusk",))
    stats = emu.take_stats()
    assert [s.shot_id for s in partial.shots.values()] == ["field", "dusk"]
    assert stats["creates"]["total"] == 2
    assert partial.final_status == "stale"  # kite and night have no video yet
    assert _states(board, tmp_path) == {
        "kite": "new",
        "field": "cached",
        "dusk": "cached",
        "night": "new",
    }
    rest = run_board(board, emu, tmp_path)
    stats = emu.take_stats()
    assert stats["creates"]["total"] == 2  # kite and night
    assert _statuses(rest) == {"kite": "done", "field": "cached", "dusk": "cached", "night": "done"}


def test_shots_with_identical_requests_share_one_task(tmp_path: Path) -> None:
    board = write_tiny(tmp_path / "board")
    text = board.read_text().replace(
        "  - id: dusk\n",
        f'  - id: field_again\n    prompt: "{TINY_PROMPTS["field"]}"\n  - id: dusk\n',
    )
    board.write_text(text)
    emu = InProcess.start()
    result = run_board(board, emu, tmp_path)
    stats = emu.take_stats()
    assert result.ok and stats["creates"]["total"] == len(SHOTS)
    by_id = {s.shot_id: s for s in result.shots.values()}
    assert by_id["field_again"].fingerprint == by_id["field"].fingerprint
    assert {by_id["field"].status, by_id["field_again"].status} == {"done", "cached"}
    assert by_id["field_again"].sha256 == by_id["field"].sha256


def test_a_cached_remix_survives_its_source_going_missing(tmp_path: Path) -> None:
    board = write_tiny(tmp_path / "board")
    tasks = tmp_path / "emulator"
    first = run_board(board, InProcess.start(store_dir=tasks), tmp_path)
    # Only field's file is lost, and its content has expired since.
    with Ledger.open(tmp_path / "state") as ledger:
        field = ledger.lookup(str(first["field"].fingerprint))
        assert field is not None and field.path is not None
    Path(field.path).unlink()
    emu = InProcess.start(store_dir=tasks, clock=lambda: time.time() + 90_000)
    again = run_board(board, emu, tmp_path)
    assert emu.stats()["creates"]["total"] == 0
    assert _statuses(again) == {
        "kite": "cached",
        "field": "expired",
        "dusk": "cached",
        "night": "cached",
    }
    assert manifest(tmp_path / "out", "tiny")["shots"]["dusk"]["sha256"] == first["dusk"].sha256


def test_remixes_recorded_before_lineage_are_adopted_not_paid_again(tmp_path: Path) -> None:
    """A ledger from before a remix's fingerprint named its source's task: its remix rows
    are keyed by the older fingerprints. They are adopted while their source is the task
    they were made from, and made again once it is not."""
    import sqlite3

    from vidpipe.requests import build_requests
    from vidpipe.runner import fingerprints
    from vidpipe.specs import default_registry

    board = write_tiny(tmp_path / "board")
    emu = InProcess.start()
    first = run_board(board, emu, tmp_path)
    emu.take_stats()
    loaded = load_board(board)
    legacy = fingerprints(loaded, build_requests(loaded, default_registry()))
    conn = sqlite3.connect(tmp_path / "state" / "ledger.sqlite3")
    for shot_id in ("dusk", "night"):
        conn.execute(
            "UPDATE shots SET fingerprint = ?, source_task = NULL WHERE fingerprint = ?",
            (legacy[shot_id], first[shot_id].fingerprint),
        )
    conn.execute("UPDATE shots SET legacy = 1")
    conn.commit()
    conn.close()
    assert _states(board, tmp_path) == dict.fromkeys(SHOTS, "cached")
    again = run_board(board, emu, tmp_path)
    assert emu.take_stats()["creates"]["total"] == 0
    assert _statuses(again) == dict.fromkeys(SHOTS, "cached")
    assert again["night"].source_task == first["dusk"].task_id
    with Ledger.open(tmp_path / "state") as ledger:
        dusk = ledger.lookup(str(first["dusk"].fingerprint))
        assert dusk is not None and dusk.source_task == first["field"].task_id
    forced = run_board(board, emu, tmp_path, force=("field",))
    assert emu.take_stats()["creates"]["total"] == 3  # field, and both remixes built on it
    assert forced["dusk"].source_task == forced["field"].task_id != first["field"].task_id


def test_a_fully_cached_rerun_keeps_the_timings_of_the_run_that_made_each_shot(
    tmp_path: Path,
) -> None:
    import json

    board = write_tiny(tmp_path / "board")
    emu = InProcess.start()
    first = run_board(board, emu, tmp_path)
    again = run_board(board, emu, tmp_path)
    assert _statuses(again) == dict.fromkeys(SHOTS, "cached")
    doc = manifest(tmp_path / "out", "tiny")
    for shot_id in SHOTS:
        entry = doc["shots"][shot_id]
        made = {k: round(v, 3) for k, v in first[shot_id].timings.items()}
        assert entry["timings"] == made and entry["made_in_run"] == first.run_id
        assert made["submitted"] > 0
    # Paths are relative: the output folder can be moved with its manifest.
    assert doc["storyboard"] == "../../board/tiny.yaml"
    assert (tmp_path / "out" / "tiny" / doc["storyboard"]).resolve() == board.resolve()
    assert all(e["file"] == f"{s}.mp4" for s, e in doc["shots"].items())
    report = (tmp_path / "out" / "tiny" / "report.html").read_text()
    assert f"made in run #{first.run_id}: submitted" in report
    positions = [report.index(f"<strong>{s}</strong>") for s in SHOTS]
    assert positions == sorted(positions)  # storyboard order
    assert json.loads(json.dumps(doc))["final"]["inputs"] == [
        doc["shots"][s]["sha256"] for s in SHOTS
    ]
