"""Helpers for running storyboards in tests: small storyboards, emulators, `vidpipe` processes.

Two ways to run a storyboard against an emulator whose counters the test can read:

- in-process: `InProcess` routes every provider to one `EmbeddedEmulator` through
  `RunOptions.transport_for`; `run_board` runs the whole pipeline (`pipeline.runner.run`).
- as real processes: `Server` runs the emulator on a loopback port in a thread of the test
  process (so it outlives a killed runner), and `spawn` / `vidpipe` start `vidpipe run` as a
  subprocess pointed at it through the `*_BASE_URL` variables the storyboards read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import httpx

from vidpipe.api import run
from vidpipe.emulator import EmbeddedEmulator, EmulatorConfig, running_server
from vidpipe.ledger import Ledger, ShotRecord
from vidpipe.loading import load
from vidpipe.manifest import RunResult
from vidpipe.model import ProviderConfig, Storyboard
from vidpipe.runner import RunOptions
from vidpipe.statedir import StateDir

from .specvalues import model, shortest_duration, smallest_size

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
#: The provider APIs the storyboards here use, and the variables naming their base URLs.
API_VARS = {"anyfast": "ANYFAST", "apifree": "APIFREE", "newapi": "NEWAPI"}
#: Where in-process storyboards send their requests (any host reaches the emulator).
IN_PROCESS_BASE = "http://emulator.test"
TEST_KEY = "test-key"

#: The providers of the in-process storyboards (a format string: braces are doubled): their
#: base URLs and keys come from the environment (`in_process_env`).
PROVIDERS = """\
providers:
  gateway:
    api: newapi
    base_url: ${{NEWAPI_BASE_URL}}
    api_key: ${{NEWAPI_API_KEY:-test-key}}
  free:
    api: apifree
    base_url: ${{APIFREE_BASE_URL}}
    api_key: ${{APIFREE_API_KEY:-test-key}}
"""

TINY = (
    """\
# A small, fast storyboard: one seeded shot, one unseeded shot and a chain of two remixes.
version: 1
name: tiny
seed: {seed}
"""
    + PROVIDERS
    + """\
defaults:
  provider: free
  model: {free_model}
  duration: {free_duration}
  size: {free_size}
shots:
  - id: kite
    provider: gateway
    model: {kite_model}
    duration: {kite_duration}
    size: {kite_size}
    prompt: "{kite}"
  - id: field
    prompt: "{field}"
  - id: dusk
    remix: field
    prompt: "{dusk}"
  - id: night
    remix: dusk
    prompt: "{night}"
final:
  concat: [kite, field, dusk, night]
"""
)

TINY_PROMPTS = {
    "kite": "a red kite over a beach",
    "field": "a sunflower field at noon",
    "dusk": "the same field at dusk",
    "night": "the same field under the stars",
}
#: Small, fast values each shot's spec allows (`specvalues`): a spec change that tightens
#: one of them changes these, not the tests.
KITE_MODEL = model("newapi", prefer="veo3")
TINY_VALUES = {
    "free_model": model("apifree", prefer="kling-video"),
    "free_duration": shortest_duration("apifree"),
    "free_size": smallest_size("apifree"),
    "kite_model": KITE_MODEL,
    "kite_duration": shortest_duration("newapi"),
    "kite_size": smallest_size("newapi"),
}
#: Shot -> the shots that remix it, directly or not.
TINY_DEPENDENTS = {"kite": set(), "field": {"dusk", "night"}, "dusk": {"night"}, "night": set()}


def write_tiny(folder: Path, *, seed: int = 7, prompts: Mapping[str, str] | None = None) -> Path:
    """Write the tiny storyboard into `folder` (prompts may be overridden); return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny.yaml"
    text = TINY.format(seed=seed, **TINY_VALUES, **{**TINY_PROMPTS, **(prompts or {})})
    path.write_text(text, encoding="utf-8")
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest(out_dir: Path, name: str) -> dict[str, Any]:
    """The manifest.json a run wrote under `out_dir/name`."""
    doc: dict[str, Any] = json.loads((out_dir / name / "manifest.json").read_text())
    return doc


def creates_by_fingerprint(stats: Mapping[str, Any]) -> dict[str, int]:
    return dict(stats["creates"]["by_fingerprint"])


# -- in-process ----------------------------------------------------------------------------


@attrs.define
class InProcess:
    """One in-process emulator that every provider of a storyboard is routed to."""

    emulator: EmbeddedEmulator

    @classmethod
    def start(cls, **settings: Any) -> InProcess:
        """An emulator whose tasks finish at once unless `job_seconds` says otherwise."""
        settings.setdefault("job_seconds", 0)
        return cls(EmbeddedEmulator(EmulatorConfig(**settings)))

    def transport_for(self, provider: ProviderConfig) -> httpx.AsyncBaseTransport:
        return self.emulator.transport()

    def stats(self) -> dict[str, Any]:
        return self.emulator.stats()

    def reset_stats(self) -> None:
        self.emulator.reset()

    def take_stats(self) -> dict[str, Any]:
        """The counters since the last call (they are cleared)."""
        stats = self.stats()
        self.reset_stats()
        return stats


