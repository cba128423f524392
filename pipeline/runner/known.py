"""The last known state of the shots a run did not run (`--only`), so that the manifest, the
report and the final cut describe the whole storyboard.

It comes from the ledger (which generation is current, through lineage) and the cache: a
verified file is put in the output folder if it is not there already. Nothing is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import WriteError
from ..ledger import Ledger, ShotRecord
from ..manifest import ShotResult
from ..model import Storyboard
from ..outdir import OutDir
from ..requests import CreateRequest
from ..statedir import StateDir
from ..states import ShotState
from .lineage import generations

__all__ = ["last_known", "shot_result"]

_NOT_MADE = "not in this run, and not made yet"


def last_known(
    storyboard: Storyboard,
    requests: Mapping[str, CreateRequest],
    ran: Mapping[str, ShotResult],
    ledger: Ledger,
    state: StateDir,
    out: OutDir,
) -> dict[str, ShotResult]:
    """Results for the shots not in `ran` (this run's results), in storyboard order."""
    if all(shot_id in ran for shot_id in storyboard.shot_ids):
        return {}  # the whole storyboard ran: no generation to look up
    gens = generations(storyboard, requests, ledger)
    others: dict[str, ShotResult] = {}
    for shot_id in storyboard.shot_ids:
        if shot_id in ran:
            continue
        req, gen = requests[shot_id], gens[shot_id]
        if gen.fingerprint is None:
            others[shot_id] = _other(storyboard, req, None, ShotState.SKIPPED, _NOT_MADE)
        else:
            others[shot_id] = _from_record(storyboard, req, gen.fingerprint, gen.record, state, out)
    return others


def _from_record(
    storyboard: Storyboard,
    req: CreateRequest,
    fp: str,
    record: ShotRecord | None,
    state: StateDir,
    out: OutDir,
) -> ShotResult:
    if record is None or (record.state == ShotState.SUBMITTING and not record.sent):
        return _other(storyboard, req, fp, ShotState.SKIPPED, _NOT_MADE)
    kw = {
        "task_id": record.task_id,
        "source_task": record.source_task,
        "made_in_run": record.run_id,
        "timings": record.timings or {},
    }
    if record.state == ShotState.DONE and record.sha256:
        cached = state.cache.fetch(record.sha256, size=record.size)
        if cached is not None:
            try:
                path = out.place(req.shot_id, cached, record.sha256, stamps=state.cache.stamps)
            except WriteError as exc:
                return _other(storyboard, req, fp, ShotState.SKIPPED, str(exc), **kw)
            return _other(
                storyboard,
                req,
                fp,
                ShotState.CACHED,
                None,
                file=path,
                sha256=record.sha256,
                bytes=record.size,
                **kw,
            )
        why = "not in this run; its file is gone from the cache: a run downloads it again"
        return _other(storyboard, req, fp, ShotState.SKIPPED, why, **kw)
    if record.state in (ShotState.FAILED, ShotState.UNKNOWN, ShotState.EXPIRED):
        return _other(storyboard, req, fp, record.state, record.error, **kw)
    why = f"not in this run; task {record.task_id} is not finished or not downloaded yet"
    if record.state == ShotState.SUBMITTING:
        why = "not in this run; its create was sent but no answer recorded"
    return _other(storyboard, req, fp, ShotState.SKIPPED, why, **kw)


def _other(
    storyboard: Storyboard,
    req: CreateRequest,
    fp: str | None,
    status: ShotState,
    error: str | None,
    **kw: Any,
) -> ShotResult:
    return shot_result(storyboard, req, status, fingerprint=fp, error=error, in_run=False, **kw)


def shot_result(
    storyboard: Storyboard, req: CreateRequest, status: ShotState, **kw: Any
) -> ShotResult:
    """A shot's result: its request as the manifest records it, with `kw` (the file, task,
    error...) on top."""
    shot = storyboard.shot(req.shot_id)
    return ShotResult(
        shot_id=req.shot_id,
        status=status,
        provider=shot.provider,
        api=req.spec.api,
        spec=req.spec.name,
        spec_sha256=req.spec.sha256,
        model=req.model,
        prompt=shot.prompt,
        request=req.public_fields(),
        seed=req.seed,
        seed_sent=req.seed_sent,
        remix_of=req.remix_of,
        **kw,
    )
