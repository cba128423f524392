"""What a rerun does: one test per case of the ledger's promise (never pay twice, never a
wrong cut), each through the `vidpipe` command against a loopback emulator.

Every test counts creates per distinct request at the emulator (`/_emulator/stats`), checks
the files' sha256 against a clean run's (the emulator renders the same request to the same
bytes), the manifest's lineage and the exit codes. Most runs are in-process (`CliRunner`);
the interrupted and concurrent ones are real processes.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from vidpipe.api import plan
from vidpipe.cli import main
from vidpipe.ledger import LEDGER_FILENAME, Ledger
from vidpipe.loading import load
from vidpipe.states import ShotState

from .runs import (
    LedgerWatch,
    Server,
    creates_by_fingerprint,
    running,
    server,
    sha256_of,
    spawn,
    wait_until,
    write_tiny,
)

pytestmark = pytest.mark.e2e

SHOTS = ("kite", "field", "dusk", "night")
ONLY_KITE_FAILED = {"kite": "failed", "field": "done", "dusk": "done", "night": "done"}

#: One shot of each API family: /v1/videos (newapi) and /v1/video/generations (seedance).
MIXED = """\
version: 1
name: mixed
seed: 3
providers:
  gateway: {api: newapi, base_url: "${NEWAPI_BASE_URL}", api_key: "${NEWAPI_API_KEY}"}
  fast: {api: anyfast, base_url: "${ANYFAST_BASE_URL}", api_key: "${ANYFAST_API_KEY}"}
shots:
  - id: kite
    provider: gateway
    model: veo3
    prompt: a red kite over a beach
    duration: 1
    size: 64x48
  - id: wave
    provider: fast
    model: seedance-fast
    prompt: a wave breaking on rocks
    duration: 1
    resolution: 480p
    ratio: "1:1"
"""


#: Two shots on a provider that takes one request an hour: the second create waits its turn.
RATED = """\
version: 1
name: rated
seed: 5
providers:
  gateway: {api: newapi, base_url: "${NEWAPI_BASE_URL}", api_key: "${NEWAPI_API_KEY}", rate: 1/hour}
defaults: {provider: gateway, model: veo3, duration: 1, size: 64x48}
shots:
  - {id: first, prompt: a red kite}
  - {id: second, prompt: a blue kite}
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_tiny(tmp_path / "board")


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    path = tmp_path / "board" / "mixed.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MIXED)
    return path


def args(board: Path, tmp: Path, *extra: str, state: str = "state") -> list[str]:
    return ["run", str(board), "--out", str(tmp / "out"), "--state", str(tmp / state), *extra]


def cli(srv: Server, *argv: str) -> Result:
    """`vidpipe ARGV` in this process, pointed at `srv`."""
    return CliRunner(env=srv.env()).invoke(main, list(argv), catch_exceptions=False)


