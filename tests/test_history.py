"""`vidpipe history`: each run's command (credentials redacted), its shots made, cached and
failed, status and duration; `history show RUN`; `--json`; a run stopped by Ctrl-C, SIGTERM or SIGHUP is `interrupted`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from vidpipe.api import embedded_emulator
from vidpipe.api import run as run_storyboard
from vidpipe.ledger import Ledger
from vidpipe.runner import RunOptions

from .test_cli import FAIL, TINY, run_tiny, tiny, vidpipe

SECRET = "sk-history-9d1e7b3c"
# `token` is declared so that overriding it is an ordinary --var.
BOARD = TINY.replace("vars: {hero: a red kite}", "vars: {hero: a red kite, token: none}")


def run_as_typed(board: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> None:
    """`vidpipe run`, with sys.argv as a shell would set it (the ledger records it)."""
    argv = ["/somewhere/bin/vidpipe", "run", board.name, "--job-seconds", "0", *args]
    monkeypatch.setattr(sys, "argv", argv)
    run_tiny(board, *args)


@pytest.fixture
def three_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Runs #1 (3 done), #2 (3 cached, a secret on the command line), #3 (1 failed, 1 done)."""
    board = tiny(tmp_path, BOARD)
    run_as_typed(board, monkeypatch)
    run_as_typed(board, monkeypatch, "--var", f"token={SECRET}")
    board.write_text(BOARD.replace("at dusk", f"at dusk {FAIL}").replace("over the sea", "inland"))
    run_as_typed(board, monkeypatch, "--only", "one", "two")
    return board


def test_history_lists_each_run_with_its_command_counts_status_and_duration(
    three_runs: Path,
) -> None:
    result = vidpipe("history", three_runs)
    assert result.exit_code == 0, result.output
    header, *rows = result.stdout.splitlines()
    assert header.split() == [
        "RUN",
        "STARTED",
        "STATUS",
        "TOOK",
        "SHOTS",
        "ESTIMATE",
        "SPEND",
        "NAME",
        "COMMAND",
    ]
    assert [r.split()[0] for r in rows] == ["#3", "#2", "#1"]
    newest, cached, first = rows
    assert " failed " in newest and "1 done, 1 failed" in newest
    assert newest.endswith("vidpipe run tiny.yaml --job-seconds 0 --only one two")
    assert " ok " in cached and "3 cached" in cached
    assert cached.endswith("--var 'token=***'")
    assert " ok " in first and "3 done" in first
    for row in rows:
        assert row.split()[5] == "s" and float(row.split()[4]) >= 0  # TOOK, e.g. "0.4 s"
    assert SECRET not in result.output


def test_history_json_has_the_same_facts(three_runs: Path) -> None:
    result = vidpipe("history", three_runs, "--json", "--limit", "2")
    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)["runs"]
    assert [r["id"] for r in runs] == [3, 2]
    assert runs[0]["status"] == "failed" and runs[0]["counts"] == {"failed": 1, "done": 1}
    assert runs[1]["counts"] == {"cached": 3}
    assert runs[1]["argv"][-2:] == ["--var", "token=***"]
    assert runs[0]["storyboard"] == str(three_runs) and runs[0]["name"] == "tiny"
    assert runs[0]["seconds"] >= 0 and runs[0]["finished_at"] > runs[0]["started_at"]
    assert SECRET not in result.output


def test_history_show_lists_one_runs_shots(three_runs: Path) -> None:
    result = vidpipe("history", "show", "3", three_runs)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "run #3: failed"
    assert lines[1] == f"storyboard: {three_runs} (tiny)"
    assert lines[2] == "command:    vidpipe run tiny.yaml --job-seconds 0 --only one two"
    assert lines[4] == "shots:      1 done, 1 failed"
    table = lines[lines.index("") + 1 :]
    header = ["SHOT", "RESULT", "FINGERPRINT", "TASK", "ESTIMATE", "SPEND", "ERROR"]
    assert table[0].split() == header
    rows = {row.split()[0]: row.split() for row in table[1:]}
    assert set(rows) == {"one", "two"}
    # apifree's models have no known price, and its answers report no charge
    assert rows["one"][1] == "done" and rows["one"][4:] == ["unknown", "unknown", "-"]
    assert rows["two"][1] == "failed" and len(rows["two"]) > 7  # the provider's reason

    as_json = json.loads(vidpipe("history", "show", "#2", three_runs, "--json").stdout)
    assert as_json["id"] == 2 and as_json["counts"] == {"cached": 3}
    assert [s["id"] for s in as_json["shots"]] == ["one", "two", "three"]
    assert {s["status"] for s in as_json["shots"]} == {"cached"}
    assert all(s["task_id"] and len(s["fingerprint"]) == 64 for s in as_json["shots"])