def in_process_env() -> dict[str, str]:
    """The variables pointing every API at the in-process emulator, with a test key."""
    env = {f"{var}_BASE_URL": f"{IN_PROCESS_BASE}/{api}" for api, var in API_VARS.items()}
    env.update({f"{var}_API_KEY": TEST_KEY for var in API_VARS.values()})
    return env


def load_board(storyboard: Path) -> Storyboard:
    """Load a storyboard with its base URLs pointing at the in-process emulator."""
    return load(storyboard, env=in_process_env())


def run_board(storyboard: Path, emulator: InProcess, tmp: Path, **options: Any) -> RunResult:
    """Run `storyboard` in-process against `emulator`; state in tmp/state, files in tmp/out."""
    options.setdefault("out_dir", tmp / "out")
    options.setdefault("state_dir", tmp / "state")
    options.setdefault("poll_deadline", 30.0)
    board = load_board(storyboard)
    return run(board, RunOptions(transport_for=emulator.transport_for, **options))


def expected_sha256s(storyboard: Path, tmp: Path) -> dict[str, str]:
    """Each shot's video sha256 from a clean in-process run (the emulator is deterministic,
    so any correct run of the same requests must give these bytes)."""
    result = run_board(storyboard, InProcess.start(), tmp)
    assert result.ok, result.to_json()
    return {s.shot_id: str(s.sha256) for s in result.shots.values()}


# -- real processes ------------------------------------------------------------------------


@attrs.define
class Server:
    """An emulator on a loopback port, its base URL and its counters."""

    base_url: str

    def stats(self) -> dict[str, Any]:
        answer = httpx.get(f"{self.base_url}/_emulator/stats", timeout=10)
        answer.raise_for_status()
        stats: dict[str, Any] = answer.json()
        return stats

    def reset_stats(self) -> None:
        httpx.post(f"{self.base_url}/_emulator/reset", timeout=10).raise_for_status()

    def take_stats(self) -> dict[str, Any]:
        stats = self.stats()
        self.reset_stats()
        return stats

    def env(self) -> dict[str, str]:
        """The process environment for `vidpipe run` against this server."""
        env = {k: v for k, v in os.environ.items() if not k.endswith(("_BASE_URL", "_API_KEY"))}
        for api, var in API_VARS.items():
            env[f"{var}_BASE_URL"] = f"{self.base_url}/{api}"
            env[f"{var}_API_KEY"] = TEST_KEY
        env["NO_COLOR"] = "1"
        return env

    def video_sha256(self, task_id: str, api: str) -> str:
        """The sha256 of the video the server holds for a task (fetched from the API)."""
        answer = httpx.get(
            f"{self.base_url}/{api}/v1/videos/{task_id}/content",
            headers={"Authorization": f"Bearer {TEST_KEY}"},
            timeout=30,
        )
        answer.raise_for_status()
        return hashlib.sha256(answer.content).hexdigest()


@contextlib.contextmanager
def server(**settings: Any) -> Iterator[Server]:
    """The emulator on a free loopback port for the duration of the block."""
    with running_server(EmulatorConfig(**settings)) as base_url:
        yield Server(base_url)


def vidpipe_argv(*args: str) -> list[str]:
    """The command line that runs `vidpipe` (the installed script beside this interpreter)."""
    script = Path(sys.executable).with_name("vidpipe")
    if script.is_file():
        return [str(script), *args]
    return [sys.executable, "-c", "from vidpipe.cli import main; main()", *args]


def spawn(args: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start `vidpipe ARGS` in its own process group (so a kill takes its children too)."""
    return subprocess.Popen(
        vidpipe_argv(*args),
        cwd=ROOT,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def vidpipe(
    args: Sequence[str], env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `vidpipe ARGS` to completion."""
    with running(spawn(args, env)) as proc:
        out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@contextlib.contextmanager
def running(proc: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """Own a process: whatever happens in the block, it is killed and reaped at the end."""
    try:
        yield proc
    finally:
        kill(proc)


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL a process started by `spawn` (and its group), then reap it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=10)


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float = 15.0,
    proc: subprocess.Popen[str] | None = None,
    what: str = "the condition",
) -> None:
    """Check `condition` every few milliseconds until it holds; fail after `timeout` seconds
    or as soon as `proc` exits."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"vidpipe exited ({proc.returncode}) before {what}:\n{out}\n{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


class LedgerWatch:
    """Reads a state dir's ledger while another process writes it."""

    def __init__(self, state_dir: Path) -> None:
        self.state = StateDir(state_dir)
        self._ledger: Ledger | None = None

    def shots(self) -> list[ShotRecord]:
        """Every shot row of the newest run's ledger (empty until the ledger exists)."""
        if self._ledger is None:
            if not self.state.ledger_path.exists():
                return []
            self._ledger = Ledger.open(self.state.path)
        runs = self._ledger.runs(limit=1000)
        return [shot for r in runs for shot in self._ledger.shots_for_run(r.id)]

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None

    def __enter__(self) -> LedgerWatch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