def run_json(srv: Server, board: Path, tmp: Path, *extra: str, code: int = 0) -> dict[str, Any]:
    result = cli(srv, *args(board, tmp, "--json", *extra))
    assert result.exit_code == code, result.output
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def manifest_of(tmp: Path, name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((tmp / "out" / name / "manifest.json").read_text())
    return doc


def statuses(summary: dict[str, Any]) -> dict[str, str]:
    return {s: v["status"] for s, v in summary["shots"].items()}


def one_create_each(srv: Server, requests: int) -> dict[str, Any]:
    """The emulator made exactly one task per distinct request, `requests` in all."""
    stats = srv.stats()
    by_request = creates_by_fingerprint(stats)
    assert sorted(by_request.values()) == [1] * requests, by_request
    assert stats["creates"]["total"] == requests
    return stats


def reference(board: Path, tmp: Path) -> dict[str, str]:
    """Each shot's sha256 from a clean run on a fault-free emulator."""
    with server(job_seconds=0) as clean:
        summary = run_json(clean, board, tmp / "reference")
    return {s: v["sha256"] for s, v in summary["shots"].items()}


def planned(srv: Server, board: Path, tmp: Path) -> dict[str, dict[str, Any]]:
    result = cli(srv, "plan", str(board), "--state", str(tmp / "state"), "--json")
    assert result.exit_code == 0, result.output
    shots: dict[str, dict[str, Any]] = json.loads(result.stdout)["shots"]
    return shots


def fingerprint_of(srv: Server, board: Path, tmp: Path, shot_id: str) -> str:
    shots = plan(load(board, env=srv.env()), state_dir=tmp / "state")
    found = next(p.fingerprint for p in shots if p.shot_id == shot_id)
    assert found is not None
    return found


# -- 1. a create whose answer was lost is never sent again ----------------------------------


@pytest.mark.parametrize("fault", ["created-502", "created-504-json", "reset"])
def test_1_a_lost_create_answer_is_unknown_and_never_sent_again(
    mixed: Path, tmp_path: Path, fault: str
) -> None:
    with server(job_seconds=0, faults=f"{fault}=1") as srv:
        first = run_json(srv, mixed, tmp_path, code=1)
        # Both families: the task was made, its answer lost, and nothing was sent again.
        assert statuses(first) == {"kite": "unknown", "wave": "unknown"}
        one_create_each(srv, 2)
        error = first["shots"]["kite"]["error"]
        assert "may have been taken" in error and "--force kite" in error
        assert "pays twice" in error
        again = run_json(srv, mixed, tmp_path, code=1)  # a plain rerun: still nothing sent
        assert statuses(again) == statuses(first)
        stats = one_create_each(srv, 2)
        assert stats["polls"]["total"] == 0
        assert {s: p["status"] for s, p in planned(srv, mixed, tmp_path).items()} == {
            "kite": "unknown",
            "wave": "unknown",
        }


def test_1_a_create_that_never_left_is_simply_sent_by_the_next_run(tmp_path: Path) -> None:
    """Killed while a create waits for its turn (the provider allows one request an hour):
    its intent is recorded but its request never left, so the next run simply sends it."""
    board = tmp_path / "board" / "rated.yaml"
    board.parent.mkdir(parents=True)
    board.write_text(RATED)
    with server(job_seconds=0) as srv:
        proc = spawn(args(board, tmp_path), srv.env())
        with running(proc), LedgerWatch(tmp_path / "state") as watch:

            def one_waits() -> bool:
                rows = {s.shot_id: s for s in watch.shots()}
                return len(rows) == 2 and any(r.task_id for r in rows.values())

            wait_until(one_waits, proc=proc, what="a create waiting for its turn", timeout=20)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            rows = {s.shot_id: s for s in watch.shots()}
        (held,) = [r for r in rows.values() if r.state == ShotState.SUBMITTING]
        assert held.sent_at is None  # the intent only: nothing left this machine
        assert srv.stats()["creates"]["total"] == 1
        assert planned(srv, board, tmp_path)[held.shot_id]["status"] == "new"
        board.write_text(RATED.replace(", rate: 1/hour", ""))
        done = run_json(srv, board, tmp_path)
        assert statuses(done) == {"first": "done", "second": "done"}
        one_create_each(srv, 2)


# -- 2. --force is a recorded intent ---------------------------------------------------------


def test_2_an_interrupted_forced_run_resumes_its_new_tasks(tiny: Path, tmp_path: Path) -> None:
    with server(job_seconds=0.5) as srv:
        first = run_json(srv, tiny, tmp_path)
        old = {s: v["task_id"] for s, v in first["shots"].items()}
        proc = spawn(args(tiny, tmp_path, "--force-all", "--json"), srv.env())
        with running(proc), LedgerWatch(tmp_path / "state") as watch:

            def new_tasks() -> bool:
                rows = {s.shot_id: s for s in watch.shots()}
                return all(
                    s in rows and rows[s].task_id not in (None, old[s]) for s in ("kite", "field")
                )

            wait_until(new_tasks, proc=proc, what="the forced creates", timeout=20)
            os.kill(proc.pid, signal.SIGINT)  # Ctrl-C
            _out, err = proc.communicate(timeout=20)
            assert proc.returncode == 130, err
            assert "run the same command again" in err
            left = {s.shot_id: s.task_id for s in watch.shots() if s.task_id not in old.values()}
        made = srv.stats()["creates"]["total"]
        assert 6 <= made <= 8  # the four first creates, and at least kite and field forced
        # The same command again resumes the forced run: no shot is created a third time.
        resumed = run_json(srv, tiny, tmp_path, "--force-all")
        for shot_id, task in left.items():
            assert resumed["shots"][shot_id]["task_id"] == task
        stats = srv.stats()
        assert stats["creates"]["total"] == 8
        # kite and field twice (the same request); a remix's request names its new source
        assert sorted(creates_by_fingerprint(stats).values()) == [1, 1, 1, 1, 2, 2]
        assert all(resumed["shots"][s]["task_id"] != old[s] for s in SHOTS)
        # That run completed: the same command now forces again, as it says.
        again = run_json(srv, tiny, tmp_path, "--force-all")
        assert statuses(again) == dict.fromkeys(SHOTS, "done")
        assert srv.stats()["creates"]["total"] == 12


# -- 3. lineage: regenerating a source regenerates what is built on it -----------------------


def test_3_forcing_a_source_remakes_its_remixes_from_the_new_task(
    tiny: Path, tmp_path: Path
) -> None:
    with server(job_seconds=0) as srv:
        first = run_json(srv, tiny, tmp_path)
        alone = cli(srv, *args(tiny, tmp_path, "--force", "field", "--only", "field"))
        assert alone.exit_code == 0, alone.output
        field = manifest_of(tmp_path, "tiny")["shots"]["field"]["task_id"]
        assert field != first["shots"]["field"]["task_id"]
        shown = planned(srv, tiny, tmp_path)
        assert shown["dusk"]["status"] == "new"
        assert shown["dusk"]["reason"].startswith("source regenerated: field is now task")
        assert (
            shown["night"]["status"] == "new" and "once dusk has a task" in shown["night"]["reason"]
        )
        assert shown["kite"]["status"] == "cached"
        done = run_json(srv, tiny, tmp_path)
        assert statuses(done) == {
            "kite": "cached",
            "field": "cached",
            "dusk": "done",
            "night": "done",
        }
        stats = srv.stats()
        assert stats["creates"]["total"] == 4 + 3  # field, dusk and night once more each
        assert stats["creates"]["remix"] == 4
        doc = manifest_of(tmp_path, "tiny")["shots"]
        # The manifest names the source task each remix was really made from.
        assert doc["dusk"]["remix_task_id"] == doc["field"]["task_id"] == field
        assert doc["night"]["remix_task_id"] == doc["dusk"]["task_id"]
        assert doc["dusk"]["task_id"] != first["shots"]["dusk"]["task_id"]


# -- 4. the manifest, report and final cut describe the whole storyboard --------------------


def test_4_only_keeps_the_others_and_the_final_cut_is_never_out_of_date(
    tiny: Path, tmp_path: Path
) -> None:
    with server(job_seconds=0) as srv:
        run_json(srv, tiny, tmp_path)
        final = tmp_path / "out" / "tiny" / "final.mp4"
        cut = sha256_of(final)
        only = run_json(srv, tiny, tmp_path, "--only", "kite")
        assert list(only["shots"]) == ["kite"]
        doc = manifest_of(tmp_path, "tiny")
        assert list(doc["shots"]) == list(SHOTS)  # storyboard order, every shot
        assert {s: e["in_run"] for s, e in doc["shots"].items()} == {
            "kite": True,
            "field": False,
            "dusk": False,
            "night": False,
        }
        assert {e["status"] for e in doc["shots"].values()} == {"cached"}
        assert doc["final"]["status"] == "done" and sha256_of(final) == cut
        report = (tmp_path / "out" / "tiny" / "report.html").read_text()
        assert [report.index(f"<strong>{s}</strong>") for s in SHOTS] == sorted(
            report.index(f"<strong>{s}</strong>") for s in SHOTS
        )
        assert report.count("not in this run</span>") == 3

        # An edited shot, run alone: the final cut is made again with its new video.
        write_tiny(tiny.parent, prompts={"kite": "a green kite over a beach"})
        edited = run_json(srv, tiny, tmp_path, "--only", "kite")
        assert edited["final"]["status"] == "done"
        assert sha256_of(final) == edited["final"]["sha256"] != cut
        doc = manifest_of(tmp_path, "tiny")
        assert doc["final"]["inputs"][0] == edited["shots"]["kite"]["sha256"]

        # A shot edited but not run: it has no video for its request, so there is no cut.
        write_tiny(
            tiny.parent,
            prompts={"kite": "a green kite over a beach", "night": "the field at midnight"},
        )
        stale = run_json(srv, tiny, tmp_path, "--only", "kite")
        assert stale["final"]["status"] == "stale" and "night" in stale["final"]["error"]
        assert not final.exists()
        doc = manifest_of(tmp_path, "tiny")
        assert doc["shots"]["night"]["status"] == "skipped"
        assert doc["shots"]["night"]["in_run"] is False
        assert srv.stats()["creates"]["total"] == 5  # the four, and the edited kite


def done_despite(fault: str, board: Path, tmp: Path) -> dict[str, Any]:
    """Run `board` on an emulator with `fault`: every shot done, one create each, the bytes
    of a clean run. Returns the emulator's counters."""
    expected = reference(board, tmp)
    with server(job_seconds=0, faults=fault) as srv:
        done = run_json(srv, board, tmp)
        assert set(statuses(done).values()) == {"done"}
        for shot_id, entry in done["shots"].items():
            assert sha256_of(Path(entry["file"])) == entry["sha256"] == expected[shot_id]
        return one_create_each(srv, len(expected))


# -- 5. a result URL that refuses for a while ------------------------------------------------


@pytest.mark.parametrize("fault", ["url-403=1x2", "url-404=1x2"])
def test_5_a_refusing_result_url_is_refreshed_not_called_expired(
    mixed: Path, tmp_path: Path, fault: str
) -> None:
    stats = done_despite(fault, mixed, tmp_path)
    assert stats["faults"][fault.split("=")[0]] >= 4  # every URL refused, twice
    assert stats["polls"]["total"] > 2  # a fresh status read for a new URL after a refusal


# -- 6. status reads that keep failing, and a deadline counted from creation ---------------


@pytest.mark.parametrize("fault", ["burst-502=1x8", "burst-429=1x8"])
def test_6_a_long_burst_of_failing_status_reads_does_not_fail_a_paid_task(
    mixed: Path, tmp_path: Path, fault: str
) -> None:
    stats = done_despite(fault, mixed, tmp_path)
    # Eight status reads in a row refused for each task (more than the poll scope's six
    # attempts), then the read that answered.
    assert stats["faults"][fault.split("=")[0]] == 16


def test_6_the_poll_deadline_counts_from_the_tasks_creation(mixed: Path, tmp_path: Path) -> None:
    with server(job_seconds=60) as srv:
        first = run_json(srv, mixed, tmp_path, "--poll-deadline", "0.4", code=1)
        for shot in first["shots"].values():
            assert shot["status"] == "failed" and "rerun to keep waiting" in shot["error"]
        tasks = {s: v["task_id"] for s, v in first["shots"].items()}
        srv.reset_stats()
        # The deadline has passed since the tasks were created: one look each, no waiting.
        again = run_json(srv, mixed, tmp_path, "--poll-deadline", "0.4", code=1)
        assert {s: v["task_id"] for s, v in again["shots"].items()} == tasks
        stats = srv.stats()
        assert stats["creates"]["total"] == 0
        assert sorted(stats["polls"]["by_task"].values()) == [1, 1]
        with Ledger.open(tmp_path / "state") as ledger:
            kept = {r.task_id for r in ledger.in_flight() if r.state == ShotState.RUNNING}
        assert kept == set(tasks.values())  # the tasks are kept for the next run


# -- 7. locks: the state dir and the output folder ------------------------------------------


def test_7_a_second_state_dir_on_the_same_output_folder_is_refused(
    tiny: Path, tmp_path: Path
) -> None:
    with server(job_seconds=0.6) as srv:
        proc = spawn(args(tiny, tmp_path), srv.env())
        with running(proc), LedgerWatch(tmp_path / "state") as watch:
            wait_until(lambda: bool(watch.shots()), proc=proc, what="the first run's creates")
            busy = cli(srv, *args(tiny, tmp_path, state="other"))
            assert busy.exit_code == 2
            assert "output folder" in busy.stderr and f"pid {proc.pid}" in busy.stderr
            assert "--state DIR" not in busy.stderr and "own state dir" not in busy.stderr
            _out, err = proc.communicate(timeout=30)
            assert proc.returncode == 0, err
        # Later, too: that state dir records the folder's tasks; another would pay again.
        later = cli(srv, *args(tiny, tmp_path, state="other"))
        assert later.exit_code == 2
        assert f"belongs to state dir {tmp_path / 'state'}" in later.stderr
        assert f"--state {tmp_path / 'state'}" in later.stderr
        one_create_each(srv, len(SHOTS))


# -- 8. a lost ledger is rebuilt from the manifest and the verified files -------------------


@pytest.mark.parametrize("loss", ["emptied", "deleted"])
def test_8_a_lost_ledger_is_rebuilt_not_paid_again(tiny: Path, tmp_path: Path, loss: str) -> None:
    with server(job_seconds=0) as srv:
        first = run_json(srv, tiny, tmp_path)
        ledger = tmp_path / "state" / LEDGER_FILENAME
        for extra in ("-wal", "-shm"):
            ledger.with_name(LEDGER_FILENAME + extra).unlink(missing_ok=True)
        if loss == "emptied":
            ledger.write_bytes(b"")
        else:
            ledger.unlink()
        srv.reset_stats()
        result = cli(srv, *args(tiny, tmp_path, "--json"))
        assert result.exit_code == 0, result.output
        again = json.loads(result.stdout)
        assert "rebuilt from" in result.stderr and "4 verified files" in result.stderr
        assert statuses(again) == dict.fromkeys(SHOTS, "cached")
        stats = srv.stats()
        assert (stats["creates"]["total"], stats["polls"]["total"]) == (0, 0)
        for shot_id in SHOTS:
            assert again["shots"][shot_id]["task_id"] == first["shots"][shot_id]["task_id"]
            assert again["shots"][shot_id]["sha256"] == first["shots"][shot_id]["sha256"]


# -- 9. a corrupt ledger row ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [("state", "bogus", "unknown state 'bogus'"), ("request", "{not json", "is not JSON")],
)
def test_9_a_corrupt_row_is_exit_2_naming_the_row_and_the_way_out(
    tiny: Path, tmp_path: Path, column: str, value: str, problem: str
) -> None:
    with server(job_seconds=0) as srv:
        run_json(srv, tiny, tmp_path)
        ledger = tmp_path / "state" / LEDGER_FILENAME
        conn = sqlite3.connect(ledger)
        conn.execute(f"UPDATE shots SET {column} = ? WHERE shot_id = 'kite'", (value,))
        conn.commit()
        conn.close()
        srv.reset_stats()
        result = cli(srv, *args(tiny, tmp_path))
        assert result.exit_code == 2
        (line,) = result.stderr.splitlines()
        assert "(shot 'kite')" in line and problem in line and "Traceback" not in result.output
        assert f"mv {ledger} {ledger}.broken" in line
        assert srv.stats()["creates"]["total"] == 0
        # The way out works: the ledger is rebuilt and nothing is paid again.
        os.replace(ledger, f"{ledger}.broken")
        for extra in ("-wal", "-shm"):
            ledger.with_name(LEDGER_FILENAME + extra).unlink(missing_ok=True)
        fixed = run_json(srv, tiny, tmp_path)
        assert statuses(fixed) == dict.fromkeys(SHOTS, "cached")
        assert srv.stats()["creates"]["total"] == 0