@pytest.mark.parametrize(
    ("run", "message"),
    [("9", "error: no run #9 in "), ("last", "Invalid value for 'RUN': expected a run number")],
)
def test_history_show_of_a_run_that_is_not_there_is_exit_2(
    three_runs: Path, run: str, message: str
) -> None:
    result = vidpipe("history", "show", run, three_runs)
    assert result.exit_code == 2 and result.stdout == ""
    assert message in result.stderr


def test_history_without_runs_is_exit_2(tmp_path: Path) -> None:
    result = vidpipe("history", tiny(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == f"error: no runs recorded in {tmp_path / '.vidpipe'}\n"


@contextmanager
def _run_with_tasks_running(
    tmp_path: Path, ignore: signal.Signals | None = None
) -> Iterator[subprocess.Popen[str]]:
    """`vidpipe run` of a tiny storyboard of 60 s jobs, yielded once a task is running
    (`ignore`: a signal the run starts with ignored, as under `nohup` or in a background
    job; the others start at their defaults); killed if still
    running at the end."""
    board = tiny(tmp_path)
    command = [sys.executable, "-m", "vidpipe", "run", str(board), "--job-seconds", "60"]

    def preexec() -> None:
        # The child starts as from a terminal, whatever this suite was started under
        # (`nohup` leaves SIGHUP ignored, and an ignored signal stays so across exec).
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN if signum == ignore else signal.SIG_DFL)

    proc = subprocess.Popen(
        command,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
    )
    try:
        deadline = time.monotonic() + 60
        while not _tasks_running(tmp_path / ".vidpipe"):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no task started"
            time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("signum", "by"),
    [(signal.SIGINT, ""), (signal.SIGTERM, " by SIGTERM"), (signal.SIGHUP, " by SIGHUP")],
)
def test_a_run_stopped_by_ctrl_c_or_a_signal_is_interrupted_not_crashed(
    tmp_path: Path, signum: signal.Signals, by: str
) -> None:
    with _run_with_tasks_running(tmp_path) as proc:
        os.kill(proc.pid, signum)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, stderr
    last = stderr.rstrip().splitlines()[-1]
    assert last.startswith(f"interrupted{by}: ") and "run the same command again" in last
    board = tmp_path / "tiny.yaml"
    run = vidpipe("history", board).stdout.splitlines()[1].split()
    assert run[0] == "#1" and run[3] == "interrupted"  # after the date and time it started
    shown = vidpipe("history", "show", "1", board)
    assert shown.stdout.splitlines()[0] == "run #1: interrupted"


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("ignored", "stop", "by"),
    [(signal.SIGHUP, signal.SIGINT, ""), (signal.SIGINT, signal.SIGTERM, " by SIGTERM")],
    ids=["a hangup under nohup", "ctrl-c in a background job"],
)
def test_a_signal_the_caller_ignores_does_not_stop_the_run(
    tmp_path: Path, ignored: signal.Signals, stop: signal.Signals, by: str
) -> None:
    """Under `nohup`, a run goes on when its terminal closes; a shell's background job starts
    with SIGINT ignored. Another signal still stops the run cleanly."""
    with _run_with_tasks_running(tmp_path, ignore=ignored) as proc:
        os.kill(proc.pid, ignored)
        time.sleep(1.0)
        assert proc.poll() is None, proc.communicate()
        os.kill(proc.pid, stop)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + stop, stderr
    assert stderr.rstrip().splitlines()[-1].startswith(f"interrupted{by}: ")
    history = vidpipe("history", tmp_path / "tiny.yaml").stdout.splitlines()
    assert history[1].split()[3] == "interrupted"


def test_a_run_from_a_thread_other_than_the_main_one_sets_no_handlers(tmp_path: Path) -> None:
    """Only the main thread may set signal handlers; a run started elsewhere (an app that
    calls the command from a worker thread) runs without them instead of failing."""
    board = tiny(tmp_path)
    results = []
    worker = threading.Thread(target=lambda: results.append(run_tiny(board)))
    worker.start()
    worker.join(timeout=120)
    assert results and results[0].exit_code == 0, results and results[0].output


def test_signal_handlers_are_given_back_after_a_run(tmp_path: Path) -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    run_tiny(tiny(tmp_path))
    after = {s: signal.getsignal(s) for s in before}
    assert after == before


def _tasks_running(state: Path) -> bool:
    if not (state / "ledger.sqlite3").exists():
        return False
    with Ledger.open(state) as ledger:
        return any(r.task_id for r in ledger.in_flight())


def test_a_run_from_python_has_no_command_line_to_show(tmp_path: Path) -> None:
    board = tiny(tmp_path)
    gateway = embedded_emulator(job_seconds=0)
    run_storyboard(board, RunOptions(out_dir=tmp_path / "out", gateway=gateway))
    _header, row = vidpipe("history", board).stdout.splitlines()
    assert row.split()[-2:] == ["tiny", "-"]
    shown = vidpipe("history", "show", "1", board).stdout.splitlines()
    assert shown[2] == "command:    - (run from Python)"
