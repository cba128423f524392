"""The ledger: every run, every shot's request, task, status and downloaded file.

It lives at ``<state_dir>/ledger.sqlite3`` (stdlib sqlite3, WAL, ``synchronous=FULL``).
Every write commits before its method returns, so what a call recorded survives a crash
that happens right after it: the runner writes here before and after each remote call.
Reads outside a write go to a second connection: they see the last commit at once, without
waiting for the commit in progress on another thread (the ledger writer's fsync).
Which call may move a shot from which state is `transitions`; the schema is `migrations`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from ..errors import BudgetReached, StateError
from ..fingerprint import is_sha256
from ..redact import find_secrets, redact_argv
from ..states import IN_FLIGHT, ShotState
from .migrations import check_version, migrate
from .records import (
    CorruptRow,
    EventRecord,
    ForceRecord,
    Reservation,
    RunRecord,
    ShotRecord,
    to_json,
)
from .transitions import check_state

__all__ = ["LEDGER_FILENAME", "Ledger"]

LEDGER_FILENAME = "ledger.sqlite3"
#: Pages the writing connection keeps in memory (SQLite's default is 2,000 KiB). Its writes
#: touch a few rows each; other pages come from the OS's file cache when needed.
WRITER_CACHE_KIB = 512


_Rec = TypeVar("_Rec", ShotRecord, RunRecord, EventRecord)


def _refuse_secrets(what: str, paths: list[str]) -> None:
    if paths:
        raise StateError(
            f"refusing to store {what}: it holds what looks like a credential at "
            f"{', '.join(paths)} (keys must be stripped before anything is recorded)"
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
        self._batching = False
        self._writer: int | None = None  # the thread inside a write or a batch
        # Reads outside a write go to a connection of their own: in WAL mode they see
        # the last commit at once instead of waiting for the one in progress (its fsync).
        self._reader: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()

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
            check_version(conn, path)
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StateError(
                    f"ledger {path}: the file system does not support SQLite WAL mode "
                    f"(got {mode!r}): move the state dir, with everything in it, to a local"
                    " disk and name its new place with --state"
                )
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
            migrate(conn, path)
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
            with self._read_lock:
                if self._reader is not None:
                    self._reader.close()
                    self._reader = None

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
        """One write transaction, committed (and fsynced) before the block's caller returns;
        inside `batch`, a savepoint of the batch's transaction."""
        with self._lock, self._writing():
            conn = self._connection()
            if self._batching:
                try:
                    conn.execute("SAVEPOINT one_write")
                    yield conn
                    conn.execute("RELEASE one_write")
                except BaseException as exc:
                    conn.execute("ROLLBACK TO one_write")
                    conn.execute("RELEASE one_write")
                    if isinstance(exc, sqlite3.Error):
                        raise StateError(f"ledger {self._path}: {exc}") from exc
                    raise
                return
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

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Writes in the block share one transaction, committed (one fsync) when it ends.

        Each write still succeeds or fails on its own (a savepoint); nothing in the block
        is durable before the block ends, so the caller waits for that before it acts on
        any of them (`LedgerWriter` does).
        """
        with self._lock, self._writing():
            conn = self._connection()
            if self._batching:
                yield
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
                self._batching = True
                yield
                self._batching = False
                conn.execute("COMMIT")
            except BaseException as exc:
                self._batching = False
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StateError(f"ledger {self._path}: {exc}") from exc
                raise

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Mark this thread as the writer (the lock is held) for the block."""
        outer, self._writer = self._writer, threading.get_ident()
        try:
            yield
        finally:
            self._writer = outer

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Rows from the last commit; inside a write, that write's own changes too."""
        try:
            if self._writer == threading.get_ident():
                with self._lock:
                    return self._connection().execute(sql, params).fetchall()
            with self._read_lock:
                return self._reading().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StateError(f"ledger {self._path}: {exc}") from exc

    def _reading(self) -> sqlite3.Connection:
        """The connection for reads outside a write (opened on first use)."""
        self._connection()  # a closed ledger reads nothing
        if self._reader is None:
            reader = sqlite3.connect(
                self._path, isolation_level=None, check_same_thread=False, timeout=10.0
            )
            reader.row_factory = sqlite3.Row
            reader.execute("PRAGMA query_only=ON")
            self._reader = reader
        return self._reader

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
                None if detail is None else to_json(detail),
            ),
        )

    def _transition(
        self,
        fingerprint: str,
        action: str,
        changes: Mapping[str, object],
        *,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        """Move a shot to a new state if its current state allows ``action``."""
        with self._write() as conn:
            row = _fetch_shot(conn, fingerprint)
            check_state(row, fingerprint, action)
            self._update(conn, row, changes, action.removeprefix("record_"), detail)

    def _insert(
        self,
        conn: sqlite3.Connection,
        values: Mapping[str, object],
        kind: str,
        detail: Mapping[str, object] | None,
    ) -> None:
        """Insert a shot row (its first attempt) and log its audit event."""
        now = self._clock()
        values = {**values, "attempts": 1, "created_at": now, "updated_at": now}
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        conn.execute(
            f"INSERT INTO shots ({cols}, seq)"
            f" VALUES ({marks}, (SELECT COALESCE(MAX(seq), 0) + 1 FROM shots))",
            tuple(values.values()),
        )
        self._event(conn, values, kind, detail)

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
                (storyboard, name, to_json(redact_argv(argv)), os.getpid(), self._clock()),
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
                (status, to_json(summary), self._clock(), run_id),
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

    def record_summary(self, run_id: int, summary: dict[str, Any]) -> None:
        """Give a run that ended without one (it was killed) its summary."""
        _refuse_secrets("the run summary", find_secrets(summary))
        with self._write() as conn:
            conn.execute(
                "UPDATE runs SET summary = ? WHERE id = ? AND summary IS NULL",
                (to_json(summary), run_id),
            )

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The most recent runs, newest first."""
        rows = self._read("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))
        return [self._record(RunRecord, r) for r in rows]

    def run(self, run_id: int) -> RunRecord | None:
        """One run by id."""
        rows = self._read("SELECT * FROM runs WHERE id = ?", (run_id,))
        return self._record(RunRecord, rows[0]) if rows else None

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
        source_task: str | None = None,
        estimate_usd: float | None = None,
        budget: tuple[str, float] | None = None,
    ) -> None:
        """Record that a create is about to be sent (state ``submitting``, not yet sent).

        Call it before the create, and `record_sent` as its request leaves. Refused
        (StateError) for a shot that already has a task, a create that may have been taken
        or a file: re-sending those could pay twice. `source_task` is, for a remix, the
        task of the shot it is made from. `estimate_usd` is what the create should cost.

        With `budget` (the storyboard's name, the budget in USD), the estimate is reserved
        in the same transaction: BudgetReached, and nothing written, when the storyboard's
        open reservations and this one would pass the budget.
        """
        if not is_sha256(fingerprint):
            raise StateError(f"not a fingerprint: {fingerprint!r}")
        _refuse_secrets(f"the request of shot {shot_id!r}", find_secrets(request))
        request_json = to_json(request)
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
                "sent_at": None,
                "task_at": None,
                "source_task": source_task,
                "legacy": 0,
                "timings": None,
                "estimate_usd": estimate_usd,
                "spend_usd": None,
            }
            if row is not None:
                check_state(row, fingerprint, "record_intent")
            if budget is not None and estimate_usd is not None:
                self._reserve(conn, budget, run_id, shot_id, fingerprint, estimate_usd)
            if row is None:
                self._insert(conn, {**changes, "fingerprint": fingerprint}, "intent", None)
            else:
                self._update(
                    conn, row, {**changes, "attempts": row["attempts"] + 1}, "intent", None
                )

    def _reserve(
        self,
        conn: sqlite3.Connection,
        budget: tuple[str, float],
        run_id: int,
        shot_id: str,
        fingerprint: str,
        usd: float,
    ) -> None:
        name, limit = budget
        held = conn.execute(
            "SELECT COALESCE(SUM(usd), 0) FROM reservations"
            " WHERE name = ? AND closed_at IS NULL AND fingerprint != ?",
            (name, fingerprint),
        ).fetchone()[0]
        if held + usd > limit + 1e-9:
            raise BudgetReached(
                f"${held:.2f} is spent or reserved; this create's ${usd:.2f} would pass the"
                f" budget of ${limit:.2f}",
                reserved=float(held),
                budget=limit,
            )
        conn.execute(
            "DELETE FROM reservations WHERE name = ? AND closed_at IS NULL AND fingerprint = ?",
            (name, fingerprint),
        )
        conn.execute(
            "INSERT INTO reservations (name, run_id, fingerprint, shot_id, usd, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (name, run_id, fingerprint, shot_id, usd, self._clock()),
        )

    def record_spend(self, fingerprint: str, usd: float) -> bool:
        """Record what the gateway says the shot's task was charged (USD); an open
        reservation for it then holds that amount. False when nothing changed."""
        with self._write() as conn:
            row = _fetch_shot(conn, fingerprint)
            if row["spend_usd"] == usd:
                return False
            self._update(conn, row, {"spend_usd": usd}, "spend", {"usd": usd})
            conn.execute(
                "UPDATE reservations SET usd = ? WHERE fingerprint = ? AND closed_at IS NULL",
                (usd, fingerprint),
            )
            return True

    def release(self, fingerprint: str) -> None:
        """Drop the open reservation of a create the provider certainly did not take."""
        with self._write() as conn:
            conn.execute(
                "DELETE FROM reservations WHERE fingerprint = ? AND closed_at IS NULL",
                (fingerprint,),
            )

    def open_reservations(self, name: str) -> list[Reservation]:
        """The reservations of a storyboard no finished run has closed, oldest first."""
        rows = self._read(
            "SELECT * FROM reservations WHERE name = ? AND closed_at IS NULL ORDER BY id",
            (name,),
        )
        return [Reservation.from_row(r) for r in rows]

    def close_reservations(self, name: str) -> None:
        """A run of this storyboard ended (ok or failed): its budget's holds are settled."""
        with self._write() as conn:
            conn.execute(
                "UPDATE reservations SET closed_at = ? WHERE name = ? AND closed_at IS NULL",
                (self._clock(), name),
            )

    def record_sent(self, fingerprint: str) -> bool:
        """Record that the create's request is leaving (it may reach the provider from now
        on). Returns False when it was already recorded."""
        with self._write() as conn:
            row = _fetch_shot(conn, fingerprint)
            check_state(row, fingerprint, "record_sent")
            if row["sent_at"] is not None:
                return False
            self._update(conn, row, {"sent_at": self._clock()}, "sent", None)
            return True

    def record_not_taken(self, fingerprint: str) -> None:
        """Record that the provider answered the create 429: it did not take it, so the
        request counts as never sent (a run that stops now leaves it to be sent again)."""
        with self._write() as conn:
            row = _fetch_shot(conn, fingerprint)
            check_state(row, fingerprint, "record_not_taken")
            self._update(conn, row, {"sent_at": None}, "not_taken", None)

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
            check_state(row, fingerprint, "record_task")
            now = self._clock()
            changes = {
                "task_id": task_id,
                "state": ShotState.RUNNING.value,
                "status": status,
                "error": None,
                "task_at": now,
                "sent_at": row["sent_at"] if row["sent_at"] is not None else now,
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
            check_state(row, fingerprint, "record_status")
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
            {"state": ShotState.FAILED.value, "error": reason},
            detail={"reason": reason},
        )

    def record_unknown(self, fingerprint: str, reason: str) -> None:
        """Record that a create was sent but its answer was lost (state ``unknown``)."""
        with self._write() as conn:
            row = _fetch_shot(conn, fingerprint)
            check_state(row, fingerprint, "record_unknown")
            changes = {
                "state": ShotState.UNKNOWN.value,
                "error": reason,
                "sent_at": row["sent_at"] if row["sent_at"] is not None else self._clock(),
            }
            self._update(conn, row, changes, "unknown", {"reason": reason})

    def record_download(
        self,
        fingerprint: str,
        *,
        path: str,
        sha256: str,
        size: int,
        timings: Mapping[str, float] | None = None,
    ) -> None:
        """Record the verified downloaded file (state ``done``) and the timings of the run
        that made it (kept when a later run only downloads it again)."""
        if not is_sha256(sha256):
            raise StateError(f"not a sha256: {sha256!r}")
        if size < 0:
            raise StateError(f"negative file size {size}")
        changes: dict[str, object] = {
            "state": ShotState.DONE.value,
            "path": str(path),
            "sha256": sha256,
            "size": size,
            "error": None,
        }
        if timings:
            changes["timings"] = to_json({k: round(v, 3) for k, v in timings.items()})
        self._transition(
            fingerprint,
            "record_download",
            changes,
            detail={"path": str(path), "sha256": sha256, "size": size},
        )

    def record_expired(self, fingerprint: str) -> None:
        """Record that the provider no longer serves the video (state ``expired``)."""
        self._transition(
            fingerprint,
            "record_expired",
            {"state": ShotState.EXPIRED.value, "error": "content expired"},
        )

    def forget(self, fingerprint: str) -> bool:
        """Make a shot new again (``--force``). The old row stays in the audit log.

        Returns False when there was nothing to forget.
        """
        with self._write() as conn:
            return self._forget(conn, fingerprint)

    def _forget(self, conn: sqlite3.Connection, fingerprint: str) -> bool:
        row = _find_shot(conn, fingerprint)
        if row is None:
            return False
        snapshot = dict(row)
        with suppress(TypeError, ValueError):  # else kept as the text it was
            snapshot["request"] = json.loads(snapshot["request"])
        self._event(conn, snapshot, "forget", {"row": snapshot})
        conn.execute("DELETE FROM shots WHERE fingerprint = ?", (fingerprint,))
        return True

    def restore(
        self,
        *,
        run_id: int,
        shot_id: str,
        fingerprint: str,
        state: ShotState,
        api: str,
        model: str,
        request: dict[str, Any],
        task_id: str | None = None,
        source_task: str | None = None,
        path: str | None = None,
        sha256: str | None = None,
        size: int | None = None,
        error: str | None = None,
        source: str = "",
    ) -> bool:
        """Write back a row that was lost (a ledger rebuilt from a manifest and the verified
        files). Returns False, writing nothing, when the fingerprint already has a row."""
        if not is_sha256(fingerprint):
            raise StateError(f"not a fingerprint: {fingerprint!r}")
        if state not in (ShotState.DONE, ShotState.RUNNING, ShotState.UNKNOWN):
            raise StateError(f"cannot restore a shot as {state}")
        if sha256 is not None and not is_sha256(sha256):
            raise StateError(f"not a sha256: {sha256!r}")
        _refuse_secrets(f"the request of shot {shot_id!r}", find_secrets(request))
        with self._write() as conn:
            if _find_shot(conn, fingerprint) is not None:
                return False
            now = self._clock()
            values: dict[str, object] = {
                "fingerprint": fingerprint,
                "run_id": run_id,
                "shot_id": shot_id,
                "api": api,
                "model": model,
                "request": to_json(request),
                "task_id": task_id,
                "state": state.value,
                "status": None,
                "path": path,
                "sha256": sha256,
                "size": size,
                "error": error,
                "sent_at": now,
                "task_at": now if task_id else None,
                "source_task": source_task,
            }
            self._insert(conn, values, "restore", {"from": source})
            return True

    def adopt(self, legacy: str, fingerprint: str, source_task: str) -> bool:
        """Give a row written before a remix's fingerprint named its source's task (a
        `legacy` row under `legacy`) its fingerprint now, made from `source_task`."""
        with self._write() as conn:
            row = _find_shot(conn, legacy)
            if row is None or not row["legacy"] or _find_shot(conn, fingerprint) is not None:
                return False
            conn.execute(
                "UPDATE shots SET fingerprint = ?, source_task = ?, legacy = 0"
                " WHERE fingerprint = ?",
                (fingerprint, source_task, legacy),
            )
            self._event(conn, {**dict(row), "fingerprint": fingerprint}, "adopt", {"was": legacy})
            return True

    # -- forces ----------------------------------------------------------------------------

    def open_forces(self, name: str) -> dict[str, ForceRecord]:
        """The forces a storyboard still owes, by shot id (not yet settled)."""
        rows = self._read(
            "SELECT * FROM forces WHERE name = ? AND settled_at IS NULL ORDER BY id", (name,)
        )
        return {r["shot_id"]: ForceRecord.from_row(r) for r in rows}

    def request_forces(self, name: str, run_id: int, shot_ids: Sequence[str]) -> None:
        """Record that run `run_id` forces these shots, except those an earlier run's force
        still covers (that run was interrupted: repeating its command resumes it)."""
        with self._write() as conn:
            owed = {
                r["shot_id"]
                for r in conn.execute(
                    "SELECT shot_id FROM forces WHERE name = ? AND settled_at IS NULL", (name,)
                )
            }
            for shot_id in dict.fromkeys(shot_ids):
                if shot_id not in owed:
                    conn.execute(
                        "INSERT INTO forces (name, shot_id, run_id, requested_at)"
                        " VALUES (?, ?, ?, ?)",
                        (name, shot_id, run_id, self._clock()),
                    )

    def apply_force(self, force: ForceRecord, fingerprint: str) -> None:
        """Carry out a force: set aside the generation `fingerprint` has (the old row goes to
        the audit log) and note that it was done, in one transaction."""
        with self._write() as conn:
            current = conn.execute(
                "SELECT applied_to FROM forces WHERE id = ?", (force.id,)
            ).fetchone()
            if current is None or current["applied_to"] is not None:
                return
            self._forget(conn, fingerprint)
            conn.execute("UPDATE forces SET applied_to = ? WHERE id = ?", (fingerprint, force.id))

    def settle_forces(self, name: str, shot_ids: Sequence[str]) -> None:
        """A run that reached these shots ended: their carried-out forces are settled (the
        same command forces them again)."""
        marks = ", ".join("?" for _ in shot_ids)
        if not shot_ids:
            return
        with self._write() as conn:
            conn.execute(
                "UPDATE forces SET settled_at = ? WHERE name = ? AND settled_at IS NULL"
                f" AND applied_to IS NOT NULL AND shot_id IN ({marks})",
                (self._clock(), name, *shot_ids),
            )

    # -- queries ---------------------------------------------------------------------------

    def lookup(self, fingerprint: str) -> ShotRecord | None:
        """The shot with this fingerprint, or None if it is new."""
        rows = self._read("SELECT * FROM shots WHERE fingerprint = ?", (fingerprint,))
        return self._record(ShotRecord, rows[0]) if rows else None

    def shots_for_run(self, run_id: int) -> list[ShotRecord]:
        """Shots whose latest attempt belongs to this run, in the order first recorded."""
        rows = self._read("SELECT * FROM shots WHERE run_id = ? ORDER BY rowid", (run_id,))
        return [self._record(ShotRecord, r) for r in rows]

    def latest_for_shot(self, shot_id: str) -> ShotRecord | None:
        """The most recently written row for a shot id, whatever its fingerprint."""
        rows = self._read(
            "SELECT * FROM shots WHERE shot_id = ? ORDER BY seq DESC LIMIT 1", (shot_id,)
        )
        return self._record(ShotRecord, rows[0]) if rows else None

    def storyboards(self) -> list[str]:
        """Every storyboard path a run has recorded, the most recently run first."""
        rows = self._read(
            "SELECT storyboard FROM runs GROUP BY storyboard ORDER BY MAX(id) DESC", ()
        )
        return [r["storyboard"] for r in rows]

    def latest_files(self, storyboard: str) -> list[ShotRecord]:
        """For each shot id run from this storyboard (its path as runs record it), the most
        recently written row that has a file: what its output folder last received."""
        rows = self._read(
            "SELECT shots.* FROM shots JOIN runs ON runs.id = shots.run_id"
            " WHERE runs.storyboard = ? AND shots.sha256 IS NOT NULL ORDER BY shots.seq",
            (storyboard,),
        )
        latest = {r["shot_id"]: r for r in rows}  # later rows replace earlier ones
        return [ShotRecord.from_row(r) for r in latest.values()]

    def in_flight(self) -> list[ShotRecord]:
        """Shots in submitting, running or unknown: what a resume must look at first."""
        marks = ", ".join("?" for _ in IN_FLIGHT)
        rows = self._read(
            f"SELECT * FROM shots WHERE state IN ({marks}) ORDER BY rowid",
            tuple(sorted(IN_FLIGHT)),
        )
        return [self._record(ShotRecord, r) for r in rows]

    def durations(
        self,
        api: str,
        model: str,
        limit: int = 20,
        *,
        sent: tuple[str, float] | None = None,
    ) -> list[float]:
        """Seconds from creation to success of this model's most recent tasks on `api`
        (up to `limit`, newest first): what polling expects of its next task. `sent`
        (a request field and its number, such as the video's length) keeps only the tasks
        whose request sent that number in that field."""
        where = ""
        values: tuple[str, float] | tuple[()] = ()
        if sent is not None:
            where = " AND CAST(json_extract(shots.request, ?) AS REAL) = ?"
            values = ("$." + json.dumps(sent[0]), float(sent[1]))
        rows = self._read(
            "SELECT events.at - shots.task_at AS took FROM events"
            " JOIN shots ON shots.fingerprint = events.fingerprint"
            " AND shots.task_id = events.task_id"
            " WHERE shots.api = ? AND shots.model = ? AND events.kind = 'status'"
            " AND events.status = 'succeeded' AND shots.task_at IS NOT NULL"
            f" AND events.at > shots.task_at{where} ORDER BY events.id DESC LIMIT ?",
            (api, model, *values, limit),
        )
        return [float(r["took"]) for r in rows]

    def events(self, fingerprint: str) -> list[EventRecord]:
        """The audit log of one fingerprint, oldest first (it outlives ``forget``)."""
        rows = self._read("SELECT * FROM events WHERE fingerprint = ? ORDER BY id", (fingerprint,))
        return [self._record(EventRecord, r) for r in rows]

    def known_task_ids(self) -> set[str]:
        """Every task id this ledger ever recorded (rows and audit log)."""
        rows = self._read(
            "SELECT task_id FROM shots WHERE task_id IS NOT NULL"
            " UNION SELECT task_id FROM events WHERE task_id IS NOT NULL"
        )
        return {str(r["task_id"]) for r in rows}

    def is_empty(self) -> bool:
        """Whether the ledger holds no shot at all (new, or lost and created again)."""
        return not self._read("SELECT 1 FROM shots LIMIT 1")

    def check_rows(self) -> None:
        """Read back every shot and run row; raise StateError naming the first unreadable
        one and the way out (before a run sends anything)."""
        for row in self._read("SELECT * FROM shots ORDER BY rowid"):
            self._record(ShotRecord, row)
        for row in self._read("SELECT * FROM runs ORDER BY id"):
            self._record(RunRecord, row)

    def _record(self, cls: type[_Rec], row: sqlite3.Row) -> _Rec:
        """A record from a row; an unreadable row is a StateError with the way out."""
        try:
            return cls.from_row(row)
        except CorruptRow as exc:
            task = row["task_id"] if cls is ShotRecord else None
            named = f" The row names task {task}." if task else ""
            raise StateError(
                f"ledger {self._path}: {exc.where} cannot be read: {exc.problem}. Nothing was"
                f" sent.{named} Move the ledger aside (mv {self._path} {self._path}.broken)"
                " and run again: it is rebuilt from manifest.json and the verified files in"
                " the output folder, so no finished shot is paid for again."
            ) from None


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
