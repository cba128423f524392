"""The ledger's rows as read back: runs, shots and the audit log."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs

from ..fingerprint import canonical_json
from ..states import ShotState

__all__ = ["EventRecord", "RunRecord", "ShotRecord", "to_json"]


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
    return canonical_json(obj).decode("utf-8")


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

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ShotRecord:
        return _build(
            cls,
            row,
            request=json.loads(row["request"]),
            state=ShotState(row["state"]),
            created_at=_dt_req(row["created_at"]),
            updated_at=_dt_req(row["updated_at"]),
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
        return _build(
            cls,
            row,
            argv=tuple(json.loads(row["argv"])),
            summary=None if row["summary"] is None else json.loads(row["summary"]),
            started_at=_dt_req(row["started_at"]),
            finished_at=_dt(row["finished_at"]),
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
            detail=None if row["detail"] is None else json.loads(row["detail"]),
        )
