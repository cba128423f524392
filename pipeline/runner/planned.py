"""What a run would do, shot by shot: fingerprints and each shot's state in the ledger.

`plan` sends nothing; `vidpipe plan` and `vidpipe status` print it. A planned shot's state
is one of `PLANNED_STATES`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ..dag import plan_order
from ..fingerprint import fingerprint
from ..ledger import Ledger, ShotRecord
from ..model import Storyboard
from ..requests import CreateRequest, build_requests
from ..specs import SpecRegistry, default_registry
from ..statedir import StateDir
from ..states import PLANNED_STATES, ShotState

__all__ = ["PlannedShot", "fingerprints", "plan"]


@attrs.frozen
class PlannedShot:
    """One shot as `vidpipe plan` shows it."""

    shot_id: str
    level: int
    provider: str
    base_url: str
    request: CreateRequest
    fingerprint: str
    state: ShotState = attrs.field(validator=attrs.validators.in_(PLANNED_STATES))
    # What the ledger holds for this fingerprint: the task, its last status word and error.
    task_id: str | None = None
    task_status: str | None = None
    progress: int | None = None
    error: str | None = None

    def status_json(self) -> dict[str, Any]:
        """This shot's entry in `vidpipe status --json`: its state in the ledger."""
        return {
            "status": self.state,
            "task_id": self.task_id,
            "task_status": self.task_status,
            "progress": self.progress,
            "error": self.error,
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


def _plan_state(record: ShotRecord | None, cache_ok: bool) -> ShotState:
    if record is None:
        return ShotState.NEW
    if record.state == ShotState.DONE:
        return ShotState.CACHED if cache_ok else ShotState.DOWNLOAD
    if record.state == ShotState.SUBMITTING:
        return ShotState.UNKNOWN
    return record.state


def plan(
    storyboard: Storyboard,
    *,
    state_dir: str | os.PathLike[str] | None = None,
    registry: SpecRegistry | None = None,
) -> list[PlannedShot]:
    """What a run would do, shot by shot, in DAG order; sends nothing."""
    registry = (registry or default_registry()).with_dirs(storyboard.spec_dirs)
    requests = build_requests(storyboard, registry)
    prints = fingerprints(storyboard, requests)
    state = StateDir.for_storyboard(storyboard.path, None if state_dir is None else Path(state_dir))
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
                        task_status=record.status if record else None,
                        progress=record.progress if record else None,
                        error=record.error if record else None,
                    )
                )
    finally:
        if ledger:
            ledger.close()
    return planned
