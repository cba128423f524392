"""The ledger: every run, every shot's request, task, status and downloaded file.

It lives at ``<state_dir>/ledger.sqlite3`` (stdlib sqlite3, WAL, ``synchronous=FULL``).
Every write commits before its method returns, so what a call recorded survives a crash
that happens right after it: the runner writes here before and after each remote call.

Shots are keyed by fingerprint. Their states, and the calls that move between them:

    (new)                      ─record_intent──> submitting
    submitting                 ─record_task────> running
    submitting                 ─record_unknown─> unknown     (create answer lost)
    unknown                    ─record_task────> running     (the task was found after all)
    running                    ─record_status──> running     (skipped when nothing changed)
    running, done              ─record_download> done
    submitting/running/unknown ─record_failure─> failed
    running, done              ─record_expired─> expired
    failed, expired            ─record_intent──> submitting  (a new attempt)
    any state                  ─forget─────────> (new)       (old row kept in the audit log)

A shot in ``submitting`` when a run starts was being created when the last run stopped:
its create may have reached the provider, so it is as uncertain as ``unknown``. The
ledger refuses a new intent for a shot in submitting, running, unknown or done; only
``forget`` (``--force``) makes such a shot new again.
"""

from __future__ import annotations

import enum
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs

from .errors import StateError
from .fingerprint import canonical_json, is_sha256

__all__ = [
    "IN_FLIGHT",
    "LEDGER_FILENAME",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "EventRecord",
    "Ledger",
    "RunRecord",
    "ShotRecord",
    "ShotState",
    "find_secrets",
    "is_secret_name",
    "redact_argv",
]

LEDGER_FILENAME = "ledger.sqlite3"


class ShotState(enum.StrEnum):
    """Where a shot stands in the ledger (not the provider's own status)."""

    SUBMITTING = "submitting"
    RUNNING = "running"
    UNKNOWN = "unknown"
    FAILED = "failed"
    DONE = "done"
    EXPIRED = "expired"


_S = ShotState
_INTENT_FROM = frozenset({_S.FAILED, _S.EXPIRED})
_TASK_FROM = frozenset({_S.SUBMITTING, _S.UNKNOWN, _S.RUNNING})
_STATUS_FROM = frozenset({_S.RUNNING})
_FAILURE_FROM = frozenset({_S.SUBMITTING, _S.RUNNING, _S.UNKNOWN, _S.FAILED})
_UNKNOWN_FROM = frozenset({_S.SUBMITTING, _S.UNKNOWN})
_DOWNLOAD_FROM = frozenset({_S.RUNNING, _S.DONE})
_EXPIRED_FROM = frozenset({_S.RUNNING, _S.DONE, _S.EXPIRED})
IN_FLIGHT = frozenset({_S.SUBMITTING, _S.RUNNING, _S.UNKNOWN})

