"""Tasks in flight: the run's cap, a provider's AIMD limit, critical-path order, and a run
whose gateway answers 429 for too many tasks in flight."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

import vidpipe.runner.executor as executor_module
from vidpipe.adapters.common import BaseAdapter
from vidpipe.api import embedded_emulator, run
from vidpipe.cli import main
from vidpipe.dag import priorities
from vidpipe.emulator import EmulatorConfig, running_server
from vidpipe.events import LimitsEvent, ShotEvent
from vidpipe.inflight import InFlight
from vidpipe.ledger import Ledger
from vidpipe.loading import loads
from vidpipe.polling import poll as real_poll
from vidpipe.runner import RunOptions
from vidpipe.states import ShotState

# -- InFlight ----------------------------------------------------------------------------


async def test_waiters_are_served_lowest_priority_first() -> None:
    limit = InFlight(1)
    await limit.acquire()
    served: list[str] = []

    async def wait(name: str, priority: tuple[int, ...]) -> None:
        await limit.acquire(priority)
        served.append(name)
        limit.release()

    tasks = [
        asyncio.create_task(wait("late", (0, 0, 5))),
        asyncio.create_task(wait("chain", (-2, 0, 9))),
        asyncio.create_task(wait("remix", (0, -1, 7))),
    ]
    await asyncio.sleep(0)
    limit.release()
    await asyncio.gather(*tasks)
    assert served == ["chain", "remix", "late"]


async def test_a_cancelled_waiter_leaves_no_place_taken() -> None:
    limit = InFlight(1)
    await limit.acquire()
    waiter = asyncio.create_task(limit.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    limit.release()
    assert limit.in_use == 0
    await asyncio.wait_for(limit.acquire(), 1)
    assert limit.in_use == 1


async def test_busy_halves_from_the_tasks_in_flight_once_per_epoch() -> None:
    limit = InFlight(None, adaptive=True)
    assert limit.limit is None
    for _ in range(6):
        await limit.acquire()
    epoch = limit.epoch
    assert limit.busy(epoch) and limit.limit == 3
    # More 429s answering creates sent before that decrease are the same signal.
    assert not limit.busy(epoch) and limit.limit == 3
    assert limit.busy(limit.epoch) and limit.limit == 1
    assert limit.busy(limit.epoch) and limit.limit == 1  # never below one


async def test_taken_creates_raise_the_limit_by_one_per_window_up_to_the_ceiling() -> None:
    limit = InFlight(8, adaptive=True)
    for _ in range(8):
        await limit.acquire()
    limit.busy(limit.epoch)
    assert limit.limit == 4
    for _ in range(4):
        limit.taken()
    assert limit.limit == 4  # 4.92: 1/limit per accepted create
    limit.taken()
    assert limit.limit == 5  # one more after about a limit's worth of accepted creates
    for _ in range(100):
        limit.taken()
    assert limit.limit == 8


async def test_a_fixed_limit_ignores_busy_and_taken() -> None:
    limit = InFlight(4)
    await limit.acquire()
    assert not limit.busy(limit.epoch)
    limit.taken()
    assert limit.limit == 4


async def test_a_lowered_limit_keeps_new_holders_waiting_until_places_free() -> None:
    limit = InFlight(None, adaptive=True)
    for _ in range(4):
        await limit.acquire()
    limit.busy(limit.epoch)  # 2 allowed, 4 held
    waiter = asyncio.create_task(limit.acquire())
    limit.release()
    limit.release()
    await asyncio.sleep(0)
    assert not waiter.done()
    limit.release()
    await asyncio.wait_for(waiter, 1)
    assert limit.in_use == 2


# -- critical path -----------------------------------------------------------------------

CHAINS = """\
version: 1
name: chains
providers: {gw: {api: newapi}}
defaults: {provider: gw, model: sora-2, seconds: 4, size: 1280x720}
shots:
  - {id: lone, prompt: "a"}
  - {id: short, prompt: "b"}
  - {id: long, prompt: "c"}
  - {id: short2, remix: short, prompt: "d"}
  - {id: long2, remix: long, prompt: "e"}
  - {id: long3, remix: long2, prompt: "f"}
