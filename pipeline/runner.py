"""Run a storyboard: submit, poll, remix, download and assemble, never paying twice.

For every shot the runner asks the ledger first:

    done, verified file in the cache      -> reuse it (no remote call)
    done, file gone                       -> download again from the task, if it still exists
    running (a task id is known)          -> re-attach and poll
    submitting / unknown (answer lost)    -> report `unknown`; only --force sends it again
    expired (the provider dropped it)     -> report `expired`; only --force creates it again
    new or failed                         -> record the intent, create, record the task id

Shots with identical requests (one fingerprint) share one task: they run one after another,
so the second finds the first's file. A remix whose own file is cached keeps it even when
its source could not be had this time.

Writes to the ledger are durable before the next remote call. Shots run concurrently up to
`--concurrency` and each provider's own `concurrency`; a remix waits for its source.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import httpx

from .adapters import Adapter, TaskSnapshot, make_adapter
from .assemble import concat
from .dag import plan_order, select
from .errors import (
    ContentExpired,
    InputError,
    PollTimeout,
    Problem,
    ProviderError,
    TaskFailed,
    UnknownCreate,
)
from .events import EventSink, Phase, ShotEvent, ignore
from .fingerprint import fingerprint, safe_filename, sha256_file
from .ledger import Ledger, ShotRecord, ShotState
from .loading import load
from .manifest import FinalResult, RunResult, ShotResult, write_manifest, write_report
from .model import ProviderConfig, Storyboard
from .polling import poll
from .ratelimit import RateLimitedTransport, RateLimiter
from .requests import CreateRequest, build_requests
from .specs import SpecRegistry, default_registry
from .statedir import StateDir
from .transport import Connection

_FAILABLE = (ShotState.SUBMITTING, ShotState.RUNNING)
# How long a task takes on the embedded emulator unless RunOptions.emulator says otherwise.
EMBEDDED_JOB_SECONDS = 2.0


@attrs.frozen
class RunOptions:
    """How to run a storyboard (the CLI's flags)."""

    out_dir: Path = Path("out")
    state_dir: Path | None = None
    concurrency: int = 4
    only: tuple[str, ...] = ()
    force: tuple[str, ...] = ()
    force_all: bool = False
    poll_deadline: float = 30 * 60.0
    argv: tuple[str, ...] = ()
    # Where `base_url: embedded` goes: an emulator config, or None for the defaults.
    emulator: Any = None
    # Tests route a provider to an in-process transport; None means real HTTP.
    transport_for: Callable[[ProviderConfig], httpx.AsyncBaseTransport | None] | None = None


@attrs.frozen
class PlannedShot:
    """One shot as `vidpipe plan` shows it."""

    shot_id: str
    level: int
    provider: str
    base_url: str
    request: CreateRequest
    fingerprint: str
    state: str  # new | cached | download | running | unknown | failed | expired
    # What the ledger holds for this fingerprint: the task, its last status and error.
    task_id: str | None = None
    status: str | None = None
    progress: int | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        req = self.request
        return {
            "shot": self.shot_id,
            "level": self.level,
            "provider": self.provider,
            "api": req.spec.api,
            "spec": req.spec.name,
            "endpoint": _endpoint(req),
            "model": req.model,
            "request": req.public_fields(),
            "remix_of": req.remix_of,
            "seed": req.seed,
            "seed_sent": req.seed_sent,
            "fingerprint": self.fingerprint,
            "state": self.state,
            "task_id": self.task_id,
            "status": self.status,
            "progress": self.progress,
            "error": self.error,
        }


def _endpoint(req: CreateRequest) -> str:
    op = req.spec.operation("remix" if req.remix_via == "endpoint" else "create")
    return f"{op.method} {op.path}"


def fingerprints(storyboard: Storyboard, requests: Mapping[str, CreateRequest]) -> dict[str, str]:
    """Each shot's fingerprint; a remix includes its source's, so edits flow downstream."""
    result: dict[str, str] = {}
    for level in plan_order(storyboard):
        for shot_id in level:
            req = requests[shot_id]
            provider = storyboard.provider_for(storyboard.shot(shot_id))
            result[shot_id] = fingerprint(
                api=req.spec.api,
                base_url=provider.base_url,
                spec_sha256=req.spec.sha256,
                model=req.model,
                request={
                    "content_type": req.content_type,
                    "fields": req.fingerprint_fields(),
                    "remix_via": req.remix_via,
                },
                files={k: f.sha256 for k, f in req.files.items()},
                remix_source=result[req.remix_of] if req.remix_of else None,
            )
    return result


def _plan_state(record: ShotRecord | None, cache_ok: bool) -> str:
    if record is None:
        return "new"
    if record.state == ShotState.DONE:
        return "cached" if cache_ok else "download"
    if record.state == ShotState.SUBMITTING:
        return "unknown"
    return str(record.state)


def plan(
    storyboard: Storyboard,
    *,
    state_dir: Path | None = None,
    registry: SpecRegistry | None = None,
) -> list[PlannedShot]:
    """What a run would do, shot by shot, in DAG order; sends nothing."""
    requests = build_requests(storyboard, registry or default_registry())
    prints = fingerprints(storyboard, requests)
    state = StateDir.for_storyboard(storyboard.path, state_dir)
    ledger = Ledger.open(state.path) if state.ledger_path.exists() else None
    planned = []
    try:
        for level_no, level in enumerate(plan_order(storyboard)):
            for shot_id in level:
                record = ledger.lookup(prints[shot_id]) if ledger else None
                cache_ok = bool(
                    record
                    and record.sha256
                    and state.cache.fetch(record.sha256, size=record.size) is not None
                )
                shot = storyboard.shot(shot_id)
                planned.append(
                    PlannedShot(
                        shot_id,
                        level_no,
                        shot.provider,
                        storyboard.provider_for(shot).base_url,
                        requests[shot_id],
                        prints[shot_id],
                        _plan_state(record, cache_ok),
                        task_id=record.task_id if record else None,
                        status=record.status if record else None,
                        progress=record.progress if record else None,
                        error=record.error if record else None,
                    )
                )
    finally:
        if ledger:
            ledger.close()
    return planned


def _embedded_emulator(options: RunOptions, state_dir: Path) -> Any:
    """The in-process emulator; its tasks live in the state dir so reruns still find them."""
    from .emulator import EmbeddedEmulator, EmulatorConfig

    config = options.emulator or EmulatorConfig(job_seconds=EMBEDDED_JOB_SECONDS)
    if config.store_dir is None:
        config = attrs.evolve(config, store_dir=state_dir / "emulator")
    return EmbeddedEmulator(config)


@contextlib.asynccontextmanager
async def _connections(
    storyboard: Storyboard, options: RunOptions, names: set[str], state_dir: Path
) -> AsyncIterator[dict[str, Connection]]:
    """One connection per provider in use; `embedded` ones share one in-process emulator."""
    emulator = None
    conns: dict[str, Connection] = {}
    async with contextlib.AsyncExitStack() as stack:
        for name in sorted(names):
            provider = storyboard.providers[name]
            transport = options.transport_for(provider) if options.transport_for else None
            if provider.is_embedded and transport is None:
                if emulator is None:
                    emulator = _embedded_emulator(options, state_dir)
                base_url = emulator.api_base_url(provider.api)
                api_key = provider.api_key or "vidpipe-embedded"
                transport = emulator.transport()
            else:
                base_url = provider.base_url if not provider.is_embedded else "http://embedded"
                api_key = provider.api_key
            if provider.rate is not None:
                limiter = RateLimiter(provider.rate)
                inner = transport or httpx.AsyncHTTPTransport()
                transport = RateLimitedTransport(inner, limiter, origin=base_url)
            conn = Connection(base_url, api_key, transport=transport)
            conns[name] = await stack.enter_async_context(conn)
        yield conns


@attrs.define
class _Runner:
    storyboard: Storyboard
    options: RunOptions
    requests: Mapping[str, CreateRequest]
    prints: Mapping[str, str]
    selected: set[str]
    ledger: Ledger
    state: StateDir
    conns: Mapping[str, Connection]
    on_event: EventSink
    run_id: int
    out_dir: Path
    results: dict[str, asyncio.Future[ShotResult]] = attrs.Factory(dict)
    slots: asyncio.Semaphore = attrs.field(init=False)
    provider_slots: dict[str, asyncio.Semaphore] = attrs.Factory(dict)
    adapters: dict[str, Adapter] = attrs.Factory(dict)
    fingerprint_locks: dict[str, asyncio.Lock] = attrs.Factory(dict)

    def __attrs_post_init__(self) -> None:
        self.slots = asyncio.Semaphore(max(1, self.options.concurrency))
        for name, provider in self.storyboard.providers.items():
            self.provider_slots[name] = asyncio.Semaphore(max(1, provider.concurrency))

    def emit(self, shot_id: str, phase: Phase, **kw: Any) -> None:
        self.on_event(ShotEvent(shot_id, phase, **kw))

    def adapter(self, shot_id: str) -> Adapter:
        req = self.requests[shot_id]
        provider = self.storyboard.shot(shot_id).provider
        key = f"{provider}/{req.spec.name}"
        if key not in self.adapters:
            self.adapters[key] = make_adapter(req.spec, self.conns[provider])
        return self.adapters[key]

    def result(self, shot_id: str, status: str, **kw: Any) -> ShotResult:
        shot = self.storyboard.shot(shot_id)
        req = self.requests[shot_id]
        return ShotResult(
            shot_id=shot_id,
            status=status,
            provider=shot.provider,
            api=req.spec.api,
            spec=req.spec.name,
            spec_sha256=req.spec.sha256,
            model=req.model,
            prompt=shot.prompt,
            request=req.public_fields(),
            fingerprint=self.prints[shot_id],
            seed=req.seed,
            seed_sent=req.seed_sent,
            remix_of=req.remix_of,
            **kw,
        )

    def place(self, shot_id: str, cached: Path) -> Path:
        """Put a verified cache file at out/<name>/<shot>.mp4 (link, else copy)."""
        target = self.out_dir / f"{safe_filename(shot_id)}.mp4"
        if target.exists() and os.path.samefile(target, cached):
            return target
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.link(cached, tmp)
        except OSError:
            shutil.copyfile(cached, tmp)
        os.replace(tmp, target)
        return target

    async def shot(self, shot_id: str) -> ShotResult:
        req = self.requests[shot_id]
        source_task: str | None = None
        if req.remix_of:
            source = await self.results[req.remix_of]
            if not source.ok:
                # This shot's own file still stands: its fingerprint covers the source's.
                cached = None if self.forced(shot_id) else self.cached(shot_id)
                if cached is not None:
                    return cached
                self.emit(shot_id, "skipped", message=f"remix source {req.remix_of} not done")
                return self.result(shot_id, "skipped", error=f"{req.remix_of} did not finish")
            source_task = source.task_id
        provider = self.storyboard.shot(shot_id).provider
        self.emit(shot_id, "pending")
        # Shots whose requests are identical share one fingerprint, hence one task and one
        # file: the second waits for the first and then finds its file in the cache.
        same_request = self.fingerprint_locks.setdefault(self.prints[shot_id], asyncio.Lock())
        async with same_request, self.slots, self.provider_slots[provider]:
            return await self._shot(shot_id, source_task)

    def forced(self, shot_id: str) -> bool:
        """Whether --force or --force-all asks for this shot to be generated again."""
        return self.options.force_all or shot_id in self.options.force

    def cached(self, shot_id: str) -> ShotResult | None:
        """The shot's result from a verified file of an earlier run, placed in the output."""
        record = self.ledger.lookup(self.prints[shot_id])
        if record is None or record.state != ShotState.DONE or not record.sha256:
            return None
        cached = self.state.cache.fetch(record.sha256, size=record.size)
        if cached is None:
            return None
        path = self.place(shot_id, cached)
        self.emit(shot_id, "cached", progress=100, task_id=record.task_id)
        return self.result(
            shot_id,
            "cached",
            task_id=record.task_id,
            file=path,
            sha256=record.sha256,
            bytes=record.size,
        )

    async def _shot(self, shot_id: str, source_task: str | None) -> ShotResult:
        fp = self.prints[shot_id]
        timings: dict[str, float] = {}
        start = time.monotonic()
        if self.forced(shot_id):
            self.ledger.forget(fp)
        cached = self.cached(shot_id)
        if cached is not None:
            return cached
        record = self.ledger.lookup(fp)
        if record and record.state in (ShotState.SUBMITTING, ShotState.UNKNOWN):
            message = (
                "a create was sent but its answer was lost; check the provider for the task, "
                f"then rerun with --force {shot_id} to send it again"
            )
            self.emit(shot_id, "unknown", message=message)
            return self.result(shot_id, "unknown", error=message)
        if record and record.state == ShotState.EXPIRED:
            # Generating it again is a new, paid task: only on request.
            message = (
                f"the provider no longer serves the video of task {record.task_id}; rerun "
                f"with --force {shot_id} to generate it again"
            )
            self.emit(shot_id, "failed", message=message)
            return self.result(shot_id, "expired", error=message, task_id=record.task_id)
        adapter = self.adapter(shot_id)
        try:
            if record and record.task_id and record.state in (ShotState.RUNNING, ShotState.DONE):
                task_id = record.task_id
            else:
                task_id = await self.create(shot_id, adapter, source_task)
                timings["submitted"] = time.monotonic() - start
            # A done task whose file is gone is only looked up again for its video URL.
            again = record is not None and record.state == ShotState.DONE
            snapshot = await self.wait(shot_id, adapter, task_id, record_status=not again)
            timings["completed"] = time.monotonic() - start
            path, digest, size = await self.download(shot_id, adapter, snapshot)
            timings["downloaded"] = time.monotonic() - start
        except UnknownCreate as exc:
            self.ledger.record_unknown(fp, str(exc))
            self.emit(shot_id, "unknown", message=str(exc))
            return self.result(shot_id, "unknown", error=str(exc))
        except ContentExpired as exc:
            self.ledger.record_expired(fp)
            message = f"{exc}; rerun with --force {shot_id} to generate it again"
            self.emit(shot_id, "failed", message=message)
            return self.result(shot_id, "expired", error=message, task_id=exc.task_id)
        except PollTimeout as exc:  # the task may still finish: the next run re-attaches
            self.emit(shot_id, "failed", message=str(exc))
            return self.result(shot_id, "failed", error=str(exc), task_id=exc.task_id)
        except ProviderError as exc:
            state = self.ledger.lookup(fp)
            definitive = isinstance(exc, TaskFailed) or (
                state is not None and state.state == ShotState.SUBMITTING
            )
            message = str(exc)
            if definitive and state is not None and state.state in _FAILABLE:
                # The provider said no (a failed task, or a create it refused): a rerun
                # may try again.
                self.ledger.record_failure(fp, message)
            elif state is not None and state.state == ShotState.RUNNING:
                # A poll or download broke after the task was created: the task may still
                # finish, so the ledger keeps it and the next run re-attaches.
                message = f"{message}; rerun to resume task {state.task_id}"
            self.emit(shot_id, "failed", message=message)
            return self.result(shot_id, "failed", error=message, task_id=exc.task_id)
        timings["seconds"] = time.monotonic() - start
        self.emit(shot_id, "done", progress=100, task_id=snapshot.task_id)
        return self.result(
            shot_id,
            "done",
            task_id=snapshot.task_id,
            file=path,
            sha256=digest,
            bytes=size,
            timings=timings,
        )

    async def create(self, shot_id: str, adapter: Adapter, source_task: str | None) -> str:
        req = self.requests[shot_id]
        fp = self.prints[shot_id]
        self.ledger.record_intent(
            run_id=self.run_id,
            shot_id=shot_id,
            fingerprint=fp,
            api=req.spec.api,
            model=req.model,
            request=req.public_fields(),
        )
        self.emit(shot_id, "submitting")
        snapshot = await adapter.create(req, remix_task_id=source_task)
        self.ledger.record_task(fp, snapshot.task_id, snapshot.raw_status)
        self.emit(shot_id, "queued", task_id=snapshot.task_id, progress=snapshot.progress)
        return snapshot.task_id

    async def wait(
        self, shot_id: str, adapter: Adapter, task_id: str, *, record_status: bool = True
    ) -> TaskSnapshot:
        fp = self.prints[shot_id]

        def update(snap: TaskSnapshot) -> None:
            if record_status:
                self.ledger.record_status(fp, snap.state, snap.progress, snap.raw_status)
            phase: Phase = "queued" if snap.state == "queued" else "running"
            self.emit(shot_id, phase, progress=snap.progress, task_id=task_id)

        try:
            return await poll(
                adapter, task_id, deadline_s=self.options.poll_deadline, on_update=update
            )
        except TaskFailed as exc:
            raise TaskFailed(
                f"{shot_id}: the provider failed task {task_id}: {exc.reason or exc}",
                reason=exc.reason,
                shot=shot_id,
                task_id=task_id,
            ) from exc

    async def download(
        self, shot_id: str, adapter: Adapter, snapshot: TaskSnapshot
    ) -> tuple[Path, str, int]:
        fp = self.prints[shot_id]
        self.emit(shot_id, "downloading", task_id=snapshot.task_id)
        tmp = self.state.tmp_dir / f"{fp}.mp4"

        def progress(done: int, total: int | None) -> None:
            pct = int(done * 100 / total) if total else None
            self.emit(shot_id, "downloading", progress=pct, task_id=snapshot.task_id)

        got = await adapter.download(snapshot, tmp, on_progress=progress)
        digest = got.sha256 or sha256_file(got.path)
        cached = self.state.cache.store(got.path, digest)
        got.path.unlink(missing_ok=True)
        self.ledger.record_download(fp, path=str(cached), sha256=digest, size=got.size)
        return self.place(shot_id, cached), digest, got.size


def _final_cut(
    storyboard: Storyboard, results: Mapping[str, ShotResult], out_dir: Path, selected: set[str]
) -> FinalResult | None:
    final = storyboard.final
    if final is None:
        return None
    missing = [s for s in final.concat if s not in results or not results[s].ok]
    if missing:
        why = "not selected" if any(s not in selected for s in missing) else "not done"
        return FinalResult(None, final.concat, error=f"shots {', '.join(missing)} {why}")
    files = [results[s].file for s in final.concat]
    target = out_dir / "final.mp4"
    try:
        cut = concat([f for f in files if f is not None], target)
    except InputError as exc:
        return FinalResult(None, final.concat, error=str(exc))
    return FinalResult(
        target,
        final.concat,
        sha256=sha256_file(target),
        bytes=target.stat().st_size,
        duration=cut.duration,
        mode=cut.mode,
    )


@attrs.frozen
class Checked:
    """A storyboard that passed every check a run makes before it sends anything."""

    requests: Mapping[str, CreateRequest]
    selected: set[str]
    order: list[str]  # the selected shots, in DAG order


def _keyless(storyboard: Storyboard, shots: set[str]) -> list[Problem]:
    """Providers in use that point at a gateway but have no key: every call would be refused."""
    names = {storyboard.shot(s).provider for s in shots}
    return [
        Problem(
            f"provider {p.name!r}: api_key is empty, but base_url is a gateway, which needs "
            "its key (export the variable api_key names, or use base_url: embedded)",
            storyboard.source,
            p.lines.get("api_key", p.line),
        )
        for name, p in storyboard.providers.items()
        if name in names and not p.is_embedded and not p.api_key
    ]


def check(
    storyboard: Storyboard,
    *,
    only: Sequence[str] = (),
    force: Sequence[str] = (),
    registry: SpecRegistry | None = None,
) -> Checked:
    """Everything a run checks before sending: every request against its spec, `--only`,
    `--force` and keys. Raises one InputError with all the problems found."""
    problems: list[Problem] = []
    requests: dict[str, CreateRequest] = {}
    try:
        requests = build_requests(storyboard, registry or default_registry())
    except InputError as exc:
        problems.extend(exc.problems)
    selected: set[str] = set()
    try:
        selected = select(storyboard, only)
    except InputError as exc:
        problems.extend(exc.problems)
    problems.extend(
        Problem(f"--force: no shot {s!r}", storyboard.source)
        for s in force
        if s not in storyboard.shot_ids
    )
    problems.extend(_keyless(storyboard, selected))
    if problems:
        raise InputError(problems)
    order = [s for level in plan_order(storyboard) for s in level if s in selected]
    return Checked(requests, selected, order)


async def run_async(
    storyboard: Storyboard,
    options: RunOptions | None = None,
    *,
    on_event: EventSink = ignore,
    registry: SpecRegistry | None = None,
    checked: Checked | None = None,
) -> RunResult:
    """Run a loaded storyboard. Bad input raises InputError before anything is sent.

    `checked` is what `check` returned for this storyboard and these options, when the
    caller already checked it (the CLI does, to size its display): it is not done twice.
    """
    options = options or RunOptions()
    started = time.time()
    if checked is None:
        checked = check(storyboard, only=options.only, force=options.force, registry=registry)
    requests, selected, order = checked.requests, checked.selected, checked.order
    prints = fingerprints(storyboard, requests)
    out_dir = options.out_dir / storyboard.name
    state = StateDir.for_storyboard(storyboard.path, options.state_dir)
    state.ensure()
    with state.lock(list(options.argv)), state.open_ledger() as ledger:
        out_dir.mkdir(parents=True, exist_ok=True)
        ledger.end_abandoned_runs()  # runs killed before they could say how they ended
        run_id = ledger.start_run(str(storyboard.path), storyboard.name, list(options.argv))
        names = {storyboard.shot(s).provider for s in order}
        status = "crashed"
        try:
            async with _connections(storyboard, options, names, state.path) as conns:
                runner = _Runner(
                    storyboard,
                    options,
                    requests,
                    prints,
                    selected,
                    ledger,
                    state,
                    conns,
                    on_event,
                    run_id,
                    out_dir,
                )
                loop = asyncio.get_running_loop()
                for shot_id in order:
                    runner.results[shot_id] = loop.create_future()

                async def one(shot_id: str) -> None:
                    result = await runner.shot(shot_id)
                    runner.results[shot_id].set_result(result)

                await asyncio.gather(*(one(s) for s in order))
            results = {s: runner.results[s].result() for s in order}
            final = _final_cut(storyboard, results, out_dir, selected)
            result = RunResult(
                name=storyboard.name,
                storyboard=storyboard.path,
                out_dir=out_dir,
                run_id=run_id,
                shots=tuple(results[s] for s in order),
                final=final,
                started_at=started,
                finished_at=time.time(),
            )
            manifest = write_manifest(result, storyboard_seed=storyboard.seed)
            report = write_report(result)
            result = attrs.evolve(result, manifest=manifest, report=report)
            status = "ok" if result.ok else "failed"
            return result
        finally:
            summary = {"status": status}
            ledger.finish_run(run_id, status, summary)


def run(
    storyboard: Storyboard | Path | str,
    options: RunOptions | None = None,
    *,
    on_event: EventSink = ignore,
    registry: SpecRegistry | None = None,
    checked: Checked | None = None,
) -> RunResult:
    """Load (if given a path) and run a storyboard; blocking wrapper over `run_async`."""
    board = storyboard if isinstance(storyboard, Storyboard) else load(storyboard)
    return asyncio.run(
        run_async(board, options, on_event=on_event, registry=registry, checked=checked)
    )