# Ordered migrations: entry N (0-based) takes the schema from version N to N+1. Each is a
# tuple of statements run in one transaction together with the user_version bump. Never
# edit a released entry; append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE runs (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            storyboard  TEXT NOT NULL,
            name        TEXT NOT NULL,
            argv        TEXT NOT NULL,
            pid         INTEGER NOT NULL,
            status      TEXT NOT NULL,
            summary     TEXT,
            started_at  REAL NOT NULL,
            finished_at REAL
        )
        """,
        """
        CREATE TABLE shots (
            fingerprint TEXT PRIMARY KEY,
            run_id      INTEGER NOT NULL REFERENCES runs(id),
            shot_id     TEXT NOT NULL,
            api         TEXT NOT NULL,
            model       TEXT NOT NULL,
            request     TEXT NOT NULL,
            task_id     TEXT,
            state       TEXT NOT NULL,
            status      TEXT,
            raw_status  TEXT,
            progress    INTEGER,
            path        TEXT,
            sha256      TEXT,
            size        INTEGER,
            attempts    INTEGER NOT NULL DEFAULT 0,
            error       TEXT,
            created_at  REAL NOT NULL,
            updated_at  REAL NOT NULL,
            seq         INTEGER NOT NULL
        )
        """,
        "CREATE INDEX shots_by_shot_id ON shots (shot_id, seq)",
        "CREATE INDEX shots_by_run ON shots (run_id)",
        "CREATE INDEX shots_by_state ON shots (state)",
        """
        CREATE TABLE events (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            at          REAL NOT NULL,
            fingerprint TEXT NOT NULL,
            run_id      INTEGER,
            shot_id     TEXT,
            kind        TEXT NOT NULL,
            state       TEXT,
            status      TEXT,
            task_id     TEXT,
            detail      TEXT
        )
        """,
        "CREATE INDEX events_by_fingerprint ON events (fingerprint, id)",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)

_SECRET_EXACT = frozenset(
    {
        "authorization",
        "proxyauthorization",
        "auth",
        "bearer",
        "cookie",
        "setcookie",
        "credential",
        "credentials",
        "passwd",
    }
)
_SECRET_SUFFIXES = ("token", "apikey", "secret", "secretkey", "privatekey", "password", "accesskey")
_BEARER_RE = re.compile(r"\s*bearer\s", re.IGNORECASE)
_REDACTED = "***"


def is_secret_name(name: str) -> bool:
    """True for a key or option name that looks like it holds a credential."""
    norm = re.sub(r"[^a-z0-9]", "", name.lower())
    return norm in _SECRET_EXACT or norm.endswith(_SECRET_SUFFIXES)


def find_secrets(obj: object, where: str = "$") -> list[str]:
    """Paths inside ``obj`` that look like credentials (never the values themselves).

    A key named like authorization, api_key, x-api-key, token or secret counts whatever
    its value, and so does any string that starts with ``Bearer``. ``max_tokens`` does not.
    """
    found: list[str] = []
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            path = f"{where}.{key}"
            if isinstance(key, str) and is_secret_name(key):
                found.append(path)
            else:
                found.extend(find_secrets(value, path))
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            found.extend(find_secrets(value, f"{where}[{i}]"))
    elif isinstance(obj, str) and _BEARER_RE.match(obj):
        found.append(where)
    return found


def redact_argv(argv: Sequence[str]) -> list[str]:
    """A copy of a command line with anything that looks like a credential replaced.

    Handles ``--api-key=X``, ``--api-key X``, ``token=X`` (as in ``--var token=X``) and
    ``Bearer X``.
    """
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append(_REDACTED)
            hide_next = False
            continue
        name, sep, _value = arg.lstrip("-").partition("=")
        if _BEARER_RE.match(arg):
            out.append(_REDACTED)
        elif is_secret_name(name) and (sep or arg.startswith("-")):
            if sep:
                out.append(arg[: len(arg) - len(_value)] + _REDACTED)
            else:
                out.append(arg)
                hide_next = True
        else:
            out.append(arg)
    return out


def _refuse_secrets(what: str, paths: list[str]) -> None:
    if paths:
        raise StateError(
            f"refusing to store {what}: it holds what looks like a credential at "
            f"{', '.join(paths)} (keys must be stripped before anything is recorded)"
        )


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC)


def _dt_req(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _json(obj: object) -> str:
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
    def _from_row(cls, row: sqlite3.Row) -> ShotRecord:
        return cls(
            fingerprint=row["fingerprint"],
            run_id=row["run_id"],
            shot_id=row["shot_id"],
            api=row["api"],
            model=row["model"],
            request=json.loads(row["request"]),
            task_id=row["task_id"],
            state=ShotState(row["state"]),
            status=row["status"],
            raw_status=row["raw_status"],
            progress=row["progress"],
            path=row["path"],
            sha256=row["sha256"],
            size=row["size"],
            attempts=row["attempts"],
            error=row["error"],
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
    def _from_row(cls, row: sqlite3.Row) -> RunRecord:
        return cls(
            id=row["id"],
            storyboard=row["storyboard"],
            name=row["name"],
            argv=tuple(json.loads(row["argv"])),
            pid=row["pid"],
            status=row["status"],
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
    def _from_row(cls, row: sqlite3.Row) -> EventRecord:
        return cls(
            id=row["id"],
            at=_dt_req(row["at"]),
            fingerprint=row["fingerprint"],
            run_id=row["run_id"],
            shot_id=row["shot_id"],
            kind=row["kind"],
            state=row["state"],
            status=row["status"],
            task_id=row["task_id"],
            detail=None if row["detail"] is None else json.loads(row["detail"]),
        )


class Ledger:
    """The SQLite ledger of one state dir. Open with ``Ledger.open(state_dir)``.

    One connection guarded by a lock: safe to call from the event loop thread and from
    worker threads. Each write is its own committed transaction.
    """

    def __init__(
        self, conn: sqlite3.Connection, path: Path, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._path = path
        self._clock = clock
        self._lock = threading.RLock()

    # -- opening and closing ---------------------------------------------------------------

    @classmethod
    def open(cls, state_dir: Path, *, clock: Callable[[], float] = time.time) -> Ledger:
        """Open (creating and migrating as needed) ``<state_dir>/ledger.sqlite3``."""
        state_dir = Path(state_dir)
        path = state_dir / LEDGER_FILENAME
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create state dir {state_dir}: {exc.strerror}") from exc
        try:
            conn = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=10.0
            )
        except sqlite3.Error as exc:
            raise StateError(f"cannot open ledger {path}: {exc}") from exc
        try:
            conn.row_factory = sqlite3.Row
            _check_version(conn, path)
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StateError(
                    f"ledger {path}: the file system does not support SQLite WAL mode "
                    f"(got {mode!r}); use --state to put the state dir on a local disk"
                )
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            _migrate(conn, path)
        except sqlite3.Error as exc:
            conn.close()
            raise StateError(f"cannot use ledger {path}: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, clock=clock)

    @property
    def path(self) -> Path:
        """The ledger file."""
        return self._path

    def close(self) -> None:
        """Close the connection. Safe to call twice."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({str(self._path)!r})"

    # -- plumbing --------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StateError(f"ledger {self._path} is closed")
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed (and fsynced) before the block's caller returns."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StateError(f"ledger {self._path}: {exc}") from exc
                raise

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._connection().execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StateError(f"ledger {self._path}: {exc}") from exc

    def _event(
        self,
        conn: sqlite3.Connection,
        row: Mapping[str, Any],
        kind: str,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        conn.execute(
            "INSERT INTO events (at, fingerprint, run_id, shot_id, kind, state, status, task_id,"
            " detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self._clock(),
                row["fingerprint"],
                row["run_id"],
                row["shot_id"],
                kind,
                row["state"],
                row["status"],
                row["task_id"],
                None if detail is None else _json(detail),
            ),
        )

    def _transition(
        self,
        fingerprint: str,
        action: str,
        allowed: frozenset[ShotState],
        changes: Mapping[str, object],
        *,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        """Move a shot to a new state if its current state allows ``action``."""
        with self._write() as conn:
            row = _fetch_shot(conn, fingerprint)
            _check_state(row, fingerprint, action, allowed)
            self._update(conn, row, changes, action.removeprefix("record_"), detail)

    def _update(
        self,
        conn: sqlite3.Connection,
        row: sqlite3.Row,
        changes: Mapping[str, object],
        kind: str | None,
        detail: Mapping[str, object] | None,
    ) -> None:
        """Apply ``changes`` to a shot row; log an audit event unless ``kind`` is None."""
        values = {**changes, "updated_at": self._clock()}
        sets = ", ".join(f"{col} = ?" for col in values)
        conn.execute(
            f"UPDATE shots SET {sets}, seq = (SELECT MAX(seq) + 1 FROM shots)"
            " WHERE fingerprint = ?",
            (*values.values(), row["fingerprint"]),
        )
        if kind is not None:
            self._event(conn, {**dict(row), **values}, kind, detail)

    # -- runs ------------------------------------------------------------------------------

    def start_run(self, storyboard: str, name: str, argv: list[str]) -> int:
        """Record the start of a run and return its id. Credentials in argv are redacted."""
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO runs (storyboard, name, argv, pid, status, started_at)"
                " VALUES (?, ?, ?, ?, 'running', ?)",
                (storyboard, name, _json(redact_argv(argv)), os.getpid(), self._clock()),
            )
            run_id = cur.lastrowid
        assert run_id is not None
        return run_id

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        """Record how a run ended (``ok``, ``failed``, ``interrupted``...) and its summary."""
        _refuse_secrets("the run summary", find_secrets(summary))
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE runs SET status = ?, summary = ?, finished_at = ? WHERE id = ?",
                (status, _json(summary), self._clock(), run_id),
            )
            if cur.rowcount != 1:
                raise StateError(f"ledger {self._path}: no run with id {run_id}")

    def end_abandoned_runs(self, status: str = "interrupted") -> list[int]:
        """Record runs still marked running as ended with ``status``; return their ids.

        Call it only while holding the state dir's lock: no other run is alive then, so a
        run still marked running was killed before it could record how it ended.
        """
        with self._write() as conn:
            ids = [r["id"] for r in conn.execute("SELECT id FROM runs WHERE status = 'running'")]
            # finished_at stays empty: when the run died is not known.
            conn.execute("UPDATE runs SET status = ? WHERE status = 'running'", (status,))
        return ids

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The most recent runs, newest first."""
        rows = self._read("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))
        return [RunRecord._from_row(r) for r in rows]

    def run(self, run_id: int) -> RunRecord | None:
        """One run by id."""
        rows = self._read("SELECT * FROM runs WHERE id = ?", (run_id,))
        return RunRecord._from_row(rows[0]) if rows else None

    # -- shots -----------------------------------------------------------------------------

    def record_intent(
        self,
        *,
        run_id: int,
        shot_id: str,
        fingerprint: str,
        api: str,
        model: str,
        request: dict[str, Any],
    ) -> None:
        """Record that a create is about to be sent (state ``submitting``).

        Call it before the create. Refused (StateError) for a shot that already has a
        task, an uncertain create or a file: re-sending those could pay twice.
        """
        if not is_sha256(fingerprint):
            raise StateError(f"not a fingerprint: {fingerprint!r}")
        _refuse_secrets(f"the request of shot {shot_id!r}", find_secrets(request))
        request_json = _json(request)
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                raise StateError(f"ledger {self._path}: no run with id {run_id}")
            row = _find_shot(conn, fingerprint)
            changes: dict[str, object] = {
                "run_id": run_id,
                "shot_id": shot_id,
                "api": api,
                "model": model,
                "request": request_json,
                "task_id": None,
                "state": ShotState.SUBMITTING.value,
                "status": None,
                "raw_status": None,
                "progress": None,
                "path": None,
                "sha256": None,
                "size": None,
                "error": None,
            }
            if row is None:
                now = self._clock()
                values = {**changes, "fingerprint": fingerprint, "attempts": 1}
                values |= {"created_at": now, "updated_at": now}
                cols = ", ".join(values)
                marks = ", ".join("?" for _ in values)
                conn.execute(
                    f"INSERT INTO shots ({cols}, seq)"
                    f" VALUES ({marks}, (SELECT COALESCE(MAX(seq), 0) + 1 FROM shots))",
                    tuple(values.values()),
                )
                self._event(conn, values, "intent")
            else:
                _check_state(row, fingerprint, "record_intent", _INTENT_FROM)
                self._update(
                    conn, row, {**changes, "attempts": row["attempts"] + 1}, "intent", None
                )

    def record_task(self, fingerprint: str, task_id: str, status: str) -> None:
        """Record the task id the provider gave (state ``running``). Call it right away."""
        with self._write() as conn:
            row = _fetch_shot(conn, fingerprint)
            if row["state"] == ShotState.RUNNING and row["task_id"] == task_id:
                return
            if row["task_id"] is not None and row["task_id"] != task_id:
                raise StateError(
                    f"shot {row['shot_id']!r} already has task {row['task_id']!r};"
                    f" refusing to record a second task {task_id!r}"
                )
            _check_state(row, fingerprint, "record_task", _TASK_FROM)
            changes = {
                "task_id": task_id,
                "state": ShotState.RUNNING.value,
                "status": status,
                "error": None,
            }
            self._update(conn, row, changes, "task", None)

    def record_status(
        self, fingerprint: str, status: str, progress: int | None, raw_status: str | None
    ) -> bool:
        """Record a poll result. Returns False (and writes nothing) when nothing changed."""
        if progress is not None:
            progress = max(0, min(100, int(progress)))
        with self._write() as conn:
            row = _fetch_shot(conn, fingerprint)
            _check_state(row, fingerprint, "record_status", _STATUS_FROM)
            if (row["status"], row["progress"], row["raw_status"]) == (
                status,
                progress,
                raw_status,
            ):
                return False
            changes = {"status": status, "progress": progress, "raw_status": raw_status}
            # Progress alone updates the row but stays out of the audit log.
            kind = None if row["status"] == status else "status"
            self._update(conn, row, changes, kind, {"raw_status": raw_status})
            return True

    def record_failure(self, fingerprint: str, reason: str) -> None:
        """Record that the shot failed for good (state ``failed``)."""
        self._transition(
            fingerprint,
            "record_failure",
            _FAILURE_FROM,
            {"state": ShotState.FAILED.value, "error": reason},
            detail={"reason": reason},
        )

    def record_unknown(self, fingerprint: str, reason: str) -> None:
        """Record that a create was sent but its answer was lost (state ``unknown``)."""
        self._transition(
            fingerprint,
            "record_unknown",
            _UNKNOWN_FROM,
            {"state": ShotState.UNKNOWN.value, "error": reason},
            detail={"reason": reason},
        )

    def record_download(self, fingerprint: str, *, path: str, sha256: str, size: int) -> None:
        """Record the verified downloaded file (state ``done``)."""
        if not is_sha256(sha256):
            raise StateError(f"not a sha256: {sha256!r}")
        if size < 0:
            raise StateError(f"negative file size {size}")
        self._transition(
            fingerprint,
            "record_download",
            _DOWNLOAD_FROM,
            {
                "state": ShotState.DONE.value,
                "path": str(path),
                "sha256": sha256,
                "size": size,
                "error": None,
            },
            detail={"path": str(path), "sha256": sha256, "size": size},
        )

    def record_expired(self, fingerprint: str) -> None:
        """Record that the provider no longer serves the video (state ``expired``)."""
        self._transition(
            fingerprint,
            "record_expired",
            _EXPIRED_FROM,
            {"state": ShotState.EXPIRED.value, "error": "content expired"},
        )

    def forget(self, fingerprint: str) -> bool:
        """Make a shot new again (``--force``). The old row stays in the audit log.

        Returns False when there was nothing to forget.
        """
        with self._write() as conn:
            row = _find_shot(conn, fingerprint)
            if row is None:
                return False
            snapshot = dict(row)
            snapshot["request"] = json.loads(snapshot["request"])
            self._event(conn, snapshot, "forget", {"row": snapshot})
            conn.execute("DELETE FROM shots WHERE fingerprint = ?", (fingerprint,))
            return True

    # -- queries ---------------------------------------------------------------------------

    def lookup(self, fingerprint: str) -> ShotRecord | None:
        """The shot with this fingerprint, or None if it is new."""
        rows = self._read("SELECT * FROM shots WHERE fingerprint = ?", (fingerprint,))
        return ShotRecord._from_row(rows[0]) if rows else None

    def shots_for_run(self, run_id: int) -> list[ShotRecord]:
        """Shots whose latest attempt belongs to this run, in the order first recorded."""
        rows = self._read("SELECT * FROM shots WHERE run_id = ? ORDER BY rowid", (run_id,))
        return [ShotRecord._from_row(r) for r in rows]

    def latest_for_shot(self, shot_id: str) -> ShotRecord | None:
        """The most recently written row for a shot id, whatever its fingerprint."""
        rows = self._read(
            "SELECT * FROM shots WHERE shot_id = ? ORDER BY seq DESC LIMIT 1", (shot_id,)
        )
        return ShotRecord._from_row(rows[0]) if rows else None

    def in_flight(self) -> list[ShotRecord]:
        """Shots in submitting, running or unknown: what a resume must look at first."""
        marks = ", ".join("?" for _ in IN_FLIGHT)
        rows = self._read(
            f"SELECT * FROM shots WHERE state IN ({marks}) ORDER BY rowid",
            tuple(s.value for s in sorted(IN_FLIGHT)),
        )
        return [ShotRecord._from_row(r) for r in rows]

    def events(self, fingerprint: str) -> list[EventRecord]:
        """The audit log of one fingerprint, oldest first (it outlives ``forget``)."""
        rows = self._read("SELECT * FROM events WHERE fingerprint = ? ORDER BY id", (fingerprint,))
        return [EventRecord._from_row(r) for r in rows]


def _find_shot(conn: sqlite3.Connection, fingerprint: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM shots WHERE fingerprint = ?", (fingerprint,)
    ).fetchone()
    return row


def _fetch_shot(conn: sqlite3.Connection, fingerprint: str) -> sqlite3.Row:
    row = _find_shot(conn, fingerprint)
    if row is None:
        raise StateError(f"no shot with fingerprint {fingerprint[:12]} in the ledger")
    return row


def _check_state(
    row: sqlite3.Row, fingerprint: str, action: str, allowed: frozenset[ShotState]
) -> None:
    state = row["state"]
    if state not in allowed:
        hint = " (use --force to regenerate it)" if action == "record_intent" else ""
        raise StateError(
            f"shot {row['shot_id']!r} ({fingerprint[:12]}) is {state};"
            f" {action} is not allowed from that state{hint}"
        )


def _check_version(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StateError(
            f"ledger {path} has schema version {version}, but this vidpipe knows versions up"
            f" to {SCHEMA_VERSION}: it was written by a newer vidpipe. Upgrade vidpipe or"
            " use another --state dir."
        )


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Apply pending migrations, each in its own transaction with its version bump."""
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Read inside the write transaction: another process may have migrated first.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version >= SCHEMA_VERSION:
                _check_version(conn, path)
                conn.execute("COMMIT")
                return
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