# -- 10. one shot's unexpected error ---------------------------------------------------------


def test_10_an_unexpected_error_fails_only_its_shot(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vidpipe.adapters.common import BaseAdapter

    build_body = BaseAdapter.build_body

    def broken(self: Any, req: Any, *rest: Any) -> Any:
        if req.shot_id == "kite":
            raise RuntimeError("a bug")
        return build_body(self, req, *rest)

    with server(job_seconds=0) as srv:
        monkeypatch.setattr(BaseAdapter, "build_body", broken)
        first = run_json(srv, tiny, tmp_path, code=1)
        assert statuses(first) == ONLY_KITE_FAILED
        error = first["shots"]["kite"]["error"]
        assert error.startswith("unexpected error: RuntimeError: a bug")
        assert "never left: the next run sends it" in error
        assert srv.stats()["creates"]["total"] == 3
        monkeypatch.setattr(BaseAdapter, "build_body", build_body)
        # Its create never left: the next run sends it, it is not `unknown`.
        assert planned(srv, tiny, tmp_path)["kite"]["status"] == "new"
        fixed = run_json(srv, tiny, tmp_path)
        assert statuses(fixed)["kite"] == "done"
        one_create_each(srv, len(SHOTS))


# -- 11. the output folder shares no writable storage with the cache ------------------------


def test_11_a_damaged_output_file_leaves_the_cache_intact(tiny: Path, tmp_path: Path) -> None:
    with server(job_seconds=0) as srv:
        first = run_json(srv, tiny, tmp_path)
        kite = Path(first["shots"]["kite"]["file"])
        with Ledger.open(tmp_path / "state") as ledger:
            record = ledger.lookup(manifest_of(tmp_path, "tiny")["shots"]["kite"]["fingerprint"])
        assert record is not None and record.path is not None
        cached = Path(record.path)
        assert not os.path.samefile(kite, cached) and kite.stat().st_nlink == 1
        os.truncate(kite, 1000)
        assert sha256_of(cached) == record.sha256  # the cache's copy is untouched
        again = run_json(srv, tiny, tmp_path)
        assert statuses(again) == dict.fromkeys(SHOTS, "cached")
        assert sha256_of(kite) == record.sha256
        one_create_each(srv, len(SHOTS))


# -- 12. a write error while downloading ----------------------------------------------------


def test_12_a_write_error_while_downloading_fails_that_shot_and_keeps_its_task(
    tiny: Path, tmp_path: Path
) -> None:
    expected = reference(tiny, tmp_path)
    with server(job_seconds=0) as srv:
        part = (
            tmp_path / "state" / "tmp" / f"{fingerprint_of(srv, tiny, tmp_path, 'kite')}.mp4.part"
        )
        part.mkdir(parents=True)  # kite's download cannot be written
        first = run_json(srv, tiny, tmp_path, code=1)
        assert statuses(first) == ONLY_KITE_FAILED
        error = first["shots"]["kite"]["error"]
        assert "cannot write" in error and "no new create" in error
        assert first["shots"]["kite"]["task_id"]
        part.rmdir()
        again = run_json(srv, tiny, tmp_path)
        assert again["shots"]["kite"]["task_id"] == first["shots"]["kite"]["task_id"]
        assert again["shots"]["kite"]["sha256"] == expected["kite"]
        one_create_each(srv, len(SHOTS))
