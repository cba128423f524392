"""The executor: one shot's way from the ledger's answer to a verified file.

For every shot it asks the ledger first:

    done, verified file in the cache      -> reuse it (no remote call)
    done, file gone                       -> download again from the task, if it still exists
    running (a task id is known)          -> re-attach and poll
    submitting / unknown (answer lost)    -> report `unknown`; only --force sends it again
    expired (the provider dropped it)     -> report `expired`; only --force creates it again
    new or failed                         -> record the intent, create, record the task id

Shots with identical requests (one fingerprint) share one task: they run one after another,
so the second finds the first's file. A remix whose own file is cached keeps it even when
its source could not be had this time. Writes to the ledger are durable before the next
remote call. Shots run concurrently up to `--concurrency` and each provider's own
`concurrency`; a remix waits for its source.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ..adapters import Adapter, TaskSnapshot, make_adapter
from ..errors import (
    ContentExpired,
    PollTimeout,
    ProviderError,
    TaskFailed,
    UnknownCreate,
    UnmappedStatus,
)
from ..events import EventSink, ShotEvent
from ..fingerprint import safe_filename, sha256_file
from ..ledger import Ledger
from ..manifest import ShotResult
from ..model import Storyboard
from ..polling import poll
from ..requests import CreateRequest
from ..statedir import StateDir
from ..states import ShotState
from ..transport import Connection
from .options import RunOptions

__all__ = ["Executor"]

_FAILABLE = (ShotState.SUBMITTING, ShotState.RUNNING)


@attrs.define
class Executor:
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

    def emit(self, shot_id: str, phase: ShotState, **kw: Any) -> None:
        self.on_event(ShotEvent(shot_id, phase, **kw))

    def adapter(self, shot_id: str) -> Adapter:
        req = self.requests[shot_id]
        provider = self.storyboard.shot(shot_id).provider
        key = f"{provider}/{req.spec.name}"
        if key not in self.adapters:
            self.adapters[key] = make_adapter(req.spec, self.conns[provider])
        return self.adapters[key]

    def result(self, shot_id: str, status: ShotState, **kw: Any) -> ShotResult:
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
                self.emit(
                    shot_id, ShotState.SKIPPED, message=f"remix source {req.remix_of} not done"
                )
                return self.result(
                    shot_id, ShotState.SKIPPED, error=f"{req.remix_of} did not finish"
                )
            source_task = source.task_id
        provider = self.storyboard.shot(shot_id).provider
        self.emit(shot_id, ShotState.PENDING)
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
        self.emit(shot_id, ShotState.CACHED, progress=100, task_id=record.task_id)
        return self.result(
            shot_id,
            ShotState.CACHED,
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
            self.emit(shot_id, ShotState.UNKNOWN, message=message)
            return self.result(shot_id, ShotState.UNKNOWN, error=message)
        if record and record.state == ShotState.EXPIRED:
            # Generating it again is a new, paid task: only on request.
            message = (
                f"the provider no longer serves the video of task {record.task_id}; rerun "
                f"with --force {shot_id} to generate it again"
            )
            self.emit(shot_id, ShotState.FAILED, message=message)
            return self.result(shot_id, ShotState.EXPIRED, error=message, task_id=record.task_id)
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
            self.emit(shot_id, ShotState.UNKNOWN, message=str(exc))
            return self.result(shot_id, ShotState.UNKNOWN, error=str(exc))
        except ContentExpired as exc:
            self.ledger.record_expired(fp)
            message = f"{exc}; rerun with --force {shot_id} to generate it again"
            self.emit(shot_id, ShotState.FAILED, message=message)
            return self.result(shot_id, ShotState.EXPIRED, error=message, task_id=exc.task_id)
        except PollTimeout as exc:  # the task may still finish: the next run re-attaches
            self.emit(shot_id, ShotState.FAILED, message=str(exc))
            return self.result(shot_id, ShotState.FAILED, error=str(exc), task_id=exc.task_id)
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
            self.emit(shot_id, ShotState.FAILED, message=message)
            return self.result(shot_id, ShotState.FAILED, error=message, task_id=exc.task_id)
        timings["seconds"] = time.monotonic() - start
        self.emit(shot_id, ShotState.DONE, progress=100, task_id=snapshot.task_id)
        return self.result(
            shot_id,
            ShotState.DONE,
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
        self.emit(shot_id, ShotState.SUBMITTING)
        snapshot = await adapter.create(req, remix_task_id=source_task)
        self.ledger.record_task(fp, snapshot.task_id, snapshot.raw_status)
        self.emit(shot_id, ShotState.QUEUED, task_id=snapshot.task_id, progress=snapshot.progress)
        return snapshot.task_id

    async def wait(
        self, shot_id: str, adapter: Adapter, task_id: str, *, record_status: bool = True
    ) -> TaskSnapshot:
        fp = self.prints[shot_id]

        def update(snap: TaskSnapshot) -> None:
            if record_status:
                self.ledger.record_status(fp, snap.state, snap.progress, snap.raw_status)
            phase = ShotState.QUEUED if snap.state == "queued" else ShotState.RUNNING
            note = (
                f"status {snap.unmapped!r} is not in the spec; still polling"
                if snap.unmapped
                else ""
            )
            self.emit(shot_id, phase, progress=snap.progress, task_id=task_id, message=note)

        try:
            return await poll(
                adapter,
                task_id,
                deadline_s=self.options.poll_deadline,
                on_update=update,
                status_grace_s=self.options.status_grace,
            )
        except UnmappedStatus as exc:
            spec = adapter.spec
            raise UnmappedStatus(
                f"{shot_id}: task {task_id} answered status {exc.word!r} for {exc.waited:g} s, "
                f"and spec {spec.name} does not map it: add {exc.word!r} to x-vidpipe-status in "
                f"{spec.status_file()} (mapped to queued, running, succeeded or failed)",
                word=exc.word,
                waited=exc.waited,
                shot=shot_id,
                task_id=task_id,
            ) from exc
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
        self.emit(shot_id, ShotState.DOWNLOADING, task_id=snapshot.task_id)
        tmp = self.state.tmp_dir / f"{fp}.mp4"

        def progress(done: int, total: int | None) -> None:
            pct = int(done * 100 / total) if total else None
            self.emit(shot_id, ShotState.DOWNLOADING, progress=pct, task_id=snapshot.task_id)

        got = await adapter.download(snapshot, tmp, on_progress=progress)
        digest = got.sha256 or sha256_file(got.path)
        cached = self.state.cache.store(got.path, digest)
        got.path.unlink(missing_ok=True)
        self.ledger.record_download(fp, path=str(cached), sha256=digest, size=got.size)
        return self.place(shot_id, cached), digest, got.size
