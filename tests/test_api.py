"""The Python API as a notebook user meets it: paths as str, a running event loop, results
by shot id in the shape `vidpipe run --json` prints, one list of exported names."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import vidpipe
from vidpipe.cli import main
from vidpipe.errors import InputError
from vidpipe.runner import RunOptions, run_async

from .test_cli import TINY

FAST = vidpipe.embedded_emulator(job_seconds=0)


def board(tmp_path: Path, text: str = TINY) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(text)
    return path


def options(tmp_path: Path) -> vidpipe.RunOptions:
    """Paths given as plain strings, as a notebook user types them."""
    return vidpipe.RunOptions(
        out_dir=str(tmp_path / "out"), state_dir=str(tmp_path / "state"), gateway=FAST
    )


def test_run_options_take_str_paths_and_any_sequence(tmp_path: Path) -> None:
    opts = vidpipe.RunOptions(out_dir="x", state_dir=os.fspath(tmp_path), only=["a"])
    assert opts.out_dir == Path("x") and opts.state_dir == tmp_path
    assert opts.only == ("a",) and vidpipe.RunOptions().state_dir is None


def test_run_from_a_str_path_gives_results_by_shot_id(tmp_path: Path) -> None:
    result = vidpipe.run(str(board(tmp_path)), options(tmp_path))
    assert result.ok and list(result.shots) == ["one", "two", "three"]
    assert result["one"] is result.shots["one"] and result["one"].status == "done"
    assert result["three"].file == tmp_path / "out" / "tiny" / "three.mp4"
    assert result.counts == {"done": 3}
    with pytest.raises(KeyError):
        result["nope"]


def test_a_results_repr_counts_its_shots_instead_of_listing_them(tmp_path: Path) -> None:
    # asyncio.run (Python 3.11) builds the repr of its task's result as it ends: for a run
    # of 2,000 shots a full repr took almost 2 MB, twice, at the run's memory peak.
    result = vidpipe.run(str(board(tmp_path)), options(tmp_path))
    shown = repr(result)
    assert "shots=<3 shots, 3 done>" in shown and "others=<0 shots>" in shown
    assert "order=<3 shot ids>" in shown and "name='tiny'" in shown
    assert "ShotResult(" not in shown and "prompt=" not in shown


def test_the_result_has_the_shape_of_run_json(tmp_path: Path) -> None:
    path = board(tmp_path)
    cli = CliRunner().invoke(
        main,
        ["run", str(path), "--out", str(tmp_path / "cli"), "--job-seconds", "0", "--json"],
        catch_exceptions=False,
    )
    printed = json.loads(cli.stdout)
    again = vidpipe.run(path, vidpipe.RunOptions(out_dir=tmp_path / "cli", gateway=FAST))
    doc = again.to_json()
    assert doc.keys() == printed.keys()
    assert doc["counts"] == again.counts == {"cached": 3} and printed["counts"] == {"done": 3}
    for shot_id, entry in printed["shots"].items():
        assert doc["shots"][shot_id] == again[shot_id].to_json()
        assert entry.keys() == doc["shots"][shot_id].keys()
        assert entry["sha256"] == again[shot_id].sha256


def test_plan_status_and_run_json_share_one_shape(tmp_path: Path) -> None:
    path = board(tmp_path)
    invoke = CliRunner().invoke
    ran = json.loads(
        invoke(
            main, ["run", str(path), "--out", str(tmp_path), "--job-seconds", "0", "--json"]
        ).stdout
    )
    planned = json.loads(invoke(main, ["plan", str(path), "--json"]).stdout)
    status = json.loads(invoke(main, ["status", str(path), "--json"]).stdout)
    for doc in (ran, planned, status):
        assert doc["name"] == "tiny" and list(doc["shots"]) == ["one", "two", "three"]
        assert {s["status"] for s in doc["shots"].values()} <= {"done", "cached"}
        assert all(s["task_id"] for s in doc["shots"].values())
    assert {s["status"] for s in planned["shots"].values()} == {"cached"}
    assert status["shots"]["two"].items() <= planned["shots"]["two"].items()


async def test_run_inside_a_running_event_loop(tmp_path: Path) -> None:
    loop_thread = threading.get_ident()
    seen: set[int] = set()
    result = vidpipe.run(
        board(tmp_path), options(tmp_path), on_event=lambda e: seen.add(threading.get_ident())
    )
    assert result.ok and result.counts == {"done": 3}
    # asyncio.run cannot nest: the run had a thread (and a loop) of its own.
    assert seen and loop_thread not in seen
    asyncio.get_running_loop()  # this loop is untouched and still running


async def test_run_async_takes_a_path(tmp_path: Path) -> None:
    result = await vidpipe.run_async(board(tmp_path), options(tmp_path))
    assert result.ok and result["two"].status == "done"
    again = await vidpipe.run_async(str(board(tmp_path)), options(tmp_path))
    assert again.counts == {"cached": 3}


def test_plan_takes_a_path_and_sends_nothing(tmp_path: Path) -> None:
    planned = vidpipe.plan(str(board(tmp_path)), state_dir=str(tmp_path / "state"))
    assert [(p.shot_id, p.state) for p in planned] == [
        ("one", "new"),
        ("two", "new"),
        ("three", "new"),
    ]
    assert not (tmp_path / "state").exists()


def test_the_public_run_uses_the_embedded_emulator_by_default(tmp_path: Path) -> None:
    one_shot = TINY.split("  - id: two")[0].replace("final: {concat: [one, two, three]}", "")
    result = vidpipe.run(board(tmp_path, one_shot), vidpipe.RunOptions(out_dir=tmp_path / "o"))
    assert result.ok and result["one"].status == "done"


async def test_the_runner_alone_needs_a_gateway_for_embedded_providers(tmp_path: Path) -> None:
    storyboard = vidpipe.load(board(tmp_path))
    with pytest.raises(InputError) as info:
        await run_async(storyboard, RunOptions(out_dir=tmp_path / "out"))
    assert [p.line for p in info.value.problems] == [5, 6]
    assert all("base_url: embedded" in str(p) for p in info.value.problems)
    assert not (tmp_path / "out").exists() and not (tmp_path / ".vidpipe").exists()


def test_one_list_of_exported_names() -> None:
    assert vidpipe.__all__[0] == "__version__" and len(set(vidpipe.__all__)) == len(vidpipe.__all__)
    assert dir(vidpipe) == sorted(vidpipe.__all__)
    for name in vidpipe.__all__:
        assert getattr(vidpipe, name) is not None, name
    with pytest.raises(AttributeError):
        vidpipe.no_such_name  # noqa: B018
