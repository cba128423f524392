"""The SQLite ledger: migrations, durability, state transitions and secret refusal."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from vidpipe.errors import StateError
from vidpipe.ledger import (
    LEDGER_FILENAME,
    SCHEMA_VERSION,
    Ledger,
)
from vidpipe.ledger import migrations as ledger_mod
from vidpipe.redact import find_secrets, redact_argv
from vidpipe.states import ShotState

REQUEST = {"model": "sora-2", "prompt": "a cat", "seconds": "4", "size": "1280x720"}


def fp(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


FP = fp("establish")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def led(tmp_path: Path, clock: FakeClock) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "state", clock=clock) as ledger:
        yield ledger


@pytest.fixture
def run_id(led: Ledger) -> int:
    return led.start_run("story.yaml", "sunflower-cat", ["vidpipe", "run", "story.yaml"])


def intent(led: Ledger, run_id: int, fingerprint: str = FP, shot_id: str = "establish") -> None:
    led.record_intent(
        run_id=run_id,
        shot_id=shot_id,
        fingerprint=fingerprint,
        api="anyfast",
        model="sora-2",
        request=REQUEST,
    )


def state_of(led: Ledger, fingerprint: str = FP) -> ShotState | None:
    rec = led.lookup(fingerprint)
    return None if rec is None else rec.state


# -- opening, migrations, pragmas ----------------------------------------------------------


def test_open_creates_and_migrates_an_empty_dir(tmp_path: Path) -> None:
    state = tmp_path / "deep" / "state"
    with Ledger.open(state) as led:
        assert led.path == state / LEDGER_FILENAME
    conn = sqlite3.connect(state / LEDGER_FILENAME)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"runs", "shots", "events"} <= tables
    conn.close()


def test_reopen_keeps_data_and_does_not_remigrate(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as led:
        run_id = led.start_run("s.yaml", "n", [])
        intent(led, run_id)
    with Ledger.open(tmp_path) as led:
        rec = led.lookup(FP)
        assert rec is not None and rec.state == ShotState.SUBMITTING
        assert [r.id for r in led.runs()] == [run_id]


def test_wal_full_sync_and_a_small_page_cache_are_on(led: Ledger) -> None:
    conn = led._connection()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA cache_size").fetchone()[0] == -512  # KiB, not SQLite's 2,000
    other = sqlite3.connect(led.path)
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persisted in the file
    other.close()


def test_migrations_apply_in_order_and_a_failing_one_rolls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Ledger.open(tmp_path).close()
    released = ledger_mod.MIGRATIONS
    bad = (*released, ("CREATE TABLE extra (x INTEGER)", "THIS IS NOT SQL"))
    monkeypatch.setattr(ledger_mod, "MIGRATIONS", bad)
    monkeypatch.setattr(ledger_mod, "SCHEMA_VERSION", len(bad))
    with pytest.raises(StateError, match="syntax error"):
        Ledger.open(tmp_path)
    conn = sqlite3.connect(tmp_path / LEDGER_FILENAME)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "extra" not in names
    conn.close()

    good = (
        *released,
        ("CREATE TABLE extra (x INTEGER)",),
        ("INSERT INTO extra VALUES (2)",),
    )
    monkeypatch.setattr(ledger_mod, "MIGRATIONS", good)
    monkeypatch.setattr(ledger_mod, "SCHEMA_VERSION", len(good))
    Ledger.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / LEDGER_FILENAME)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 2
    assert conn.execute("SELECT x FROM extra").fetchall() == [(2,)]
    conn.close()


def test_newer_schema_is_a_clear_error(tmp_path: Path) -> None:
    Ledger.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / LEDGER_FILENAME)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StateError) as info:
        Ledger.open(tmp_path)
    msg = str(info.value)
    assert "newer vidpipe" in msg
    assert f"schema version {SCHEMA_VERSION + 1}" in msg
    assert str(tmp_path / LEDGER_FILENAME) in msg


def test_a_file_that_is_not_a_database_is_a_state_error(tmp_path: Path) -> None:
    (tmp_path / LEDGER_FILENAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match="cannot use ledger"):
        Ledger.open(tmp_path)


def test_closed_ledger_refuses_calls(tmp_path: Path) -> None:
    led = Ledger.open(tmp_path)
    led.close()
    led.close()
    with pytest.raises(StateError, match="closed"):
        led.lookup(FP)


# -- runs ----------------------------------------------------------------------------------


def test_runs_are_listed_newest_first_with_summary(led: Ledger) -> None:
    first = led.start_run("a.yaml", "a", ["vidpipe", "run", "a.yaml"])
    second = led.start_run("b.yaml", "b", ["vidpipe", "run", "b.yaml", "--force", "x"])
    led.finish_run(first, "ok", {"shots": 3, "cached": 1})
    records = led.runs()
    assert [r.id for r in records] == [second, first]
    assert records[0].status == "running" and records[0].finished_at is None
    assert records[0].argv == ("vidpipe", "run", "b.yaml", "--force", "x")
    assert records[1].status == "ok"
    assert records[1].summary == {"shots": 3, "cached": 1}
    assert records[1].finished_at is not None and records[1].finished_at > records[1].started_at
    assert [r.id for r in led.runs(limit=1)] == [second]


def test_finish_unknown_run_is_an_error(led: Ledger) -> None:
    with pytest.raises(StateError, match="no run with id 99"):
        led.finish_run(99, "ok", {})


def test_run_argv_is_stored_redacted(led: Ledger) -> None:
    run_id = led.start_run(
        "s.yaml", "n", ["vidpipe", "--api-key=sk-123", "--token", "abc", "--var", "x=1"]
    )
    run = led.run(run_id)
    assert run is not None
    assert run.argv == ("vidpipe", "--api-key=***", "--token", "***", "--var", "x=1")
    assert b"sk-123" not in led.path.read_bytes() + _wal_bytes(led.path)


def test_summary_with_a_secret_is_refused(led: Ledger, run_id: int) -> None:
    with pytest.raises(StateError, match=r"\$\.provider\.api_key"):
        led.finish_run(run_id, "ok", {"provider": {"api_key": "sk-live"}})


# -- shot transitions ----------------------------------------------------------------------


def test_a_read_does_not_wait_for_a_write_in_progress_and_sees_only_commits(
    led: Ledger, run_id: int
) -> None:
    intent(led, run_id)
    written, release = threading.Event(), threading.Event()
    inside: list[ShotState | None] = []

    def slow_batch() -> None:  # the ledger writer, in the middle of a batch
        with led.batch():
            led.record_sent(FP)
            led.record_task(FP, "task_1", "queued")
            inside.append(state_of(led))  # a write sees its own batch
            written.set()
            release.wait(10)

    writer = threading.Thread(target=slow_batch)
    writer.start()
    try:
        assert written.wait(10)
        with ThreadPoolExecutor(1) as pool:  # a lock held by the batch would hang here
            seen = pool.submit(state_of, led).result(timeout=5)
        assert seen == ShotState.SUBMITTING  # the last commit, not the batch in progress
    finally:
        release.set()
        writer.join()
    assert inside == [ShotState.RUNNING] and state_of(led) == ShotState.RUNNING


def test_happy_path_submit_poll_download(led: Ledger, run_id: int) -> None:
    assert led.lookup(FP) is None
    intent(led, run_id)
    rec = led.lookup(FP)
    assert rec is not None
    assert (rec.state, rec.task_id, rec.attempts, rec.request) == (
        ShotState.SUBMITTING,
        None,
        1,
        REQUEST,
    )
    assert (rec.shot_id, rec.api, rec.model, rec.run_id) == ("establish", "anyfast", "sora-2", 1)

    led.record_task(FP, "video_123", "queued")
    rec = led.lookup(FP)
    assert rec is not None
    assert (rec.state, rec.task_id, rec.status) == (ShotState.RUNNING, "video_123", "queued")

    assert led.record_status(FP, "in_progress", 40, "IN_PROGRESS") is True
    rec = led.lookup(FP)
    assert rec is not None
    assert (rec.status, rec.progress, rec.raw_status) == ("in_progress", 40, "IN_PROGRESS")

    digest = "9" * 64
    led.record_download(FP, path="out/x/establish.mp4", sha256=digest, size=1234)
    rec = led.lookup(FP)
    assert rec is not None
    assert rec.state == ShotState.DONE
    assert (rec.path, rec.sha256, rec.size, rec.error) == (
        "out/x/establish.mp4",
        digest,
        1234,
        None,
    )
    assert rec.updated_at > rec.created_at
    kinds = [e.kind for e in led.events(FP)]
    assert kinds == ["intent", "task", "status", "download"]


def test_record_status_skips_writes_that_change_nothing(led: Ledger, run_id: int) -> None:
    intent(led, run_id)
    led.record_task(FP, "t1", "queued")
    assert led.record_status(FP, "in_progress", 10, "running") is True
    before = led.lookup(FP)
    assert led.record_status(FP, "in_progress", 10, "running") is False
    assert led.lookup(FP) == before
    # Progress alone is written but does not grow the audit log.
    n_events = len(led.events(FP))
    assert led.record_status(FP, "in_progress", 60, "running") is True
    rec = led.lookup(FP)
    assert rec is not None and rec.progress == 60
    assert len(led.events(FP)) == n_events


def test_progress_is_clamped(led: Ledger, run_id: int) -> None:
    intent(led, run_id)
    led.record_task(FP, "t1", "queued")
    led.record_status(FP, "in_progress", 150, None)
    rec = led.lookup(FP)
    assert rec is not None and rec.progress == 100


def test_lost_create_answer_is_unknown_then_can_be_reattached(led: Ledger, run_id: int) -> None:
    intent(led, run_id)
    led.record_unknown(FP, "connection reset after the request was sent")
    rec = led.lookup(FP)
    assert rec is not None
    assert rec.state == ShotState.UNKNOWN
    assert rec.error == "connection reset after the request was sent"
    assert [r.fingerprint for r in led.in_flight()] == [FP]
    with pytest.raises(StateError, match="unknown"):
        intent(led, run_id)
    led.record_task(FP, "t-found", "in_progress")
    rec = led.lookup(FP)
    assert rec is not None and rec.state == ShotState.RUNNING and rec.error is None


def test_failure_then_a_new_attempt(led: Ledger, run_id: int) -> None:
    intent(led, run_id)
    led.record_task(FP, "t1", "queued")
    led.record_failure(FP, "moderation: blocked")
    rec = led.lookup(FP)
    assert rec is not None
    assert (rec.state, rec.error) == (ShotState.FAILED, "moderation: blocked")
    second_run = led.start_run("s.yaml", "n", [])
    intent(led, second_run)
    rec = led.lookup(FP)
    assert rec is not None
    assert (rec.state, rec.attempts, rec.task_id, rec.error, rec.run_id) == (
        ShotState.SUBMITTING,
        2,
        None,
        None,
        second_run,
    )


def test_expired_content(led: Ledger, run_id: int) -> None:
    intent(led, run_id)
    led.record_task(FP, "t1", "completed")
    led.record_expired(FP)
    assert state_of(led) == ShotState.EXPIRED
    intent(led, run_id)
    assert state_of(led) == ShotState.SUBMITTING


def test_forget_keeps_an_audit_row_and_makes_the_shot_new(led: Ledger, run_id: int) -> None:
    intent(led, run_id)
    led.record_task(FP, "t1", "queued")
    led.record_status(FP, "completed", 100, "SUCCESS")
    led.record_download(FP, path="a.mp4", sha256="1" * 64, size=10)
    assert led.forget(FP) is True
    assert led.lookup(FP) is None
    assert led.forget(FP) is False
    last = led.events(FP)[-1]
    assert last.kind == "forget"
    assert last.detail is not None
    assert last.detail["row"]["task_id"] == "t1"
    assert last.detail["row"]["request"] == REQUEST
    intent(led, run_id)
    rec = led.lookup(FP)
    assert rec is not None and rec.state == ShotState.SUBMITTING and rec.attempts == 1


@pytest.mark.parametrize("prior", ["submitting", "running", "unknown", "done"])
def test_a_second_intent_is_refused_when_it_could_pay_twice(
    led: Ledger, run_id: int, prior: str
) -> None:
    intent(led, run_id)
    led.record_sent(FP)
    if prior in ("running", "done"):
        led.record_task(FP, "t1", "queued")
    if prior == "unknown":
        led.record_unknown(FP, "lost")
    if prior == "done":
        led.record_download(FP, path="a.mp4", sha256="1" * 64, size=1)
    with pytest.raises(StateError, match=f"is {prior}.*--force"):
        intent(led, run_id)
    assert state_of(led) == prior


def test_a_second_task_id_is_refused(led: Ledger, run_id: int) -> None:
    intent(led, run_id)
    led.record_task(FP, "t1", "queued")
    led.record_task(FP, "t1", "queued")  # the same answer again is harmless
    with pytest.raises(StateError, match="already has task 't1'"):
        led.record_task(FP, "t2", "queued")
    rec = led.lookup(FP)
    assert rec is not None and rec.task_id == "t1"


@pytest.mark.parametrize(
    ("call", "state"),
    [
        ("status", "submitting"),
        ("download", "submitting"),
        ("unknown", "running"),
        ("failure", "done"),
        ("expired", "submitting"),
        ("task", "failed"),
    ],
)
def test_transitions_that_make_no_sense_are_refused(
    led: Ledger, run_id: int, call: str, state: str
) -> None:
    intent(led, run_id)
    if state in ("running", "done"):
        led.record_task(FP, "t1", "queued")
    if state == "done":
        led.record_download(FP, path="a.mp4", sha256="1" * 64, size=1)
    if state == "failed":
        led.record_failure(FP, "bad request")
    assert state_of(led) == state
    actions: dict[str, Callable[[], object]] = {
        "status": lambda: led.record_status(FP, "in_progress", 1, None),
        "download": lambda: led.record_download(FP, path="a", sha256="1" * 64, size=1),
        "unknown": lambda: led.record_unknown(FP, "lost"),
        "failure": lambda: led.record_failure(FP, "x"),
        "expired": lambda: led.record_expired(FP),
        "task": lambda: led.record_task(FP, "t9", "queued"),
    }
    with pytest.raises(StateError, match="not allowed"):
        actions[call]()
    assert state_of(led) == state


def test_writes_to_an_unknown_fingerprint_are_errors(led: Ledger) -> None:
    with pytest.raises(StateError, match="no shot"):
        led.record_task(FP, "t1", "queued")
    with pytest.raises(StateError, match="no shot"):
        led.record_failure(FP, "x")


def test_intent_needs_a_real_run_and_fingerprint(led: Ledger, run_id: int) -> None:
    with pytest.raises(StateError, match="no run"):
        intent(led, run_id + 1)
    with pytest.raises(StateError, match="not a fingerprint"):
        intent(led, run_id, fingerprint="establish")
    assert led.lookup(FP) is None


def test_download_checks_its_digest_and_size(led: Ledger, run_id: int) -> None:
    intent(led, run_id)
    led.record_task(FP, "t1", "completed")
    with pytest.raises(StateError, match="sha256"):
        led.record_download(FP, path="a", sha256="abc", size=1)
    with pytest.raises(StateError, match="size"):
        led.record_download(FP, path="a", sha256="1" * 64, size=-1)
    assert state_of(led) == ShotState.RUNNING


# -- queries -------------------------------------------------------------------------------


def test_shots_for_run_latest_for_shot_and_in_flight(led: Ledger, clock: FakeClock) -> None:
    r1 = led.start_run("s.yaml", "n", [])
    old, new, other = fp("establish v1"), fp("establish v2"), fp("closeup")
    intent(led, r1, old)
    intent(led, r1, other, shot_id="closeup")
    led.record_task(old, "t-old", "queued")
    led.record_download(old, path="old.mp4", sha256="1" * 64, size=1)
    r2 = led.start_run("s.yaml", "n", [])
    intent(led, r2, new)
    assert [s.fingerprint for s in led.shots_for_run(r1)] == [old, other]
    assert [s.fingerprint for s in led.shots_for_run(r2)] == [new]
    latest = led.latest_for_shot("establish")
    assert latest is not None and latest.fingerprint == new
    # Same timestamps must not confuse "latest": order is by write, not by clock.
    clock.now -= 100
    led.record_expired(old)
    latest = led.latest_for_shot("establish")
    assert latest is not None and latest.fingerprint == old
    assert led.latest_for_shot("nope") is None
    assert {s.fingerprint for s in led.in_flight()} == {new, other}


def test_records_are_frozen(led: Ledger, run_id: int) -> None:
    intent(led, run_id)
    rec = led.lookup(FP)
    assert rec is not None
    with pytest.raises(AttributeError):
        rec.state = ShotState.DONE  # type: ignore[misc]


# -- secrets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "where"),
    [
        ({"prompt": "x", "Authorization": "Bearer sk-live-1"}, "$.Authorization"),
        ({"prompt": "x", "api_key": "sk-live-1"}, "$.api_key"),
        ({"prompt": "x", "params": {"x-api-key": "sk-live-1"}}, "$.params.x-api-key"),
        ({"prompt": "x", "extra": [{"access_token": "sk-live-1"}]}, "$.extra[0].access_token"),
        ({"prompt": "x", "headers": {"h": "bearer sk-live-1"}}, "$.headers.h"),
        ({"prompt": "x", "TOKEN": None}, "$.TOKEN"),
        ({"prompt": "x", "client_secret": "sk-live-1"}, "$.client_secret"),
    ],
)
def test_secrets_in_a_request_are_refused(
    led: Ledger, run_id: int, request_: dict[str, object], where: str
) -> None:
    with pytest.raises(StateError) as info:
        led.record_intent(
            run_id=run_id,
            shot_id="s",
            fingerprint=FP,
            api="anyfast",
            model="m",
            request=request_,
        )
    assert where in str(info.value)
    assert "sk-live-1" not in str(info.value)
    assert led.lookup(FP) is None
    assert b"sk-live-1" not in led.path.read_bytes() + _wal_bytes(led.path)


def test_ordinary_fields_that_mention_tokens_are_allowed() -> None:
    assert find_secrets({"max_tokens": 5, "prompt": "a token of love", "keyframes": [1]}) == []


def test_redact_argv_forms() -> None:
    assert redact_argv(["run", "--API-KEY", "k", "--var", "secret=s", "Bearer x", "--seed=3"]) == [
        "run",
        "--API-KEY",
        "***",
        "--var",
        "secret=***",
        "***",
        "--seed=3",
    ]


# -- durability and threads ----------------------------------------------------------------


def test_writes_survive_a_process_that_dies_without_closing(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        from vidpipe.ledger import Ledger
        led = Ledger.open(Path(sys.argv[1]))
        run_id = led.start_run("s.yaml", "n", ["vidpipe"])
        led.record_intent(run_id=run_id, shot_id="establish", fingerprint="{FP}",
                          api="anyfast", model="sora-2", request={{"prompt": "p"}})
        led.record_task("{FP}", "video_abc", "queued")
        os._exit(0)  # no close, no commit hooks, no atexit
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    # The writes are still in the WAL: nothing checkpointed them on the way out.
    assert (tmp_path / (LEDGER_FILENAME + "-wal")).stat().st_size > 0
    with Ledger.open(tmp_path) as led:
        rec = led.lookup(FP)
        assert rec is not None
        assert (rec.state, rec.task_id) == (ShotState.RUNNING, "video_abc")
        assert [r.status for r in led.runs()] == ["running"]


def test_calls_from_several_threads(led: Ledger, run_id: int) -> None:
    fps = [fp(f"shot-{i}") for i in range(40)]

    def work(f: str) -> None:
        intent(led, run_id, f, shot_id=f[:8])
        led.record_task(f, f"t-{f[:6]}", "queued")
        led.record_status(f, "in_progress", 50, None)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, fps))
    shots = led.shots_for_run(run_id)
    assert len(shots) == len(fps)
    assert all(s.state == ShotState.RUNNING and s.progress == 50 for s in shots)


def _wal_bytes(path: Path) -> bytes:
    wal = path.with_name(path.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


# -- schema 2: sent or not, forces, restore, adoption, unreadable rows ----------------------


def test_an_intent_that_never_left_can_be_sent_later(led: Ledger, run_id: int) -> None:
    intent(led, run_id)
    rec = led.lookup(FP)
    assert rec is not None and rec.sent_at is None and not rec.sent
    intent(led, run_id)  # allowed: nothing reached the provider
    assert led.record_sent(FP) is True
    assert led.record_sent(FP) is False  # a retried send (429) changes nothing
    rec = led.lookup(FP)
    assert rec is not None and rec.sent and rec.attempts == 2
    with pytest.raises(StateError, match="submitting"):
        intent(led, run_id)  # it may have been taken now
    assert [e.kind for e in led.events(FP)] == ["intent", "intent", "sent"]


def test_a_task_records_when_it_came_and_timings_when_the_file_did(
    led: Ledger, run_id: int
) -> None:
    intent(led, run_id)
    led.record_task(FP, "t1", "queued")
    rec = led.lookup(FP)
    assert rec is not None and rec.task_at is not None and rec.sent_at == rec.task_at
    assert rec.task_at > rec.created_at
    led.record_download(FP, path="a", sha256="1" * 64, size=1, timings={"seconds": 1.23456})
    rec = led.lookup(FP)
    assert rec is not None and rec.timings == {"seconds": 1.235}


def test_forces_are_owed_until_a_run_that_carried_them_out_ends(led: Ledger) -> None:
    r1 = led.start_run("s.yaml", "film", [])
    intent(led, r1)
    led.record_task(FP, "t-old", "queued")
    led.request_forces("film", r1, ["establish"])
    (force,) = led.open_forces("film").values()
    assert (force.shot_id, force.run_id, force.applied_to) == ("establish", r1, None)
    led.apply_force(force, FP)
    assert led.lookup(FP) is None  # the old generation is set aside, kept in the audit log
    led.apply_force(force, FP)  # once only
    assert [e.kind for e in led.events(FP)].count("forget") == 1
    # Interrupted, then the same command: the force is adopted, not requested again.
    r2 = led.start_run("s.yaml", "film", [])
    led.request_forces("film", r2, ["establish"])
    (again,) = led.open_forces("film").values()
    assert again.id == force.id and again.applied_to == FP
    led.settle_forces("film", ["establish"])
    assert led.open_forces("film") == {}
    # A completed forced run: the same command forces again.
    r3 = led.start_run("s.yaml", "film", [])
    led.request_forces("film", r3, ["establish"])
    (fresh,) = led.open_forces("film").values()
    assert fresh.id != force.id and fresh.applied_to is None
    led.settle_forces("film", ["establish"])  # not carried out: still owed
    assert set(led.open_forces("film")) == {"establish"}
    assert led.open_forces("other film") == {}


def test_restore_writes_back_a_lost_row_once(led: Ledger, run_id: int) -> None:
    common: dict[str, Any] = {
        "run_id": run_id,
        "shot_id": "establish",
        "fingerprint": FP,
        "api": "anyfast",
        "model": "sora-2",
        "request": REQUEST,
        "task_id": "t1",
    }
    assert led.restore(state=ShotState.DONE, sha256="2" * 64, size=3, path="c.mp4", **common)
    assert not led.restore(state=ShotState.RUNNING, **common)
    rec = led.lookup(FP)
    assert rec is not None and (rec.state, rec.task_id, rec.sha256) == ("done", "t1", "2" * 64)
    assert led.known_task_ids() == {"t1"}
    assert [e.kind for e in led.events(FP)] == ["restore"]
    with pytest.raises(StateError):
        led.restore(state=ShotState.FAILED, **{**common, "fingerprint": fp("x")})


def test_a_legacy_row_is_adopted_under_its_new_fingerprint(tmp_path: Path) -> None:
    with Ledger.open(tmp_path) as led:
        run_id = led.start_run("s.yaml", "n", [])
        intent(led, run_id)
        led.record_task(FP, "t1", "queued")
        new = fp("with its source task")
        assert not led.adopt(FP, new, "src-task")  # not a legacy row
        led._connection().execute("UPDATE shots SET legacy = 1")
        assert led.adopt(FP, new, "src-task")
        assert led.lookup(FP) is None
        rec = led.lookup(new)
        assert rec is not None and (rec.task_id, rec.source_task, rec.legacy) == (
            "t1",
            "src-task",
            False,
        )


def test_a_version_1_ledger_is_migrated_and_its_submitting_rows_count_as_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_mod, "MIGRATIONS", ledger_mod.MIGRATIONS[:1])
    monkeypatch.setattr(ledger_mod, "SCHEMA_VERSION", 1)
    with Ledger.open(tmp_path) as old:
        conn = old._connection()
        conn.execute(
            "INSERT INTO runs (storyboard, name, argv, pid, status, started_at)"
            " VALUES ('s.yaml', 'n', '[]', 1, 'ok', 1.0)"
        )
        for name, state, task in (("a", "submitting", None), ("b", "done", "t-b")):
            conn.execute(
                "INSERT INTO shots (fingerprint, run_id, shot_id, api, model, request, task_id,"
                " state, created_at, updated_at, seq) VALUES (?, 1, ?, 'x', 'm', '{}', ?, ?,"
                " 10.0, 20.0, 1)",
                (fp(name), name, task, state),
            )
        conn.execute(
            "INSERT INTO events (at, fingerprint, kind, task_id) VALUES (15.0, ?, 'task', 't-b')",
            (fp("b"),),
        )
    monkeypatch.undo()
    with Ledger.open(tmp_path) as led:
        a, b = led.lookup(fp("a")), led.lookup(fp("b"))
        assert a is not None and a.sent and a.legacy  # it may have left: never sent again
        assert b is not None and b.task_at is not None and b.task_at.timestamp() == 15.0
        assert led.open_forces("n") == {}


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("state", "bogus", "unknown state 'bogus'"),
        ("request", "{oops", "column request is not JSON"),
        ("request", "[1]", "not a JSON object"),
    ],
)
def test_an_unreadable_row_names_itself_and_the_way_out(
    led: Ledger, run_id: int, column: str, value: str, problem: str
) -> None:
    intent(led, run_id)
    led.record_task(FP, "t9", "queued")
    led._connection().execute(f"UPDATE shots SET {column} = ?", (value,))
    with pytest.raises(StateError) as info:
        led.check_rows()
    message = str(info.value)
    assert f"shot row {FP[:16]}… (shot 'establish')" in message and problem in message
    assert "names task t9" in message and f"mv {led.path} {led.path}.broken" in message
    with pytest.raises(StateError, match=problem):
        led.lookup(FP)


def test_an_unreadable_run_row_is_named_too(led: Ledger, run_id: int) -> None:
    led._connection().execute("UPDATE runs SET argv = 'nope'")
    with pytest.raises(StateError, match=f"run row {run_id} cannot be read"):
        led.check_rows()


def test_durations_are_the_models_creation_to_success_times_newest_first(
    led: Ledger, run_id: int, clock: FakeClock
) -> None:
    assert led.durations("anyfast", "sora-2") == []
    for name, wait in (("one", 10.0), ("two", 30.0), ("three", 5.0)):
        intent(led, run_id, fp(name), shot_id=name)
        led.record_task(fp(name), f"task-{name}", "queued")
        led.record_status(fp(name), "running", 40, "in_progress")
        clock.now += wait
        led.record_status(fp(name), "succeeded", 100, "completed")
    # every read of the fake clock adds a second: six of them between task and success
    assert led.durations("anyfast", "sora-2") == [11.0, 36.0, 16.0]
    assert led.durations("anyfast", "sora-2", limit=1) == [11.0]
    assert led.durations("anyfast", "other-model") == []
    assert led.durations("newapi", "sora-2") == []
    # a task that failed says nothing of how long success takes
    intent(led, run_id, fp("four"), shot_id="four")
    led.record_task(fp("four"), "task-four", "queued")
    led.record_failure(fp("four"), "moderation")
    assert len(led.durations("anyfast", "sora-2")) == 3


def test_a_create_answered_429_counts_as_never_sent(led: Ledger, run_id: int) -> None:
    intent(led, run_id)
    led.record_sent(FP)
    led.record_not_taken(FP)
    record = led.lookup(FP)
    assert record is not None and record.state == ShotState.SUBMITTING and not record.sent
    intent(led, run_id)  # a later run may send it: nothing was taken
    assert [e.kind for e in led.events(FP)] == ["intent", "sent", "not_taken", "intent"]
    led.record_task(FP, "task-1", "queued")
    with pytest.raises(StateError, match="record_not_taken is not allowed"):
        led.record_not_taken(FP)


def test_durations_can_keep_only_the_tasks_of_one_video_length(
    led: Ledger, run_id: int, clock: FakeClock
) -> None:
    # Multipart requests carry numbers as text: "8" and 8 are the same length.
    for name, seconds, wait in (("short", 4, 10.0), ("long", "8", 30.0), ("also", 8, 20.0)):
        led.record_intent(
            run_id=run_id,
            shot_id=name,
            fingerprint=fp(name),
            api="anyfast",
            model="sora-2",
            request={"prompt": name, "seconds": seconds},
        )
        led.record_task(fp(name), f"task-{name}", "queued")
        clock.now += wait
        led.record_status(fp(name), "succeeded", 100, "completed")
    everything = led.durations("anyfast", "sora-2")
    assert len(everything) == 3
    eight = led.durations("anyfast", "sora-2", sent=("seconds", 8))
    assert eight == [everything[0], everything[1]]  # "also" then "long", newest first
    assert led.durations("anyfast", "sora-2", sent=("seconds", 4)) == [everything[2]]
    assert led.durations("anyfast", "sora-2", sent=("seconds", 12)) == []
    assert led.durations("anyfast", "sora-2", sent=("duration", 8)) == []
