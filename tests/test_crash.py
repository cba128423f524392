"""Crash safety: a `vidpipe run` killed with SIGKILL is completed by the next `vidpipe run`.

The emulator runs on a loopback port in this process, so it outlives the killed runner, and
counts every create per request. Kills are timed by watching what the runner records (its
ledger rows, its partial download files); the emulator's job time and a download throttle
keep each window open long enough. Every test ends with one create per request and every
file checked against the bytes a clean run gives.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from vidpipe.cli import main
from vidpipe.ledger import Ledger, ShotRecord
from vidpipe.states import ShotState

from .runs import (
    LedgerWatch,
    Server,
    creates_by_fingerprint,
    expected_sha256s,
    kill,
    manifest,
    running,
    server,
    sha256_of,
    spawn,
    vidpipe,
    wait_until,
    write_tiny,
)

pytestmark = pytest.mark.e2e

SHOTS = ("kite", "field", "dusk", "night")
Condition = Callable[[dict[str, ShotRecord]], bool]


def _args(board: Path, tmp: Path, *extra: str) -> list[str]:
    return ["run", str(board), "--out", str(tmp / "out"), "--state", str(tmp / "state"), *extra]


def _crash(srv: Server, board: Path, tmp: Path, when: Condition, what: str) -> dict[str, Any]:
    """Start `vidpipe run`, SIGKILL it as soon as `when(ledger rows by shot)` holds, and
    return the rows as the killed run left them."""
    proc = spawn(_args(board, tmp, "--json"), srv.env())
    with running(proc), LedgerWatch(tmp / "state") as watch:
        wait_until(
            lambda: when({s.shot_id: s for s in watch.shots()}), proc=proc, what=what, timeout=20
        )
        kill(proc)
        assert proc.returncode == -signal.SIGKILL
        return {s.shot_id: s for s in watch.shots()}


def _resume(srv: Server, board: Path, tmp: Path) -> dict[str, Any]:
    """Run the storyboard again to the end; it must succeed."""
    done = vidpipe(_args(board, tmp, "--json"), srv.env())
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def _verify(srv: Server, tmp: Path, expected: dict[str, str]) -> None:
    """One create per request, and every file complete, recorded and the right bytes."""
    stats = srv.stats()
    assert stats["creates"]["total"] == len(SHOTS)
    assert sorted(creates_by_fingerprint(stats).values()) == [1] * len(SHOTS)
    doc = manifest(tmp / "out", "tiny")
    folder = tmp / "out" / "tiny"
    with Ledger.open(tmp / "state") as ledger:
        for shot_id in SHOTS:
            entry = doc["shots"][shot_id]
            assert sha256_of(folder / entry["file"]) == entry["sha256"] == expected[shot_id]
            record = ledger.lookup(entry["fingerprint"])
            assert record is not None and record.state == ShotState.DONE
            assert (record.sha256, record.task_id) == (entry["sha256"], entry["task_id"])
    assert sha256_of(folder / doc["final"]["file"]) == doc["final"]["sha256"]
    assert not list((tmp / "state" / "tmp").glob("*.part")), "a partial download was left"


def test_killed_after_the_creates_were_sent(tmp_path: Path) -> None:
    board = write_tiny(tmp_path / "board")
    expected = expected_sha256s(board, tmp_path / "reference")
    with server(job_seconds=1.2) as srv:

        def created(rows: dict[str, ShotRecord]) -> bool:
            return all(s in rows and rows[s].task_id for s in ("kite", "field"))

        left = _crash(srv, board, tmp_path, created, "the first creates")
        assert {s: r.state for s, r in left.items()} == {
            "kite": ShotState.RUNNING,
            "field": ShotState.RUNNING,
        }
        summary = _resume(srv, board, tmp_path)
        # The resumed run re-attached to both tasks: it created only the two remixes.
        assert {s: summary["shots"][s]["task_id"] for s in left} == {
            s: r.task_id for s, r in left.items()
        }
        assert summary["counts"] == {"done": 4}
        _verify(srv, tmp_path, expected)
    # Newest first; the killed run is not left "running" for ever.
    history = CliRunner().invoke(main, ["history", "--state", str(tmp_path / "state")])
    assert history.exit_code == 0, history.output
    _header, *runs = history.output.splitlines()
    assert [line.split()[3] for line in runs] == ["ok", "interrupted"]


def test_killed_while_waiting_for_a_remix(tmp_path: Path) -> None:
    board = write_tiny(tmp_path / "board")
    expected = expected_sha256s(board, tmp_path / "reference")
    with server(job_seconds=1.0) as srv:

        def waiting_for_dusk(rows: dict[str, ShotRecord]) -> bool:
            # Its task was created and is not finished. (Polling reads it just after the
            # finish it predicts, so the ledger may never see it "running".)
            dusk = rows.get("dusk")
            return (
                dusk is not None
                and dusk.task_id is not None
                and dusk.state in (ShotState.QUEUED, ShotState.RUNNING)
            )

        left = _crash(srv, board, tmp_path, waiting_for_dusk, "the remix's task")
        assert left["dusk"].state in (ShotState.QUEUED, ShotState.RUNNING)
        assert "night" not in left
        summary = _resume(srv, board, tmp_path)
        assert summary["shots"]["dusk"]["task_id"] == left["dusk"].task_id
        assert summary["counts"] == {"cached": 2, "done": 2}
        _verify(srv, tmp_path, expected)


def test_killed_in_the_middle_of_a_download(tmp_path: Path) -> None:
    board = write_tiny(tmp_path / "board")
    expected = expected_sha256s(board, tmp_path / "reference")
    parts = tmp_path / "state" / "tmp"
    # About 0.6 s per video: long enough to stop a download halfway.
    with server(job_seconds=0.3, download_bytes_per_second=10_000) as srv:

        def downloading(rows: dict[str, ShotRecord]) -> bool:
            return any(p.stat().st_size > 0 for p in parts.glob("*.part"))

        left = _crash(srv, board, tmp_path, downloading, "a partial download")
        partial = {p.name.split(".")[0] for p in parts.glob("*.part") if p.stat().st_size}
        cut = [r for r in left.values() if r.fingerprint in partial]
        assert cut and all(r.state == ShotState.RUNNING and r.sha256 is None for r in cut)
        _resume(srv, board, tmp_path)
        _verify(srv, tmp_path, expected)


def test_killed_while_a_create_is_in_flight_is_reported_unknown(tmp_path: Path) -> None:
    board = write_tiny(tmp_path / "board")
    # Every answer comes 0.4 s late: the run is killed between sending the creates and
    # hearing back, and the emulator creates the tasks anyway (the answers are lost).
    with server(job_seconds=0, faults="slow=1", slow_seconds=0.4) as srv:

        def submitting(rows: dict[str, ShotRecord]) -> bool:
            # Both intents recorded, and both creates received and held by the emulator.
            held = srv.stats()["faults"].get("slow", 0) >= 2
            return held and all(s in rows for s in ("kite", "field"))

        left = _crash(srv, board, tmp_path, submitting, "the creates")
        assert {r.state for r in left.values()} == {ShotState.SUBMITTING}
        wait_until(lambda: srv.stats()["creates"]["total"] == 2, what="the lost creates")
        again = vidpipe(_args(board, tmp_path, "--json"), srv.env())
        assert again.returncode == 1, again.stderr
        shots = json.loads(again.stdout)["shots"]
        assert {s: shots[s]["status"] for s in SHOTS} == {
            "kite": "unknown",
            "field": "unknown",
            "dusk": "skipped",
            "night": "skipped",
        }
        assert "--force kite" in shots["kite"]["error"]
        stats = srv.stats()
        # Nothing was sent again, and the rerun did not even poll.
        assert stats["creates"]["total"] == 2 and stats["polls"]["total"] == 0
        assert sorted(creates_by_fingerprint(stats).values()) == [1, 1]


def test_a_second_run_on_the_same_state_dir_is_refused(tmp_path: Path) -> None:
    board = write_tiny(tmp_path / "board")
    with server(job_seconds=1.0) as srv:
        first = spawn(_args(board, tmp_path), srv.env())
        with running(first), LedgerWatch(tmp_path / "state") as watch:
            wait_until(lambda: bool(watch.shots()), proc=first, what="the first run's creates")
            second = vidpipe(_args(board, tmp_path), srv.env())
            assert second.returncode == 2
            assert f"is in use by pid {first.pid}" in second.stderr
            _out, err = first.communicate(timeout=30)
            assert first.returncode == 0, err
        stats = srv.stats()
        assert stats["creates"]["total"] == len(SHOTS)
        assert sorted(creates_by_fingerprint(stats).values()) == [1] * len(SHOTS)


def test_two_runs_started_together_never_both_submit(tmp_path: Path) -> None:
    board = write_tiny(tmp_path / "board")
    with server(job_seconds=1.0) as srv:
        procs = [spawn(_args(board, tmp_path), srv.env()) for _ in range(2)]
        with running(procs[0]), running(procs[1]):
            answers = [p.communicate(timeout=30) for p in procs]
        codes = sorted(p.returncode for p in procs)
        # One holds the state dir; the other is refused (or, if it started only after the
        # first finished, finds every shot cached).
        assert codes in ([0, 2], [0, 0]), answers
        for proc, (_out, err) in zip(procs, answers, strict=True):
            if proc.returncode == 2:
                # "by pid N (argv)", or "by another process" if it has not written that yet;
                # never the advice of another state dir, which would pay for every shot twice
                assert "is in use by" in err and "Wait for that run" in err
                assert "--state DIR" not in err and "own state dir" not in err
        stats = srv.stats()
        assert stats["creates"]["total"] == len(SHOTS)
        assert sorted(creates_by_fingerprint(stats).values()) == [1] * len(SHOTS)
