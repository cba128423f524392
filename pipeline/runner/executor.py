"""The executor: one shot's way from the ledger's answer to a verified file.

A remix first waits for its source: its fingerprint names the source's task (lineage), so a
regenerated source makes it again. A forced shot (`--force`, recorded in the ledger) first
sets its current generation aside, once. Then, for every shot, the ledger decides:

    done, verified file in the cache     -> reuse it (a copy in the output folder)
    done, file gone                      -> download again from the task
    running (a task id is known)         -> re-attach and poll (the deadline counts from
                                            the task's creation)
    submitting, request never left      -> send it: nothing reached the provider
    submitting (sent) / unknown          -> look the task up where the spec offers a way,
                                            else report `unknown` and what resolving costs
    expired (the provider dropped it)    -> report `expired`; only --force creates it again
    new or failed                        -> record the intent, create (recording the moment
                                            its request leaves), record the task id

A create is sent again only when it certainly never reached the provider; a failure after
it left makes the shot `unknown` (see `vidpipe.retry`). Downloads that fail after the task
finished keep the task: the next run downloads with no create. Shots with identical requests
(one fingerprint) share one task: they run one after another, so the second finds the
first's file. Writes to the ledger are durable before the next remote call.

A shot holds a place under the run's `--concurrency` and one under its provider's limit
while its task is in flight, from its create until a read finds the task finished
(`vidpipe.inflight`); waiting shots get places along the critical path (`dag.priorities`).
So the next create leaves while the video is downloaded, not after. A shot that others wait
for (a remix, a continuity frame) keeps its places until its result is said, for them to go
first. Downloads have a limit of their own, the run's `--concurrency`: each holds a few MiB.
A create answered 429 gives both places back, lowers the provider's limit (AIMD), waits
what the gateway asked (or backs off) and is sent again: a 429 says the task was not
taken, and it never fails the shot before the poll deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from ..adapters import Adapter, TaskSnapshot, make_adapter
from ..dag import priorities
from ..errors import (
    BudgetReached,
    ContentExpired,
    FrameError,
    InputError,
    PollTimeout,
    ProviderError,
    ResultRefused,
    StateError,
    TaskFailed,
    UnknownCreate,
    UnmappedStatus,
    WriteError,
)
from ..events import EventSink, LimitsEvent, ShotEvent
from ..inflight import InFlight
from ..ledger import ForceRecord, Ledger, LedgerWriter, ShotRecord
from ..manifest import ShotResult
from ..model import Storyboard
from ..outdir import OutDir
from ..polling import poll
from ..pricing import Quote, dollars
from ..requests import CreateRequest, with_frame
from ..retry import RetryPolicies, backoff_seconds, is_busy, is_testing
from ..serial import shared_pool
from ..statedir import StateDir
from ..states import ShotState
from ..transport import Connection, on_send
from .known import shot_result
from .lineage import adoptable, fingerprints, request_print
from .options import RunOptions

__all__ = ["Executor"]

_FAILABLE = (ShotState.SUBMITTING, ShotState.RUNNING)


class _Done(Exception):
    """A shot's way ends early with this result (unknown, expired, refused...)."""

    def __init__(self, result: ShotResult) -> None:
        self.result = result
        super().__init__(result.error or result.status)


def _mutable(requests: Mapping[str, CreateRequest]) -> dict[str, CreateRequest]:
    return dict(requests)


class _Places:
    """One shot's places under the run's cap and its provider's limit, given back and taken
    again around a create the gateway was too busy for."""

    def __init__(self, run: InFlight, provider: InFlight, priority: tuple[int, ...]) -> None:
        self.run = run
        self.provider = provider
        self.priority = priority
        self.holding = False

    async def take(self) -> None:
        await self.provider.acquire(self.priority)
        try:
            await self.run.acquire(self.priority)
        except BaseException:
            self.provider.release()
            raise
        self.holding = True

    def give_back(self) -> None:
        if self.holding:
            self.holding = False
            self.run.release()
            self.provider.release()

    async def __aenter__(self) -> _Places:
        await self.take()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.give_back()


