"""The ledger's rows as read back: runs, shots, forces and the audit log.

A row that cannot be read back (an unknown state, broken JSON) raises `CorruptRow`, which
names the table and the row; the ledger adds its path and the way out.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs

from ..fingerprint import canonical_text
from ..states import LEDGER_STATES, ShotState

__all__ = [
    "CorruptRow",
    "EventRecord",
    "ForceRecord",
    "Reservation",
    "RunRecord",
    "ShotRecord",
    "to_json",
]


class CorruptRow(Exception):
    """A ledger row that cannot be read: `where` names it, `problem` says what is wrong."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}")


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC)


def _dt_req(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


_R = TypeVar("_R", bound=attrs.AttrsInstance)


def _build(cls: type[_R], row: sqlite3.Row, **converted: object) -> _R:
    """A record from a row: each field from its column, or as converted."""
    values = {f.name: row[f.name] for f in attrs.fields(cls)}
    return cls(**{**values, **converted})


def to_json(obj: object) -> str:
    return canonical_text(obj)


def _json(row: sqlite3.Row, column: str, where: str) -> Any:
    raw = row[column]
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise CorruptRow(where, f"column {column} is not JSON ({exc})") from None


def _state(row: sqlite3.Row, where: str) -> ShotState:
    word = row["state"]
    if word not in LEDGER_STATES:
        raise CorruptRow(where, f"unknown state {word!r}")
    return ShotState(word)


def shot_where(row: sqlite3.Row) -> str:
    """How a message names a shot row."""
    return f"shot row {str(row['fingerprint'])[:16]}… (shot {row['shot_id']!r})"


@attrs.frozen
class ShotRecord:
    """One shot's row in the ledger, as read back."""

    fingerprint: str
    run_id: int
    shot_id: str
    api: str
    model: str
    request: dict[str, Any]
    task_id: str | None
    state: ShotState
    status: str | None
    raw_status: str | None
    progress: int | None
    path: str | None
    sha256: str | None
    size: int | None
    attempts: int
    error: str | None
    created_at: datetime
    updated_at: datetime
    # When the create left (None: only the intent is recorded) and when the task id came.
    sent_at: datetime | None = None
    task_at: datetime | None = None
    # A remix: the task of the shot it was made from.
    source_task: str | None = None
    # Written before source tasks were part of a remix's fingerprint.
    legacy: bool = False
    # The timings of the run that made the file.
    timings: dict[str, float] | None = None
    # What the create was estimated to cost and what the gateway says it charged (USD).
    estimate_usd: float | None = None
    spend_usd: float | None = None

    @property
    def sent(self) -> bool:
        """Whether a create may have left: a `submitting` row that was never sent was not."""
        return self.state != ShotState.SUBMITTING or self.sent_at is not None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ShotRecord:
        where = shot_where(row)
        request = _json(row, "request", where)
        if not isinstance(request, dict):
            raise CorruptRow(where, "column request is not a JSON object")
        timings = _json(row, "timings", where)
        return _build(
            cls,
            row,
            request=request,
            state=_state(row, where),
            created_at=_dt_req(row["created_at"]),
            updated_at=_dt_req(row["updated_at"]),
            sent_at=_dt(row["sent_at"]),
            task_at=_dt(row["task_at"]),
            legacy=bool(row["legacy"]),
            timings=timings if isinstance(timings, dict) else None,
        )


@attrs.frozen
class RunRecord:
    """One ``vidpipe run`` as recorded, for ``vidpipe history``."""

    id: int
    storyboard: str
    name: str
    argv: tuple[str, ...]
    pid: int
    status: str
    summary: dict[str, Any] | None
    started_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> RunRecord:
        where = f"run row {row['id']}"
        argv = _json(row, "argv", where)
        if not isinstance(argv, list):
            raise CorruptRow(where, "column argv is not a JSON list")
        return _build(
            cls,
            row,
            argv=tuple(argv),
            summary=_json(row, "summary", where),
            started_at=_dt_req(row["started_at"]),
            finished_at=_dt(row["finished_at"]),
        )


@attrs.frozen
class ForceRecord:
    """A `--force` that a run recorded: owed until a run that carried it out ends."""

    id: int
    name: str
    shot_id: str
    run_id: int
    requested_at: datetime
    # The fingerprint whose earlier generation it set aside; None until the shot is reached.
    applied_to: str | None
    settled_at: datetime | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ForceRecord:
        return _build(
            cls,
            row,
            requested_at=_dt_req(row["requested_at"]),
            settled_at=_dt(row["settled_at"]),
        )


@attrs.frozen
class EventRecord:
    """One entry of a shot's audit log: a state or status change, or a forget."""

    id: int
    at: datetime
    fingerprint: str
    run_id: int | None
    shot_id: str | None
    kind: str
    state: str | None
    status: str | None
    task_id: str | None
    detail: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> EventRecord:
        return _build(
            cls,
            row,
            at=_dt_req(row["at"]),
            detail=_json(row, "detail", f"event row {row['id']}"),
        )


@attrs.frozen
class Reservation:
    """A budgeted run's hold on a create's cost, open until a run of its storyboard ends."""

    id: int
    name: str
    run_id: int
    fingerprint: str
    shot_id: str
    usd: float
    created_at: datetime
    closed_at: datetime | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Reservation:
        return _build(
            cls, row, created_at=_dt_req(row["created_at"]), closed_at=_dt(row["closed_at"])
        )
