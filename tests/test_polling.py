"""Polling: hints, progress-based intervals, deadlines, failures, retried polls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from vidpipe import retry
from vidpipe.adapters import TaskSnapshot, TaskState, make_adapter
from vidpipe.errors import HTTPStatusError, PollTimeout, TaskFailed, TransportError, UnmappedStatus
from vidpipe.polling import PollSettings, poll
from vidpipe.specs import default_registry
from vidpipe.transport import Connection


@pytest.fixture(autouse=True)
def _no_sleep() -> Iterator[None]:
    with retry.set_testing(True):
        yield


def snap(
    state: TaskState = "running",
    progress: int | None = None,
    poll_after: float | None = None,
    error: str | None = None,
    unmapped: str | None = None,
) -> TaskSnapshot:
    return TaskSnapshot(
        "t1",
        state,
        unmapped or state.upper(),
        progress,
        poll_after,
        None,
        error,
        {},
        unmapped,
    )


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class Scripted:
    """An adapter whose status answers are scripted (the last one repeats)."""

    def __init__(self, *snaps: TaskSnapshot) -> None:
        self.snaps = list(snaps)
        self.asked: list[str] = []

    async def status(self, task_id: str) -> TaskSnapshot:
        self.asked.append(task_id)
        return self.snaps.pop(0) if len(self.snaps) > 1 else self.snaps[0]


async def run(adapter: Any, clock: FakeClock, deadline: float = 600.0, **kw: Any) -> TaskSnapshot:
    return await poll(adapter, "t1", deadline_s=deadline, sleep=clock.sleep, clock=clock, **kw)


async def test_returns_the_succeeded_snapshot_and_reports_every_update() -> None:
    clock = FakeClock()
    seen: list[str] = []
    done = snap("succeeded", 100)
    adapter = Scripted(snap("queued"), snap("running", 50), done)
    got = await run(adapter, clock, on_update=lambda s: seen.append(s.state))
    assert got is done and seen == ["queued", "running", "succeeded"]
    assert adapter.asked == ["t1"] * 3


async def test_async_update_callbacks_are_awaited() -> None:
    seen: list[int | None] = []

    async def update(s: TaskSnapshot) -> None:
        seen.append(s.progress)

    await run(Scripted(snap("running", 10), snap("succeeded", 100)), FakeClock(), on_update=update)
    assert seen == [10, 100]


async def test_failed_task_raises_with_the_providers_reason() -> None:
    with pytest.raises(TaskFailed) as info:
        await run(Scripted(snap("running"), snap("failed", error="moderation")), FakeClock())
    assert info.value.reason == "moderation" and info.value.task_id == "t1"


async def test_the_servers_hint_sets_the_interval_within_bounds() -> None:
    clock = FakeClock()
    adapter = Scripted(
        snap(poll_after=2.0), snap(poll_after=0.01), snap(poll_after=600), snap("succeeded")
    )
    await run(adapter, clock, settings=PollSettings(floor=0.5, ceiling=15.0))
    assert clock.sleeps == [2.0, 0.5, 15.0]


async def test_a_small_floor_follows_small_emulator_hints() -> None:
    clock = FakeClock()
    adapter = Scripted(snap(poll_after=0.05), snap(poll_after=0.05), snap("succeeded"))
    await run(adapter, clock, settings=PollSettings(floor=0.01))
    assert clock.sleeps == [0.05, 0.05]


async def test_progress_rate_estimates_the_wait() -> None:
    clock = FakeClock()
    # 10 % -> 20 % over the first (default, 1 s) wait: 80 % left at 10 %/s = 8 s; the read
    # goes just after the predicted end (1 % past it).
    adapter = Scripted(snap("running", 10), snap("running", 20), snap("succeeded", 100))
    await run(adapter, clock)
    assert clock.sleeps == [1.0, 8.08]


async def test_the_hint_is_a_floor_not_a_schedule() -> None:
    clock = FakeClock()
    # The hint says 1 s, progress says 8 s: wait 8 s. Then progress says 0.2 s: wait the hint.
    adapter = Scripted(
        snap("running", 10, poll_after=1.0),
        snap("running", 20, poll_after=1.0),
        snap("running", 99, poll_after=1.0),
        snap("succeeded", 100),
    )
    await run(adapter, clock)
    assert clock.sleeps == [1.0, 8.08, 1.0]


async def test_one_progress_read_predicts_from_the_tasks_creation() -> None:
    clock = FakeClock()
    adapter = Scripted(snap("running", 25, poll_after=1.0), snap("succeeded", 100))
    # Created 3 s ago and 25 % through: 9 s to go.
    await poll(
        adapter, "t1", deadline_s=600, started_at=clock.now - 3, sleep=clock.sleep, clock=clock
    )
    assert clock.sleeps == [9.09]


async def test_progress_zero_while_queued_is_not_a_rate() -> None:
    clock = FakeClock()
    adapter = Scripted(
        snap("queued", 0, poll_after=1.0),
        snap("running", 25, poll_after=1.0),
        snap("succeeded", 100),
    )
    await poll(
        adapter, "t1", deadline_s=600, started_at=clock.now - 2, sleep=clock.sleep, clock=clock
    )
    # 0 % at 2 s, 25 % at 3 s: the rate since the creation (9 s to go), not 25 %/s.
    assert clock.sleeps == [1.0, 9.09]


async def expecting(job: float, expected_s: float, hint: float | None = None) -> Steady:
    """A `job`-second task just created, polled by a run that expects `expected_s`."""
    clock = FakeClock()
    task = Steady(clock, job)
    got = await poll(
        task,
        "t1",
        deadline_s=600,
        started_at=clock.now,
        sleep=clock.sleep,
        clock=clock,
        initial=snap("queued", 0, poll_after=hint),
        expected_s=expected_s,
    )
    assert got.state == "succeeded"
    return task


async def test_earlier_runs_time_a_progress_read_and_the_task_times_the_last() -> None:
    # Earlier tasks took 12 s, this one takes 10: the first read goes 80 % of the way to
    # the expected end (9.6 s) and sees 96 %, which times the last read (1 % past 10 s),
    # not the 12 s the earlier ones took.
    task = await expecting(10.0, 12.0)
    assert task.reads == 2
    assert task.clock.sleeps == [9.6, 1.0]  # the hint (1 s) is a floor: 0.4 s is too soon
    slower = await expecting(14.0, 12.0)
    # 68 % at 9.6 s: 14.12 s, and the read goes 1 % of the 4.52 s left past that.
    assert slower.clock.sleeps == [9.6, pytest.approx(4.563, abs=1e-3)] and slower.reads == 2


async def test_an_expected_end_within_two_hints_is_read_once() -> None:
    task = await expecting(1.5, 1.6, hint=1.0)
    assert task.clock.sleeps == [1.6] and task.reads == 1


async def test_without_the_creates_answer_a_task_is_read_at_once() -> None:
    clock = FakeClock()
    adapter = Scripted(snap("succeeded", 100))
    await poll(
        adapter,
        "t1",
        deadline_s=600,
        started_at=clock.now - 30,
        sleep=clock.sleep,
        clock=clock,
        expected_s=60.0,
    )
    assert clock.sleeps == [] and len(adapter.asked) == 1


class Steady:
    """A task that is queued for a fifth of `job` seconds, then reports progress rising
    steadily from its creation (as the emulator does), with a fixed 1 s hint."""

    def __init__(self, clock: FakeClock, job: float) -> None:
        self.clock = clock
        self.created = clock.now
        self.job = job
        self.reads = 0
        self.done_at: float | None = None

    async def status(self, task_id: str) -> TaskSnapshot:
        self.reads += 1
        elapsed = self.clock.now - self.created
        if elapsed >= self.job:
            self.done_at = self.clock.now
            return snap("succeeded", 100)
        if elapsed < self.job / 5:
            return snap("queued", 0, poll_after=1.0)
        return snap("running", min(99, int(100 * elapsed / self.job)), poll_after=1.0)


@pytest.mark.parametrize("job", [8.0, 12.0, 30.0, 95.0])
async def test_steady_tasks_take_a_third_of_hint_paced_reads_and_finish_on_time(
    job: float,
) -> None:
    clock = FakeClock()
    task = Steady(clock, job)
    await poll(
        task,
        "t1",
        deadline_s=600,
        started_at=clock.now,
        sleep=clock.sleep,
        clock=clock,
        initial=snap("queued", 0),
        settings=PollSettings(ceiling=600),
    )
    hint_paced = int(job) + 1  # a read at creation, then one a second until it is done
    assert task.reads * 3 <= hint_paced, task.reads
    assert task.done_at is not None and task.done_at - task.created <= job * 1.10


async def test_without_hint_or_progress_the_interval_grows_to_the_ceiling() -> None:
    clock = FakeClock()
    adapter = Scripted(*[snap("queued")] * 10, snap("succeeded"))
    await run(adapter, clock, settings=PollSettings(first=1.0, growth=2.0, ceiling=10.0))
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0]


async def test_the_deadline_raises_poll_timeout_after_a_last_poll() -> None:
    clock = FakeClock()
    adapter = Scripted(snap("running", poll_after=4.0))
    with pytest.raises(PollTimeout) as info:
        await run(adapter, clock, deadline=10.0)
    assert info.value.task_id == "t1"
    assert clock.sleeps == [4.0, 4.0, 2.0]  # the last wait is cut to the deadline
    assert len(adapter.asked) == 4 and clock.now == 110.0


async def test_busy_polls_are_retried_and_never_create() -> None:
    answers = [
        httpx.Response(429, headers={"Retry-After": "3"}, json={"error": {"message": "busy"}}),
        httpx.Response(503, text="<html>unavailable</html>"),
        httpx.Response(200, json={"id": "v1", "status": "in_progress", "progress": 50}),
        httpx.Response(500, json={"error": {"message": "hiccup"}}),
        httpx.Response(200, json={"id": "v1", "status": "completed", "progress": 100}),
    ]
    methods: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        methods.append(request.method)
        return answers.pop(0)

    async with Connection("http://api.test", "k", transport=httpx.MockTransport(handler)) as c:
        adapter = make_adapter(default_registry()["anyfast_sora"], c)
        got = await run(adapter, FakeClock())
    assert got.state == "succeeded"
    assert methods == ["GET"] * 5
    assert retry.recorded_waits("poll")[0] == 3.0 and len(retry.recorded_waits("poll")) == 3


class Failing:
    """An adapter whose status reads raise `errors` first, then answer `snaps`."""

    def __init__(self, errors: list[Exception], *snaps: TaskSnapshot) -> None:
        self.errors = errors
        self.snaps = list(snaps)
        self.asked = 0

    async def status(self, task_id: str) -> TaskSnapshot:
        self.asked += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.snaps.pop(0) if len(self.snaps) > 1 else self.snaps[0]


def busy(code: int = 502) -> HTTPStatusError:
    return HTTPStatusError(f"status: HTTP {code}", status_code=code)


async def test_status_reads_that_keep_failing_are_backed_off_until_they_answer() -> None:
    adapter = Failing([busy(502), busy(429), TransportError("reset")] * 4, snap("succeeded"))
    got = await run(adapter, FakeClock())
    assert got.state == "succeeded" and adapter.asked == 13


async def test_failing_status_reads_end_at_the_deadline_with_the_task_kept() -> None:
    adapter = Failing([busy(503)] * 10_000, snap("succeeded"))
    clock = FakeClock()
    with pytest.raises(PollTimeout, match=r"deadline is 120 s from its creation.*HTTP 503"):
        await run(adapter, clock, deadline=120.0)
    # Testing mode skips the backoff waits but counts them: a handful of reads, not 10 000.
    assert 3 < adapter.asked < 30 and clock.sleeps == []


async def test_a_status_read_that_is_refused_for_good_is_not_retried() -> None:
    adapter = Failing([busy(401)], snap("succeeded"))
    with pytest.raises(HTTPStatusError):
        await run(adapter, FakeClock())
    assert adapter.asked == 1


async def test_the_deadline_counts_from_the_tasks_creation() -> None:
    clock = FakeClock()
    adapter = Scripted(snap("running", poll_after=1.0))
    # Created 590 s ago with a 600 s deadline: ten seconds of polling are left.
    with pytest.raises(PollTimeout, match="has not finished 600 s after it was created"):
        await poll(
            adapter,
            "t1",
            deadline_s=600.0,
            started_at=clock.now - 590.0,
            sleep=clock.sleep,
            clock=clock,
        )
    assert sum(clock.sleeps) == 10.0
    # Past its deadline already: one look, then the report.
    late = Scripted(snap("running"))
    with pytest.raises(PollTimeout):
        await poll(late, "t1", deadline_s=60.0, started_at=0.0, sleep=clock.sleep, clock=clock)
    assert len(late.asked) == 1


# -- status words the spec does not map ------------------------------------------------------


async def test_an_unmapped_word_fails_when_the_grace_period_is_over() -> None:
    clock = FakeClock()
    adapter = Scripted(snap("queued"), snap(unmapped="RENDERING", poll_after=0.5))
    settings = PollSettings(first=1.0, growth=2.0, ceiling=15.0)
    with pytest.raises(UnmappedStatus) as info:
        await run(adapter, clock, status_grace_s=20.0, settings=settings)
    assert info.value.word == "RENDERING" and info.value.task_id == "t1"
    assert info.value.waited == 20.0 and "'RENDERING', which its spec does not map" in str(
        info.value
    )
    # The server's hint is not followed for a word nobody reads: the waits back off, and
    # the last one ends with the grace period.
    assert clock.sleeps == [1.0, 1.0, 2.0, 4.0, 8.0, 5.0]
    assert clock.now == 100.0 + 1.0 + 20.0


async def test_a_mapped_word_within_the_grace_period_carries_on() -> None:
    clock = FakeClock()
    adapter = Scripted(
        snap(unmapped="RENDERING"),
        snap(unmapped="RENDERING"),
        snap("running", 50),
        snap(unmapped="POLISHING"),
        snap("succeeded", 100),
    )
    got = await run(adapter, clock, status_grace_s=3.0)
    assert got.state == "succeeded"  # the grace period starts again at each unmapped run


async def test_no_grace_fails_at_the_first_unmapped_word() -> None:
    clock = FakeClock()
    with pytest.raises(UnmappedStatus) as info:
        await run(Scripted(snap(unmapped="???")), clock, status_grace_s=0.0)
    assert info.value.waited == 0.0 and clock.sleeps == []


async def test_the_deadline_still_comes_first_when_it_is_shorter() -> None:
    clock = FakeClock()
    with pytest.raises(PollTimeout):
        await run(Scripted(snap(unmapped="RENDERING")), clock, deadline=5.0, status_grace_s=60.0)


async def test_an_answer_in_words_the_spec_does_not_map_is_marked_unmapped() -> None:
    answers = [
        httpx.Response(200, json={"id": "v1", "status": "rendering", "progress": 10}),
        httpx.Response(200, json={"id": "v1", "status": "in_progress", "progress": 20}),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    async with Connection("http://api.test", "k", transport=httpx.MockTransport(handler)) as c:
        adapter = make_adapter(default_registry()["anyfast_sora"], c)
        odd, known = await adapter.status("v1"), await adapter.status("v1")
    assert (odd.state, odd.unmapped, odd.raw_status) == ("running", "rendering", "rendering")
    assert (known.state, known.unmapped) == ("running", None)


async def test_an_envelope_is_unmapped_only_when_no_word_in_it_is_mapped() -> None:
    def envelope(status: str, raw: str) -> httpx.Response:
        task = {"task_id": "t", "status": status, "data": {"status": raw}}
        return httpx.Response(200, json={"code": "success", "data": task})

    answers = [envelope("BAKING", "running"), envelope("BAKING", "simmering")]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    async with Connection("http://api.test", "k", transport=httpx.MockTransport(handler)) as c:
        adapter = make_adapter(default_registry()["anyfast_seedance"], c)
        first, second = await adapter.status("t"), await adapter.status("t")
    assert (first.state, first.unmapped) == ("running", None)  # the raw word is known
    assert (second.state, second.unmapped) == ("running", "BAKING")