class _SameRequest:
    """A lock per fingerprint: shots whose requests are identical run one after the other.
    A lock is dropped once no shot holds or waits for it, so a run of thousands of shots
    keeps none for the shots that ended."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # the lock, its users

    @contextlib.asynccontextmanager
    async def hold(self, fp: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(fp) or (asyncio.Lock(), 0)
        self._locks[fp] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[fp]
            if users == 1:
                del self._locks[fp]
            else:
                self._locks[fp] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


@attrs.frozen
class _Task:
    """The task a shot waits for, and when it was created (unix seconds, for its deadline)."""

    task_id: str
    created_at: float
    downloaded_before: bool = False
    # The create's answer, for a task created just now (polling times its first read).
    created: TaskSnapshot | None = None


@attrs.define
class Executor:
    storyboard: Storyboard
    options: RunOptions
    # A shot's request once its frame image is taken replaces the one it was planned with.
    requests: dict[str, CreateRequest] = attrs.field(converter=_mutable)
    ledger: Ledger
    state: StateDir
    out: OutDir
    conns: Mapping[str, Connection]
    on_event: EventSink
    run_id: int
    writer: LedgerWriter
    forces: dict[str, ForceRecord] = attrs.Factory(dict)
    results: dict[str, asyncio.Future[ShotResult]] = attrs.Factory(dict)
    # Each shot's fingerprint, once known (a remix's needs its source's task).
    prints: dict[str, str] = attrs.Factory(dict)
    run_limit: InFlight = attrs.field(init=False)
    #: Downloads at once: as many as the run's cap on tasks in flight.
    downloads: asyncio.Semaphore = attrs.field(init=False)
    provider_limits: dict[str, InFlight] = attrs.Factory(dict)
    places: dict[str, _Places] = attrs.Factory(dict)  # of the shots running now
    # Seconds from creation to success of the latest tasks of each kind (`_duration_key`),
    # newest first.
    durations: dict[_DurationKey, list[float]] = attrs.Factory(dict)
    priority: dict[str, tuple[int, int, int]] = attrs.field(init=False)
    adapters: dict[str, Adapter] = attrs.Factory(dict)
    same_request: _SameRequest = attrs.Factory(_SameRequest)
    known_tasks: set[str] = attrs.field(init=False)
    #: Each shot's estimate, and the budget its creates are reserved against: the
    #: storyboard's name and the budget in USD (None: no budget).
    estimates: Mapping[str, Quote] = attrs.Factory(dict)
    #: The fingerprints of the shots built on no other, as planned: their requests do not
    #: change during the run (a remix's and a frame shot's wait for their source's task).
    planned_prints: Mapping[str, str] = attrs.Factory(dict)
    budget: tuple[str, float] | None = None
    #: Set once a create was refused for the budget: no other is sent in this run.
    budget_reached: str | None = None

    def __attrs_post_init__(self) -> None:
        self.run_limit = InFlight(max(1, self.options.concurrency))
        self.downloads = asyncio.Semaphore(max(1, self.options.concurrency))
        for name, provider in self.storyboard.providers.items():
            self.provider_limits[name] = InFlight(provider.concurrency, adaptive=True)
        self.priority = priorities(self.storyboard)
        self.known_tasks = self.ledger.known_task_ids()

    @functools.cached_property
    def legacy(self) -> dict[str, str]:
        """Each shot's fingerprint without its source's generation (`lineage.fingerprints`),
        made when a remix first needs one: a run that adopts no legacy row never does."""
        return fingerprints(self.storyboard, self.requests)

    def emit(self, shot_id: str, phase: ShotState, **kw: Any) -> None:
        self.on_event(ShotEvent(shot_id, phase, **kw))

    def limits(self, providers: set[str]) -> LimitsEvent:
        """The run's effective limits on tasks in flight, for `providers`."""
        return LimitsEvent(
            concurrency=max(1, self.options.concurrency),
            providers=tuple((name, self.provider_limits[name].limit) for name in sorted(providers)),
        )

    def adapter(self, shot_id: str) -> Adapter:
        req = self.requests[shot_id]
        provider = self.storyboard.shot(shot_id).provider
        key = f"{provider}/{req.spec.name}"
        if key not in self.adapters:
            # A create answered 429 comes back here, to be paced with the provider's limit.
            self.adapters[key] = make_adapter(
                req.spec, self.conns[provider], retry_busy_creates=False
            )
        return self.adapters[key]

    def result(self, shot_id: str, status: ShotState, **kw: Any) -> ShotResult:
        kw.setdefault("fingerprint", self.prints.get(shot_id))
        kw.setdefault("made_in_run", self.run_id)
        quote = self.estimates.get(shot_id)
        kw.setdefault("estimate_usd", quote.usd if quote else None)
        if status == ShotState.CACHED:
            kw.setdefault("spend_usd", 0.0)  # reused: this run paid nothing for it
        elif kw["fingerprint"] is not None:
            record = self.ledger.lookup(kw["fingerprint"])
            kw.setdefault("spend_usd", record.spend_usd if record else None)
            # Its create left in an earlier run, which paid for it (and counts it).
            if record is not None and record.run_id != self.run_id and record.sent:
                kw.setdefault("resumed", True)
        return shot_result(self.storyboard, self.requests[shot_id], status, **kw)

    def ended(self, shot_id: str, status: ShotState, message: str, **kw: Any) -> _Done:
        """End a shot's way with `status` and `message` (shown live, kept in the result)."""
        phase = ShotState.FAILED if status == ShotState.EXPIRED else status
        self.emit(shot_id, phase, message=message, task_id=kw.get("task_id"))
        return _Done(self.result(shot_id, status, error=message, **kw))

    # -- one shot -----------------------------------------------------------------------

    async def shot(self, shot_id: str) -> ShotResult:
        """Run one shot to its result; a remix waits for its source's first."""
        try:
            return await self._remix_or_shot(shot_id)
        except _Done as done:
            return done.result

    async def _remix_or_shot(self, shot_id: str) -> ShotResult:
        req = self.requests[shot_id]
        source: ShotResult | None = None
        if req.source_of:
            source = await self.results[req.source_of]
            if source.fingerprint is None or source.task_id is None:
                message = f"{req.source_of} did not finish"
                self.emit(shot_id, ShotState.SKIPPED, message=message)
                return self.result(shot_id, ShotState.SKIPPED, error=message)
        fp = self.planned_prints.get(shot_id) if source is None else None
        if fp is None:
            fp = request_print(
                self.storyboard,
                req,
                remix_source=source.fingerprint if source else None,
                source_task=source.task_id if source else None,
            )
        self.prints[shot_id] = fp
        source_task = source.task_id if source else None
        if source is not None and not source.ok:
            # This shot's own file still stands: its fingerprint names the source's task.
            cached = None if self.forced(shot_id) else self.cached(shot_id, fp)
            if cached is not None:
                return cached
            message = f"{req.source_of} did not finish"
            self.emit(shot_id, ShotState.SKIPPED, message=message)
            return self.result(shot_id, ShotState.SKIPPED, error=message, source_task=source_task)
        provider = self.storyboard.shot(shot_id).provider
        self.emit(shot_id, ShotState.PENDING)
        # Shots whose requests are identical share one fingerprint, hence one task and one
        # file: the second waits for the first and then finds its file in the cache.
        places = _Places(self.run_limit, self.provider_limits[provider], self.priority[shot_id])
        self.places[shot_id] = places
        try:
            async with self.same_request.hold(fp), places:
                result = await self._shot(shot_id, fp, source_task)
                # Said before the places are given back, so a remix waiting on this shot asks
                # for them along with the shots that have not started.
                self.publish(shot_id, result)
                return result
        finally:
            del self.places[shot_id]  # kept only while the shot runs

    def awaited(self, shot_id: str) -> bool:
        """Whether other shots wait for this one (a remix, a frame): its chain is longer."""
        return self.priority[shot_id][0] < 0

    def publish(self, shot_id: str, result: ShotResult) -> None:
        """Make `result` the shot's (once) for the shots that wait on it."""
        future = self.results.get(shot_id)
        if future is not None and not future.done():
            future.set_result(result)

    def forced(self, shot_id: str) -> bool:
        """Whether a recorded force still has to set this shot's generation aside."""
        force = self.forces.get(shot_id)
        return force is not None and force.applied_to is None

    def apply_force(self, shot_id: str, fp: str) -> None:
        force = self.forces.get(shot_id)
        if force is not None and force.applied_to is None:
            self.ledger.apply_force(force, fp)
            self.forces[shot_id] = attrs.evolve(force, applied_to=fp)

    def record(self, shot_id: str, fp: str, source_task: str | None) -> ShotRecord | None:
        """The ledger's row for this generation; a remix's row from before lineage is
        adopted when it was made from its source's current task."""
        record = self.ledger.lookup(fp)
        req = self.requests[shot_id]
        if record is not None or req.source_of is None or source_task is None:
            return record
        old = self.ledger.lookup(self.legacy[shot_id])
        source_fp = self.prints.get(req.source_of)
        source = self.ledger.lookup(source_fp) if source_fp else None
        if adoptable(old, source) and self.ledger.adopt(self.legacy[shot_id], fp, source_task):
            return self.ledger.lookup(fp)
        return None

    def cached(self, shot_id: str, fp: str) -> ShotResult | None:
        """The shot's result from a verified file of an earlier run, placed in the output."""
        return self.from_cache(shot_id, self.ledger.lookup(fp))

    def from_cache(self, shot_id: str, record: ShotRecord | None) -> ShotResult | None:
        """`cached`, with the ledger's row just read."""
        if record is None or record.state != ShotState.DONE or not record.sha256:
            return None
        cached = self.state.cache.fetch(record.sha256, size=record.size)
        if cached is None:
            return None
        path = self.place(shot_id, cached, record.sha256, record.task_id)
        self.emit(shot_id, ShotState.CACHED, progress=100, task_id=record.task_id)
        return self.result(
            shot_id,
            ShotState.CACHED,
            task_id=record.task_id,
            file=path,
            sha256=record.sha256,
            bytes=record.size,
            timings=record.timings or {},
            source_task=record.source_task,
            made_in_run=record.run_id,
        )

    def place(self, shot_id: str, cached: Path, sha256: str, task_id: str | None) -> Path:
        """A copy of the cached video in the output folder; a write error ends the shot."""
        try:
            return self.out.place(shot_id, cached, sha256, stamps=self.state.cache.stamps)
        except WriteError as exc:
            raise self.ended(
                shot_id,
                ShotState.FAILED,
                f"{exc}; the video is safe in the cache: free space (or fix the permission)"
                " and rerun to put it there (nothing is sent)",
                task_id=task_id,
            ) from exc

    async def _shot(self, shot_id: str, fp: str, source_task: str | None) -> ShotResult:
        timings: dict[str, float] = {}
        start = time.monotonic()
        self.apply_force(shot_id, fp)
        record = self.record(shot_id, fp, source_task)
        cached = self.from_cache(shot_id, record)
        if cached is not None:
            return cached
        self.take_frame(shot_id, fp)
        adapter = self.adapter(shot_id)
        task = await self.task(shot_id, fp, adapter, record, source_task)
        if record is None or record.state not in (ShotState.RUNNING, ShotState.DONE):
            timings["submitted"] = time.monotonic() - start
        snapshot = await self.wait(shot_id, adapter, task)
        timings["completed"] = time.monotonic() - start
        if not self.awaited(shot_id):
            # The provider's part is over: the next shot's create need not wait for the
            # download, the ledger and the output folder.
            self.places[shot_id].give_back()
        path, digest, size = await self.download(shot_id, fp, adapter, snapshot, timings, start)
        # The task's id as the ledger has it (`known_tasks` keeps that string): the status
        # answer's copy of it is not kept to the run's end.
        self.emit(shot_id, ShotState.DONE, progress=100, task_id=task.task_id)
        return self.result(
            shot_id,
            ShotState.DONE,
            task_id=task.task_id,
            file=path,
            sha256=digest,
            bytes=size,
            timings=timings,
            source_task=source_task,
        )

    def take_frame(self, shot_id: str, fp: str) -> None:
        """For a shot whose image is a frame of another shot's video: that frame, taken
        from the source's file, in the request in place of its stand-in."""
        req = self.requests[shot_id]
        if req.frame_of is None:
            return
        from ..frames import extract_frame  # PyAV, loaded only by a run that needs it

        source = self.results[req.frame_of.shot].result()
        try:
            if source.file is None:
                raise FrameError(f"{req.frame_of.shot} has no video file")
            out = self.state.frame_file(fp)
            # At the shot's own size where it names one: APIs may want the image at it.
            size = self.storyboard.shot(shot_id).size
            width, _, height = (size or "").partition("x")
            wanted = (int(width), int(height)) if size else None
            frame = extract_frame(source.file, req.frame_of.frame, out, size=wanted)
            self.requests[shot_id] = with_frame(self.storyboard, req, frame)
        except FrameError as exc:
            message = f"{shot_id}: image: {req.frame_of.describe()}: {exc}"
            raise self.ended(shot_id, ShotState.FAILED, message) from exc
        except InputError as exc:
            message = "; ".join(p.message for p in exc.problems)
            raise self.ended(shot_id, ShotState.FAILED, message) from exc

    # -- the task -----------------------------------------------------------------------

    async def task(
        self,
        shot_id: str,
        fp: str,
        adapter: Adapter,
        record: ShotRecord | None,
        source_task: str | None,
    ) -> _Task:
        """The task this shot's generation has, or gets: re-attached, found, or created."""
        if record is not None and record.state == ShotState.EXPIRED:
            raise self.ended(
                shot_id,
                ShotState.EXPIRED,
                f"the provider no longer serves the video of task {record.task_id}. "
                + _force_costs(shot_id),
                task_id=record.task_id,
            )
        if (
            record is not None
            and record.task_id
            and record.state
            in (
                ShotState.RUNNING,
                ShotState.DONE,
            )
        ):
            created = record.task_at or record.updated_at
            return _Task(record.task_id, created.timestamp(), record.state == ShotState.DONE)
        uncertain = (ShotState.SUBMITTING, ShotState.UNKNOWN)
        if record is not None and record.state in uncertain and record.sent:
            sent = record.sent_at or record.updated_at
            why = record.error or "the last run stopped while its create was being sent"
            return await self.recover(shot_id, fp, adapter, why, sent.timestamp(), source_task)
        return await self.create(shot_id, fp, adapter, source_task)

    async def create(
        self, shot_id: str, fp: str, adapter: Adapter, source_task: str | None
    ) -> _Task:
        req = self.requests[shot_id]
        quote = self.estimates.get(shot_id)
        if self.budget_reached is not None:
            raise self.ended(shot_id, ShotState.OVER_BUDGET, self.budget_reached)
        try:
            await self.writer.write(  # durable before the create is sent
                self.ledger.record_intent,
                run_id=self.run_id,
                shot_id=shot_id,
                fingerprint=fp,
                api=req.spec.api,
                model=req.model,
                request=req.public_fields(),
                source_task=source_task,
                estimate_usd=quote.usd if quote else None,
                budget=self.budget,
            )
        except BudgetReached as exc:
            # Stop submitting: the shots still to be created end over-budget too.
            self.budget_reached = (
                f"not sent: the budget of ${exc.budget:.2f} was reached (${exc.reserved:.2f}"
                " spent or reserved); rerun with a larger --budget to make it"
            )
            raise self.ended(
                shot_id, ShotState.OVER_BUDGET, f"not sent: {exc}; rerun with a larger --budget"
            ) from exc
        self.emit(shot_id, ShotState.SUBMITTING)
        sent_at = time.time()
        try:
            snapshot = await self.send_create(shot_id, fp, adapter, source_task)
            answered = time.time()  # the task's clock starts here, not after the write below
        except UnknownCreate as exc:
            self.ledger.record_unknown(fp, str(exc))
            return await self.recover(shot_id, fp, adapter, str(exc), sent_at, source_task)
        except ProviderError as exc:
            # Refused (4xx), or it never left: the provider did not take it.
            message = f"{exc}; the provider did not take this create: a rerun sends it again"
            self.ledger.record_failure(fp, message)
            self.ledger.release(fp)  # nothing was charged: its estimate is not held
            raise self.ended(shot_id, ShotState.FAILED, message) from exc
        await self.writer.write(self.ledger.record_task, fp, snapshot.task_id, snapshot.raw_status)
        self.known_tasks.add(snapshot.task_id)
        self.emit(shot_id, ShotState.QUEUED, task_id=snapshot.task_id, progress=snapshot.progress)
        return _Task(snapshot.task_id, answered, created=snapshot)

    async def send_create(
        self, shot_id: str, fp: str, adapter: Adapter, source_task: str | None
    ) -> TaskSnapshot:
        """Send the create until the gateway takes it or refuses it. A 429 (the task was not
        taken) lowers the provider's limit, gives this shot's places back for the wait the
        gateway asked for (else a backoff), and sends it again, up to the poll deadline."""
        req = self.requests[shot_id]
        places = self.places[shot_id]
        limit = places.provider
        policy = RetryPolicies().submit
        first = time.monotonic()
        skipped = 0.0  # waits testing mode did not sleep: they count all the same
        busy = 0
        while True:
            epoch = limit.epoch
            try:
                # The request leaves once the ledger has recorded (durably) that it does.
                with on_send(lambda: self.writer.write(self.ledger.record_sent, fp)):
                    snapshot = await adapter.create(req, remix_task_id=source_task)
            except ProviderError as exc:
                if not is_busy(exc):
                    raise
                busy += 1
                waited = time.monotonic() + skipped - first
                if waited >= self.options.poll_deadline:
                    raise ProviderError(
                        f"{exc}: the gateway answered every create 429 (busy) for"
                        f" {waited:.0f} s ({busy} times)",
                        shot=shot_id,
                    ) from exc
                # A 429 says the task was not taken: should this run stop while it waits,
                # the next one sends the create again.
                await self.writer.write(self.ledger.record_not_taken, fp)
                limit.busy(epoch)
                wait = backoff_seconds(exc, policy, busy)
                shown = "" if limit.limit is None else f"; {limit.limit} in flight for now"
                self.emit(
                    shot_id,
                    ShotState.PENDING,
                    message=f"the gateway is busy (429){shown}: sending again in {wait:.1f} s",
                )
                places.give_back()
                if is_testing():
                    skipped += wait
                else:
                    await asyncio.sleep(wait)
                await places.take()
                self.emit(shot_id, ShotState.SUBMITTING)
                continue
            limit.taken()
            return snapshot

    async def recover(
        self,
        shot_id: str,
        fp: str,
        adapter: Adapter,
        why: str,
        sent_at: float,
        source_task: str | None,
    ) -> _Task:
        """After a create whose answer was lost: find its task where the spec offers a way
        (re-attach), else end the shot `unknown` with what resolving it costs."""
        req = self.requests[shot_id]
        try:
            found = await adapter.find_task(
                req, since=sent_at, known=self.known_tasks, remix_task_id=source_task
            )
        except ProviderError as exc:
            found = None
            why = f"{why}; the provider's task list could not be read ({exc})"
        if found is not None:
            self.ledger.record_task(fp, found.task_id, found.raw_status)
            self.known_tasks.add(found.task_id)
            message = f"re-attached: the create's answer was lost, its task {found.task_id} found"
            self.emit(shot_id, ShotState.QUEUED, task_id=found.task_id, message=message)
            return _Task(found.task_id, sent_at)
        when = datetime.fromtimestamp(sent_at, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        raise self.ended(
            shot_id,
            ShotState.UNKNOWN,
            f"{why}. The create may have been taken: look for a {req.model} task created"
            f" around {when} at the provider. `--force {shot_id}` sends a new create, and"
            " pays twice if that task exists.",
        )

    async def wait(self, shot_id: str, adapter: Adapter, task: _Task) -> TaskSnapshot:
        """Poll until the task finished; the deadline counts from the task's creation."""
        fp = self.prints[shot_id]

        written: list[str | None] = [None]
        spent: list[float | None] = [None]
        seen: list[float | None] = [None]  # when a read first found the task done

        async def update(snap: TaskSnapshot) -> None:
            if snap.state == "succeeded" and seen[0] is None:
                seen[0] = time.time()
            # Progress lives in the events; the ledger records a change of state only.
            if not task.downloaded_before and snap.state != written[0]:
                written[0] = snap.state
                await self.writer.write(
                    self.ledger.record_status, fp, snap.state, snap.progress, snap.raw_status
                )
            if snap.spend_usd is not None and snap.spend_usd != spent[0]:
                spent[0] = snap.spend_usd
                await self.writer.write(self.ledger.record_spend, fp, snap.spend_usd)
            phase = ShotState.QUEUED if snap.state == "queued" else ShotState.RUNNING
            note = (
                f"status {snap.unmapped!r} is not in the spec; still polling"
                if snap.unmapped
                else ""
            )
            self.emit(shot_id, phase, progress=snap.progress, task_id=task.task_id, message=note)

        req = self.requests[shot_id]
        try:
            snapshot = await poll(
                adapter,
                task.task_id,
                deadline_s=self.options.poll_deadline,
                started_at=task.created_at,
                clock=time.time,
                on_update=update,
                status_grace_s=self.options.status_grace,
                initial=task.created,
                expected_s=self.expected_seconds(req),
            )
            if task.created is not None and seen[0] is not None:
                # Timed by the read, not by the writes after it: those are not the task's.
                self.took(req, seen[0] - task.created_at)
            return snapshot
        except UnmappedStatus as exc:
            spec = adapter.spec
            raise self.ended(
                shot_id,
                ShotState.FAILED,
                f"{shot_id}: task {task.task_id} answered status {exc.word!r} for"
                f" {exc.waited:g} s, and spec {spec.name} does not map it: add {exc.word!r} to"
                f" x-vidpipe-status in {spec.status_file()} (mapped to queued, running,"
                " succeeded or failed)",
                task_id=task.task_id,
            ) from exc
        except TaskFailed as exc:
            message = f"{shot_id}: the provider failed task {task.task_id}: {exc.reason or exc}"
            record = self.ledger.lookup(fp)
            if record is not None and record.spend_usd:
                message += f" (the gateway charged {dollars(record.spend_usd)} for it)"
            if record is not None and record.state in _FAILABLE:
                self.ledger.record_failure(fp, message)
            raise self.ended(shot_id, ShotState.FAILED, message, task_id=task.task_id) from exc
        except PollTimeout as exc:
            raise self.ended(
                shot_id,
                ShotState.FAILED,
                f"{exc}. The task is kept: rerun to keep waiting (a longer --poll-deadline"
                " waits longer; it counts from the task's creation)",
                task_id=task.task_id,
            ) from exc
        except ProviderError as exc:
            raise self.ended(
                shot_id,
                ShotState.FAILED,
                f"{exc}; the task is kept: rerun to resume task {task.task_id}",
                task_id=task.task_id,
            ) from exc

    def expected_seconds(self, req: CreateRequest) -> float | None:
        """How long tasks like this one take, from creation to success: the lower quartile
        of the latest ones of its model, from earlier runs (the ledger) and this one, of its
        video length where earlier tasks had it (else of any length). Each was seen by a
        read that came after the task finished, so the low end is the closest; a read that
        comes early costs one read and then follows the task's progress."""
        key = _duration_key(req)
        if key not in self.durations:
            api, model, length = key
            same = self.ledger.durations(api, model, sent=length) if length else []
            self.durations[key] = same or self.ledger.durations(api, model)
        known = sorted(self.durations[key])
        return known[len(known) // 4] if known else None

    def took(self, req: CreateRequest, seconds: float) -> None:
        """A task like `req` took `seconds` to succeed; the latest count most."""
        known = self.durations.setdefault(_duration_key(req), [])
        known.insert(0, seconds)
        del known[20:]

    async def download(
        self,
        shot_id: str,
        fp: str,
        adapter: Adapter,
        snapshot: TaskSnapshot,
        timings: dict[str, float],
        start: float,
    ) -> tuple[Path, str, int]:
        """Download, verify and cache the video, then place a copy in the output folder."""
        self.emit(shot_id, ShotState.DOWNLOADING, task_id=snapshot.task_id)
        task_id = snapshot.task_id
        tmp = self.state.tmp_dir / f"{fp}.mp4"

        def progress(done: int, total: int | None) -> None:
            pct = int(done * 100 / total) if total else None
            self.emit(shot_id, ShotState.DOWNLOADING, progress=pct, task_id=task_id)

        kept = f"task {task_id} is kept"
        try:
            async with self.downloads:
                got = await adapter.download(snapshot, tmp, on_progress=progress)
            digest = got.sha256
            cached = self.state.cache.store(got.path, digest, hashed_size=got.size)
            got.path.unlink(missing_ok=True)
        except ContentExpired as exc:
            self.ledger.record_expired(fp)
            raise self.ended(
                shot_id, ShotState.EXPIRED, f"{exc}. {_force_costs(shot_id)}", task_id=task_id
            ) from exc
        except ResultRefused as exc:
            raise self.ended(
                shot_id,
                ShotState.FAILED,
                f"{exc} (and after reading the task again for a fresh URL); {kept}: rerun to"
                " try the download again (no new create)",
                task_id=task_id,
            ) from exc
        except (WriteError, StateError) as exc:
            raise self.ended(
                shot_id,
                ShotState.FAILED,
                f"{exc}; {kept}: free space (or fix the permission) and rerun to download it"
                " (no new create)",
                task_id=task_id,
            ) from exc
        except ProviderError as exc:
            raise self.ended(
                shot_id, ShotState.FAILED, f"{exc}; {kept}: rerun to resume it", task_id=task_id
            ) from exc
        timings["downloaded"] = timings["seconds"] = time.monotonic() - start
        await self.writer.write(
            self.ledger.record_download,
            fp,
            path=str(cached),
            sha256=digest,
            size=got.size,
            timings=timings,
        )
        # A large video's copy takes a while: the other shots go on meanwhile. It runs on
        # the threads the downloads write with, not on threads of its own.
        placed = await asyncio.get_running_loop().run_in_executor(
            shared_pool(), self.place, shot_id, cached, digest, task_id
        )
        return placed, digest, got.size

    # -- the unexpected -----------------------------------------------------------------

    def crashed(self, shot_id: str, exc: Exception) -> ShotResult:
        """The result of a shot whose way ended in an unexpected error: that shot fails
        with its message, the others go on. A create that never left is left to be sent
        by the next run; one that may have left is `unknown`."""
        message = f"unexpected error: {type(exc).__name__}: {exc}"
        fp = self.prints.get(shot_id)
        record = self.ledger.lookup(fp) if fp else None
        if fp is not None and record is not None and record.state == ShotState.SUBMITTING:
            if record.sent:
                self.ledger.record_unknown(fp, message)
                message += "; its create had been sent, so the shot is unknown"
            else:
                message += "; its create never left: the next run sends it"
        elif record is not None and record.task_id:
            message += f"; task {record.task_id} is kept: rerun to resume it"
        self.emit(shot_id, ShotState.FAILED, message=message)
        task_id = record.task_id if record else None
        return self.result(shot_id, ShotState.FAILED, error=message, task_id=task_id)


#: Tasks expected to take alike: the API, the model and the video length sent, if any
#: (the request field and its number).
_DurationKey = tuple[str, str, tuple[str, float] | None]


def _duration_key(req: CreateRequest) -> _DurationKey:
    rule = req.spec.fields.get("duration")
    value = req.fields.get(rule.field) if rule is not None else None
    try:
        length = (rule.field, float(value)) if rule is not None and value is not None else None
    except (TypeError, ValueError):
        length = None
    return req.spec.api, req.model, length


def _force_costs(shot_id: str) -> str:
    return f"`--force {shot_id}` creates a new task, which is paid for again."
