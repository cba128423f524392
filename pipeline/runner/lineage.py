"""Fingerprints and lineage: a shot built on another names that shot's generation.

A shot's fingerprint covers its whole request. A remix's request carries its source's task,
(and a shot whose image is a frame of another shot's video is built on that shot the same way),
so its fingerprint covers the source's fingerprint and the source's task id: regenerating
a source (a new task, `--force`) gives every shot built on it a new fingerprint, and those
shots are made again, transitively. A remix's fingerprint is therefore known only once its
source has a task.

Rows written before fingerprints named the source's task (`legacy` rows, keyed by the
fingerprint without it) are adopted when their source's current task is older than the row:
the remix was made from that very task.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ..dag import plan_order
from ..fingerprint import fingerprint
from ..ledger import Ledger, ShotRecord
from ..model import Storyboard
from ..requests import CreateRequest

__all__ = ["Generation", "adoptable", "fingerprints", "generations", "request_print"]


@attrs.frozen
class Generation:
    """Which generation of a shot is current: its fingerprint, and its task if it has one."""

    fingerprint: str | None
    task_id: str | None = None
    record: ShotRecord | None = None


def request_print(
    storyboard: Storyboard,
    req: CreateRequest,
    *,
    remix_source: str | None,
    source_task: str | None,
) -> str:
    """The fingerprint of one shot's request (for a remix: made from `source_task`)."""
    shot = storyboard.shot(req.shot_id)
    provider = storyboard.provider_for(shot)
    request: dict[str, Any] = {
        "content_type": req.content_type,
        "fields": req.fingerprint_fields(),
        "remix_via": req.remix_via,
    }
    if shot.take is not None and shot.take > 1:
        # Takes are distinct tasks by intent, even where the API takes no seed to tell them apart.
        request["take"] = shot.take
    return fingerprint(
        api=req.spec.api,
        base_url=provider.base_url,
        spec_sha256=req.spec.sha256,
        model=req.model,
        request=request,
        files={k: f.sha256 for k, f in req.files.items()},
        remix_source=remix_source,
        source_task=source_task,
    )


def fingerprints(storyboard: Storyboard, requests: Mapping[str, CreateRequest]) -> dict[str, str]:
    """Each shot's fingerprint without its source's generation (a remix names only its
    source's such fingerprint): the keys of ledger rows written before lineage."""
    result: dict[str, str] = {}
    for level in plan_order(storyboard):
        for shot_id in level:
            req = requests[shot_id]
            source = result[req.source_of] if req.source_of else None
            result[shot_id] = request_print(storyboard, req, remix_source=source, source_task=None)
    return result


def adoptable(legacy: ShotRecord | None, source: ShotRecord | None) -> bool:
    """Whether a legacy row of a remix was made from its source's current task."""
    if legacy is None or not legacy.legacy or source is None or source.task_at is None:
        return False
    made = legacy.task_at or legacy.created_at
    return source.task_at <= made


def generations(
    storyboard: Storyboard,
    requests: Mapping[str, CreateRequest],
    ledger: Ledger | None,
) -> dict[str, Generation]:
    """Each shot's current generation as the ledger knows it, in DAG order (sends nothing,
    writes nothing). A remix whose source has no task yet has no fingerprint yet."""
    legacy = fingerprints(storyboard, requests)
    result: dict[str, Generation] = {}
    for level in plan_order(storyboard):
        for shot_id in level:
            req = requests[shot_id]
            source = result[req.source_of] if req.source_of else None
            if source is not None and (source.fingerprint is None or source.task_id is None):
                result[shot_id] = Generation(None)
                continue
            if source is None:
                fp = legacy[shot_id]  # no source: the same request, the same print
            else:
                fp = request_print(
                    storyboard,
                    req,
                    remix_source=source.fingerprint,
                    source_task=source.task_id,
                )
            record = ledger.lookup(fp) if ledger else None
            if record is None and ledger is not None and source is not None:
                old = ledger.lookup(legacy[shot_id])
                if adoptable(old, source.record):
                    record = old
            result[shot_id] = Generation(fp, record.task_id if record else None, record)
    return result
