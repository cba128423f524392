"""What a run would do, shot by shot: each shot's generation and state in the ledger.

`plan` sends nothing; `vidpipe plan` and `vidpipe status` print it. A planned shot's state
is one of `PLANNED_STATES`.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import attrs

from ..cost import RunQuote, ShotCost, estimate
from ..dag import plan_order
from ..ledger import ForceRecord, Ledger, ShotRecord
from ..model import Storyboard
from ..pricing import Price
from ..requests import CreateRequest, build_requests
from ..specs import SpecRegistry, default_registry
from ..statedir import StateDir
from ..states import PLANNED_STATES, ShotState
from .lineage import Generation, generations

__all__ = ["PlannedShot", "plan", "planned_shots", "run_quote"]


@attrs.frozen
class PlannedShot:
    """One shot as `vidpipe plan` shows it."""

    shot_id: str
    level: int
    provider: str
    base_url: str
    request: CreateRequest
    # None for a remix whose source has no task yet: its fingerprint names that task.
    fingerprint: str | None
    state: ShotState = attrs.field(validator=attrs.validators.in_(PLANNED_STATES))
    # What the ledger holds for this fingerprint: the task, its last status word and error.
    task_id: str | None = None
    task_status: str | None = None
    progress: int | None = None
    error: str | None = None
    # Why it is made again when its state does not say ("source regenerated", "forced").
    reason: str | None = None
    # Its estimate, whether a run pays it, and what its generation was charged.
    cost: ShotCost | None = None

    def status_json(self) -> dict[str, Any]:
        """This shot's entry in `vidpipe status --json`: its state in the ledger."""
        return {
            "cost": self.cost.to_json() if self.cost else None,
            "status": self.state,
            "task_id": self.task_id,
            "task_status": self.task_status,
            "progress": self.progress,
            "error": self.error,
            "reason": self.reason,
            "fingerprint": self.fingerprint,
        }

    def to_json(self) -> dict[str, Any]:
        """This shot's entry in `vidpipe plan --json`: the status entry plus the request."""
        req = self.request
        return {
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
            **self.status_json(),
        }


def _endpoint(req: CreateRequest) -> str:
    op = req.spec.operation("remix" if req.remix_via == "endpoint" else "create")
    return f"{op.method} {op.path}"


def _plan_state(record: ShotRecord | None, cache_ok: bool) -> ShotState:
    if record is None:
        return ShotState.NEW
    if record.state == ShotState.DONE:
        return ShotState.CACHED if cache_ok else ShotState.DOWNLOAD
    if record.state == ShotState.SUBMITTING:
        # Sent: it may have been taken. Never sent: the next run simply sends it.
        return ShotState.UNKNOWN if record.sent else ShotState.NEW
    return record.state


def _reason(
    storyboard: Storyboard,
    ledger: Ledger | None,
    shot_id: str,
    gen: Generation,
    gens: Mapping[str, Generation],
    force: ForceRecord | None,
) -> str | None:
    """Why a shot is made again, when that is not plain from its state."""
    if force is not None and force.applied_to is None:
        return f"forced (--force, run #{force.run_id})"
    depends_on = storyboard.shot(shot_id).depends_on
    source = depends_on[0] if depends_on else None
    if source is None or gen.record is not None:
        return None
    if gen.fingerprint is None:
        return f"made once {source} has a task"
    earlier = ledger.latest_for_shot(shot_id) if ledger else None
    if earlier is not None and earlier.source_task != gens[source].task_id:
        was = f" (this shot was made from {earlier.source_task})" if earlier.source_task else ""
        return f"source regenerated: {source} is now task {gens[source].task_id}{was}"
    return None


def plan(
    storyboard: Storyboard,
    *,
    state_dir: str | os.PathLike[str] | None = None,
    registry: SpecRegistry | None = None,
    prices: Mapping[str, Price] | None = None,
) -> list[PlannedShot]:
    """What a run would do, shot by shot, in DAG order; sends nothing, writes nothing.

    `prices` override every other price (`--prices FILE`, see `vidpipe.cost`)."""
    registry = (registry or default_registry()).with_dirs(storyboard.spec_dirs)
    requests = build_requests(storyboard, registry)
    state = StateDir.for_storyboard(storyboard.path, None if state_dir is None else Path(state_dir))
    ledger = Ledger.open(state.path) if state.ledger_path.exists() else None
    try:
        return planned_shots(storyboard, requests, ledger, state, prices=prices)
    finally:
        if ledger:
            ledger.close()


def _free(state: ShotState, record: ShotRecord | None) -> str | None:
    """Why a run pays nothing for a shot in this planned state (None: it pays a create)."""
    task = record.task_id if record else None
    return {
        ShotState.CACHED: "cached",
        ShotState.DOWNLOAD: f"task {task} is paid for; only its download is repeated",
        ShotState.RUNNING: f"attached to task {task}, already paid for",
        ShotState.UNKNOWN: "its create may have been taken; it is not sent again",
        ShotState.EXPIRED: "expired; only --force creates it again",
    }.get(state)


def planned_shots(
    storyboard: Storyboard,
    requests: Mapping[str, CreateRequest],
    ledger: Ledger | None,
    state: StateDir,
    *,
    prices: Mapping[str, Price] | None = None,
    forcing: Collection[str] = (),
) -> list[PlannedShot]:
    """`plan` over an open ledger; shots in `forcing` count as forced (a run about to
    record their force)."""
    planned = []
    paid_by: dict[str, str] = {}  # fingerprint -> the shot whose create makes it
    gens = generations(storyboard, requests, ledger)
    forces = ledger.open_forces(storyboard.name) if ledger else {}
    for level_no, level in enumerate(plan_order(storyboard)):
        for shot_id in level:
            gen = gens[shot_id]
            record = gen.record
            force = forces.get(shot_id)
            if (force is not None and force.applied_to is None) or shot_id in forcing:
                record = None  # the next run sets this generation aside
            cache_ok = bool(
                record
                and record.sha256
                and state.cache.fetch(record.sha256, size=record.size) is not None
            )
            shot = storyboard.shot(shot_id)
            planned_state = _plan_state(record, cache_ok)
            free = _free(planned_state, record)
            if free is None and gen.fingerprint is not None:
                first = paid_by.setdefault(gen.fingerprint, shot_id)
                free = None if first == shot_id else f"same request as {first}"
            cost = ShotCost(
                estimate(storyboard, requests, shot_id, prices),
                free,
                record.spend_usd if record else None,
            )
            planned.append(
                PlannedShot(
                    shot_id,
                    level_no,
                    shot.provider,
                    storyboard.provider_for(shot).base_url,
                    requests[shot_id],
                    gen.fingerprint,
                    planned_state,
                    task_id=record.task_id if record else None,
                    task_status=record.status if record else None,
                    progress=record.progress if record else None,
                    error=record.error if record else None,
                    reason=_reason(storyboard, ledger, shot_id, gen, gens, force),
                    cost=cost,
                )
            )
    return planned


def run_quote(
    planned: list[PlannedShot], shot_ids: Collection[str] | None = None, held: float = 0.0
) -> RunQuote:
    """The quote of the planned shots a run runs (`shot_ids`, default all)."""
    return RunQuote(
        {
            p.shot_id: p.cost
            for p in planned
            if p.cost is not None and (shot_ids is None or p.shot_id in shot_ids)
        },
        held,
    )