"""


def test_priorities_put_the_longest_chain_first_and_ready_dependents_next() -> None:
    order = priorities(loads(CHAINS))
    assert sorted(order, key=order.__getitem__) == [
        "long",  # two shots wait on it, one after the other
        "long2",  # one waits on it, and it waits on one
        "short",
        "long3",  # a dependent goes ahead of shots that have not started, the deeper first
        "short2",
        "lone",
    ]


# -- a run -------------------------------------------------------------------------------


def board(tmp_path: Path, count: int, provider_block: str = "") -> Path:
    shots = "\n".join(f'  - {{id: s{i}, prompt: "shot {i}"}}' for i in range(count))
    path = tmp_path / "board.yaml"
    path.write_text(
        "version: 1\nname: busy\nproviders:\n"
        f"  gw: {{api: apifree{provider_block}}}\n"
        "defaults: {provider: gw, model: any-model, seconds: 4, size: 320x180}\n"
        f"shots:\n{shots}\n"
    )
    return path


def test_the_run_states_its_limits_and_a_provider_has_none_unless_its_block_says(
    tmp_path: Path,
) -> None:
    said: list[LimitsEvent] = []
    gateway = embedded_emulator(job_seconds=0)
    options = RunOptions(
        out_dir=tmp_path / "out", concurrency=8, gateway=gateway, on_limits=said.append
    )
    run(board(tmp_path, 2), options)
    assert said == [LimitsEvent(concurrency=8, providers=(("gw", None),))]
    assert said[0].text == (
        "limits: 8 tasks in flight (--concurrency); per provider: gw: no limit of its own"
    )
    said.clear()
    options = RunOptions(
        out_dir=tmp_path / "out2", concurrency=8, gateway=gateway, on_limits=said.append
    )
    run(board(tmp_path, 2, ", concurrency: 3"), options)
    assert said == [LimitsEvent(concurrency=8, providers=(("gw", 3),))]


def test_the_cli_prints_the_limits_in_one_line(tmp_path: Path) -> None:
    path = board(tmp_path, 1, ", concurrency: 2")
    argv = ["run", str(path), "--out", str(tmp_path / "out"), "--concurrency", "8"]
    result = CliRunner().invoke(main, [*argv, "--job-seconds", "0"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("limits:")]
    assert lines == ["limits: 8 tasks in flight (--concurrency); per provider: gw: 2"]


def test_429s_for_too_many_tasks_in_flight_lower_the_limit_and_fail_no_shot(
    tmp_path: Path,
) -> None:
    events: list[ShotEvent] = []
    config = EmulatorConfig(job_seconds=0.3, max_in_flight=2, retry_after_seconds=0.05)
    with running_server(config) as url:
        path = board(tmp_path, 6, f", base_url: '{url}/apifree', api_key: k")
        options = RunOptions(out_dir=tmp_path / "out", concurrency=6)
        result = run(path, options, on_event=events.append)
        stats = httpx.get(f"{url}/_emulator/stats").json()
    assert result.ok, result.to_json()
    assert {s.status for s in result.shots.values()} == {ShotState.DONE}
    assert stats["faults"]["in-flight"] >= 1  # the gateway did answer 429
    assert stats["creates"]["total"] == 6  # a 429 means not taken: one task per shot
    busy = [e for e in events if e.message.startswith("the gateway is busy (429)")]
    assert len(busy) == stats["faults"]["in-flight"]
    # The limit came down from six tasks in flight (no limit of its own) to what was let in.
    assert any("; 3 in flight for now" in e.message for e in busy)
    # Each 429 was recorded as not taken: a run stopped while waiting sends it again.
    with Ledger.open(tmp_path / ".vidpipe") as ledger:
        kinds = [e.kind for s in result.shots.values() for e in ledger.events(s.fingerprint or "")]
    assert kinds.count("not_taken") == len(busy)


def test_a_remix_is_sent_as_soon_as_its_source_is_ready(tmp_path: Path) -> None:
    path = tmp_path / "board.yaml"
    path.write_text(
        "version: 1\nname: chain\nproviders:\n  gw: {api: newapi}\n"
        "defaults: {provider: gw, model: sora-2, seconds: 4, size: 1280x720}\nshots:\n"
        + "".join(f'  - {{id: free{i}, prompt: "free {i}"}}\n' for i in range(3))
        + '  - {id: source, prompt: "source"}\n'
        + '  - {id: remixed, remix: source, prompt: "again"}\n'
    )
    events: list[ShotEvent] = []
    options = RunOptions(
        out_dir=tmp_path / "out", concurrency=1, gateway=embedded_emulator(job_seconds=0)
    )
    assert run(path, options, on_event=events.append).ok
    sent = [e.shot_id for e in events if e.phase == ShotState.SUBMITTING]
    assert sent == ["source", "remixed", "free0", "free1", "free2"]


def test_shots_waiting_for_a_place_are_queued_not_tasks(tmp_path: Path) -> None:
    tasks_seen: list[int] = []

    def count(event: ShotEvent) -> None:
        tasks_seen.append(len(asyncio.all_tasks()))

    options = RunOptions(
        out_dir=tmp_path / "out", concurrency=3, gateway=embedded_emulator(job_seconds=0)
    )
    result = run(board(tmp_path, 24), options, on_event=count)
    assert result.ok
    # Two lanes per place (six) and the run's own tasks; not one task per shot.
    assert 6 <= max(tasks_seen) <= 12, max(tasks_seen)


def test_the_next_create_leaves_while_a_finished_task_s_video_downloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    downloading = [0, 0]  # now, most at once
    real_download = BaseAdapter.download

    async def slow_download(self: Any, snapshot: Any, dest: Path, **kw: Any) -> Any:
        seen.append(f"start {dest.name}")
        downloading[0] += 1
        downloading[1] = max(downloading)
        got = await real_download(self, snapshot, dest, **kw)
        await asyncio.sleep(2.0)  # a large video: the next task finishes meanwhile
        seen.append(f"downloaded {dest.name}")
        downloading[0] -= 1
        return got

    monkeypatch.setattr(BaseAdapter, "download", slow_download)

    def note(event: ShotEvent) -> None:
        if event.phase == ShotState.SUBMITTING:
            seen.append(f"create {event.shot_id}")

    options = RunOptions(
        out_dir=tmp_path / "out", concurrency=1, gateway=embedded_emulator(job_seconds=0)
    )
    assert run(board(tmp_path, 2), options, on_event=note).ok
    # One task in flight at a time, yet s1's create does not wait for s0's download; and
    # downloads keep to the run's cap of their own.
    assert [s.split()[0] for s in seen] == [
        *("create", "start", "create"),
        *("downloaded", "start", "downloaded"),
    ]
    assert downloading == [0, 1]


def test_a_provider_at_its_limit_leaves_the_run_s_other_places_to_the_others(
    tmp_path: Path,
) -> None:
    path = tmp_path / "board.yaml"
    path.write_text(
        "version: 1\nname: two\nproviders:\n"
        "  slow: {api: apifree, concurrency: 1}\n  fast: {api: apifree}\n"
        "defaults: {provider: slow, model: any-model, seconds: 4, size: 320x180}\nshots:\n"
        + "".join(f'  - {{id: slow{i}, prompt: "slow {i}"}}\n' for i in range(7))
        + "".join(f'  - {{id: fast{i}, prompt: "fast {i}", provider: fast}}\n' for i in range(4))
    )
    events: list[ShotEvent] = []
    options = RunOptions(
        out_dir=tmp_path / "out", concurrency=3, gateway=embedded_emulator(job_seconds=0)
    )
    assert run(path, options, on_event=events.append).ok
    sent = [e.shot_id for e in events if e.phase == ShotState.SUBMITTING]
    # The slow provider's seven shots come first in the file, more than the run has lanes
    # (six), yet the fast one is not held back behind them: its four go out on the two
    # places the slow one cannot use.
    assert sent.index("fast3") < sent.index("slow3"), sent
    assert [s for s in sent if s.startswith("slow")] == [f"slow{i}" for i in range(7)]


def test_polling_is_told_how_long_the_models_tasks_took_in_earlier_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[tuple[float | None, bool]] = []

    async def spying(*args: Any, **kw: Any) -> Any:
        told.append((kw["expected_s"], kw["initial"] is not None))
        return await real_poll(*args, **kw)

    monkeypatch.setattr(executor_module, "poll", spying)
    gateway = embedded_emulator(job_seconds=0.2)
    path = board(tmp_path, 1)
    state = tmp_path / "state"
    assert run(path, RunOptions(out_dir=tmp_path / "out", state_dir=state, gateway=gateway)).ok
    assert told == [(None, True)]  # nothing known yet; the create's answer times the first read
    path.write_text(path.read_text().replace("shot 0", "another shot"))
    assert run(path, RunOptions(out_dir=tmp_path / "out", state_dir=state, gateway=gateway)).ok
    expected, _ = told[1]
    assert expected is not None and 0.2 <= expected < 5


def test_polling_expects_what_tasks_of_the_same_length_took(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[float | None] = []

    async def spying(*args: Any, **kw: Any) -> Any:
        told.append(kw["expected_s"])
        return await real_poll(*args, **kw)

    monkeypatch.setattr(executor_module, "poll", spying)
    path = board(tmp_path, 1)
    state = tmp_path / "state"

    def run_with(prompt: str, seconds: int, job_seconds: float) -> float | None:
        text = path.read_text()
        text = text.replace("shot 0", prompt).replace("seconds: 4", f"seconds: {seconds}")
        (tmp_path / "b.yaml").write_text(text)
        options = RunOptions(
            out_dir=tmp_path / "out",
            state_dir=state,
            gateway=embedded_emulator(job_seconds=job_seconds),
        )
        assert run(tmp_path / "b.yaml", options).ok
        return told[-1]

    assert run_with("short one", 4, 0.2) is None  # nothing known yet
    # Nothing known of 12 s clips: this model's tasks of any length are the guess.
    # (A duration is the time until a read saw the success: the short job's is the wait
    # for the first read, a second or so.)
    guess = run_with("long one", 12, 4.0)
    assert guess is not None and guess < 3.0
    # Now each length has its own: a 4 s clip expects the short time, a 12 s one the long.
    short = run_with("short two", 4, 0.2)
    long = run_with("long two", 12, 4.0)
    assert short is not None and long is not None
    assert short < 3.0 and long >= 4.0


# -- what a run keeps of a shot that ended ---------------------------------------------------


async def test_identical_requests_run_one_after_the_other_and_leave_no_lock() -> None:
    same = executor_module._SameRequest()
    order: list[str] = []
    gate = asyncio.Event()

    async def shot(name: str, fp: str) -> None:
        async with same.hold(fp):
            order.append(f"{name} in")
            await gate.wait()
            order.append(f"{name} out")

    first = asyncio.create_task(shot("a", "fp1"))
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(shot(n, "fp1")) for n in ("b", "c")]
    other = asyncio.create_task(shot("x", "fp2"))
    await asyncio.sleep(0.01)
    assert order == ["a in", "x in"] and len(same) == 2  # b and c wait on a's lock
    gate.set()
    await asyncio.gather(first, *waiting, other)
    assert order[2:] == ["a out", "x out", "b in", "b out", "c in", "c out"]
    assert len(same) == 0  # nobody holds or waits: nothing is kept


async def test_a_cancelled_waiter_gives_its_lock_back() -> None:
    same = executor_module._SameRequest()
    async with same.hold("fp"):
        waiter = asyncio.create_task(same.hold("fp").__aenter__())
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    assert len(same) == 0


def test_a_run_keeps_no_places_or_locks_for_the_shots_that_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vidpipe.runner.run as run_module

    seen: list[executor_module.Executor] = []
    real = run_module._run_shots

    async def keep(executor: executor_module.Executor, order: list[str]) -> None:
        seen.append(executor)
        await real(executor, order)

    monkeypatch.setattr(run_module, "_run_shots", keep)
    path = board(tmp_path, 12)
    path.write_text(path.read_text() + '  - {id: again, prompt: "shot 3"}\n')
    options = RunOptions(
        out_dir=tmp_path / "out", concurrency=4, gateway=embedded_emulator(job_seconds=0)
    )
    result = run(path, options)
    assert result.ok and result["again"].fingerprint == result["s3"].fingerprint
    (executor,) = seen
    assert len(executor.results) == 13  # every shot's result is kept
    assert executor.places == {} and len(executor.same_request) == 0
