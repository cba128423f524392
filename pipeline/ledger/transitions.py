"""The ledger's state machine: which call may move a shot from which state.

Shots are keyed by fingerprint. Their states (the ledger subset of `ShotState`), and the
calls that move between them:

    (new)                      ─record_intent──> submitting  (intent recorded, not sent)
    submitting                 ─record_sent────> submitting  (the request is leaving)
    submitting, sent           ─record_not_taken> submitting (answered 429: not sent after all)
    submitting, never sent     ─record_intent──> submitting  (a later run sends it)
    submitting                 ─record_task────> running
    submitting, sent           ─record_unknown─> unknown     (create answer lost)
    unknown                    ─record_task────> running     (the task was found after all)
    running                    ─record_status──> running     (skipped when nothing changed)
    running, done              ─record_download> done
    submitting/running/unknown ─record_failure─> failed
    running, done              ─record_expired─> expired
    failed, expired            ─record_intent──> submitting  (a new attempt)
    any state                  ─forget─────────> (new)       (old row kept in the audit log)

A shot in ``submitting`` whose request left (``sent_at`` is set) when a run starts was being
created when the last run stopped: its create may have reached the provider, so it is as
uncertain as ``unknown``. One whose request never left is simply sent by the next run. The
ledger refuses a new intent for a shot that was sent, is running, unknown or done; only
``forget`` (``--force``, recorded as a force) makes such a shot new again.
"""

from __future__ import annotations

import sqlite3

from ..errors import StateError
from ..states import ShotState

__all__ = ["ALLOWED_FROM", "check_state"]

_S = ShotState
#: For each call, the states it may move a shot from.
ALLOWED_FROM: dict[str, frozenset[ShotState]] = {
    "record_intent": frozenset({_S.FAILED, _S.EXPIRED}),
    "record_sent": frozenset({_S.SUBMITTING}),
    "record_not_taken": frozenset({_S.SUBMITTING}),
    "record_task": frozenset({_S.SUBMITTING, _S.UNKNOWN, _S.RUNNING}),
    "record_status": frozenset({_S.RUNNING}),
    "record_failure": frozenset({_S.SUBMITTING, _S.RUNNING, _S.UNKNOWN, _S.FAILED}),
    "record_unknown": frozenset({_S.SUBMITTING, _S.UNKNOWN}),
    "record_download": frozenset({_S.RUNNING, _S.DONE}),
    "record_expired": frozenset({_S.RUNNING, _S.DONE, _S.EXPIRED}),
}


def _unsent(row: sqlite3.Row) -> bool:
    return bool(row["state"] == _S.SUBMITTING and row["sent_at"] is None)


def check_state(row: sqlite3.Row, fingerprint: str, action: str) -> None:
    """Raise StateError unless the shot's current state allows `action`."""
    state = row["state"]
    if state in ALLOWED_FROM[action] or (action == "record_intent" and _unsent(row)):
        return
    hint = " (use --force to regenerate it)" if action == "record_intent" else ""
    raise StateError(
        f"shot {row['shot_id']!r} ({fingerprint[:12]}) is {state};"
        f" {action} is not allowed from that state{hint}"
    )
