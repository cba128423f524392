"""One emulator: its specs, tasks, renders, faults and counters, and what its routes share
(auth, the clock, making tasks, observing them, their URLs and poll hints)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..pricing import Facts, quote
from ..specs import Spec, SpecRegistry
from .config import EmulatorConfig
from .dialect import Dialect, dialect_for
from .fault_answers import disturb
from .faults import TASK_KINDS, Fault, FaultPlan
from .fingerprints import canonical_fields
from .render_jobs import Renderer, RenderJob
from .requested import Requested
from .stats import Stats
from .store import TaskStore
from .streaming import send_bytes, sha256
from .task import MAGIC_EXPIRE, MAGIC_FAIL, Snapshot, Task
from .urls import origins

__all__ = ["Emulator"]


class Emulator:
    """The state of one emulator: its specs, tasks, renders, faults and counters."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.registry: SpecRegistry = config.registry()
        self.dialects = {spec.name: dialect_for(spec) for spec in self.registry}
        self.store = TaskStore(config.seed, config.store_dir, self.registry)
        self.stats = Stats()
        self.faults = FaultPlan(config.faults, config.seed)
        self.renderer = Renderer(config.render_cache_size)

    def now(self) -> float:
        return float(self.config.clock())

    def snapshot_stats(self) -> dict[str, Any]:
        """The counters served by ``GET /_emulator/stats``."""
        stats = self.stats.snapshot(self.store.all(), self.now())
        stats["renders"] = {
            "total": self.renderer.renders,
            "seconds": round(self.renderer.render_seconds, 3),
        }
        return stats

    def reset(self, *, everything: bool = False) -> None:
        """Clear the counters; with `everything`, also forget tasks and restart faults."""
        self.stats.reset()
        if everything:
            self.store.clear()
            self.faults.reset()

    def dialect(self, task: Task) -> Dialect:
        """How the spec that made `task` says its answers."""
        return self.dialects[task.spec.name]

    def authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        keys = self.config.api_keys
        if keys is None:
            return True
        given = token.encode()
        return any(hmac.compare_digest(given, key.encode()) for key in keys)

    async def disturb(self, fault: Fault | None, family: str | None) -> Response | None:
        """The answer a fault gives instead of the real one (see `fault_answers.disturb`)."""
        return await disturb(fault, family, config=self.config, stats=self.stats)

    async def observe(self, task: Task) -> Snapshot:
        """The task now; a finished task is rendered here, once, before it shows succeeded."""
        now = self.now()
        snap = task.snapshot(now)
        if snap.due and task.failure is None and not task.rendered:
            try:
                data = await self.renderer.video(task.job)
            except ValueError as exc:
                task.render_error = f"The emulator could not render this video: {exc}"
            else:
                task.video_bytes = len(data)
                task.video_sha256 = sha256(data)
            snap = task.snapshot(now)
        return snap

    def cdn_url(self, request: Request, task: Task) -> str:
        return f"{origins(self.config, request)[1]}/cdn/{task.cdn_token}.mp4"

    def poll_hint(self, snap: Snapshot) -> dict[str, str]:
        if snap.state in ("succeeded", "failed"):
            return {}
        if self.config.poll_after_ms is not None:
            return {"openai-poll-after-ms": str(self.config.poll_after_ms)}
        hint = int(min(5000.0, max(100.0, snap.remaining * 1000 / 4)))
        return {"openai-poll-after-ms": str(hint)}

    def send_bytes(
        self, request: Request, data: bytes, mime: str, fault: Fault | None, route: str
    ) -> Response:
        """`data` as a download on `route` (content or cdn), counted in the stats."""
        return send_bytes(
            request,
            data,
            mime,
            fault=fault,
            rate=self.config.download_bytes_per_second,
            sleep=self.config.sleep,
            sent=lambda size: self.stats.downloaded(route, size),
        )

    def too_busy(self) -> bool:
        """Whether a create must be refused: `max_in_flight` tasks are unfinished."""
        cap = self.config.max_in_flight
        if cap is None:
            return False
        now = self.now()
        return sum(1 for task in self.store.all() if task.finish_at > now) >= cap

    def new_task(
        self,
        spec: Spec,
        fields: Mapping[str, Any],
        want: Requested,
        fingerprint: str,
        *,
        model: str,
        source: Task | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Task:
        """Make, store and count a task for a validated create (or remix) request."""
        now = self.now()
        task_id, token = self.store.new_ids(spec, self.dialects[spec.name], fingerprint, now)
        failure = None
        expire_early = False
        task_fault = self.faults.draw(f"task:{spec.name}:{fingerprint}", TASK_KINDS)
        if task_fault is not None:
            self.stats.fault(task_fault.kind)
        if MAGIC_FAIL in want.prompt or (task_fault and task_fault.kind == "fail"):
            failure = "The video could not be generated (failure injected by the emulator)."
        if MAGIC_EXPIRE in want.prompt or (task_fault and task_fault.kind == "expire"):
            expire_early = True
        # A remix renders from its source's job, not from the source's task id: equal
        # requests on equal sources give equal bytes whatever ids the sources were given.
        ignored = {"model"}
        if source is not None and "remix" in spec.fields:
            ignored.add(spec.fields["remix"].field)
        shared = self.config.shared_video
        job = RenderJob(
            model=model,
            prompt="one video for every task" if shared else want.prompt,
            seed=0 if shared else want.seed,
            width=want.width,
            height=want.height,
            seconds=want.seconds,
            fps=want.fps,
            reference_image=want.reference_image,
            source=source.job if source is not None and not shared else None,
            extra={}
            if shared
            else dict(extra)
            if extra is not None
            else canonical_fields({k: v for k, v in fields.items() if k not in ignored}),
        )
        task = Task(
            id=task_id,
            spec=spec,
            model=model,
            prompt=want.prompt,
            fingerprint=fingerprint,
            created_at=now,
            job_seconds=self.config.job_seconds,
            queued_fraction=self.config.queued_fraction,
            content_ttl=self.config.content_ttl_seconds,
            job=job,
            size=want.size,
            seconds_text=want.seconds_text,
            has_image=want.has_image,
            cdn_token=token,
            failure=failure,
            expire_early=expire_early,
            remixed_from=source.id if source is not None else None,
            quota=_bill(spec, model, fields, want),
        )
        self.store.add(task)
        self.stats.created(task, remix=source is not None)
        return task


def _bill(spec: Spec, model: str, fields: Mapping[str, Any], want: Requested) -> int | None:
    """What the task is charged, in quota units, from the spec's own price table (None when
    the spec prices no such request). Failed and expired tasks are charged too."""
    facts = Facts(want.seconds, f"{min(want.width, want.height)}p", dict(fields))
    return quote(spec.prices.get(model), facts, model=model).quota
