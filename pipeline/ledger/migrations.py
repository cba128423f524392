"""The ledger's schema and its ordered migrations (SQLite ``user_version``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import StateError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "check_version", "migrate"]

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
    (
        # When the create request left (NULL: only the intent is recorded, nothing was sent).
        "ALTER TABLE shots ADD COLUMN sent_at REAL",
        # When the task id was recorded: the poll deadline counts from here.
        "ALTER TABLE shots ADD COLUMN task_at REAL",
        # The task of the shot a remix was made from (its fingerprint includes it).
        "ALTER TABLE shots ADD COLUMN source_task TEXT",
        # Rows from before source tasks were part of a remix's fingerprint.
        "ALTER TABLE shots ADD COLUMN legacy INTEGER NOT NULL DEFAULT 0",
        # The timings of the run that made the file (seconds from the shot's start).
        "ALTER TABLE shots ADD COLUMN timings TEXT",
        # An older row in `submitting` may have been sent: count every older row as sent.
        "UPDATE shots SET legacy = 1, sent_at = updated_at",
        """
        UPDATE shots SET task_at = COALESCE(
            (SELECT MAX(e.at) FROM events e
             WHERE e.fingerprint = shots.fingerprint AND e.kind = 'task'),
            updated_at)
        WHERE task_id IS NOT NULL
        """,
        # `--force` as a recorded intent: owed until a run that carried it out ends.
        """
        CREATE TABLE forces (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            name         TEXT NOT NULL,
            shot_id      TEXT NOT NULL,
            run_id       INTEGER NOT NULL REFERENCES runs(id),
            requested_at REAL NOT NULL,
            applied_to   TEXT,
            settled_at   REAL
        )
        """,
        "CREATE INDEX forces_by_shot ON forces (name, shot_id, settled_at)",
    ),
    (
        # What the create was estimated to cost, and what the gateway says it charged (USD;
        # NULL: not known).
        "ALTER TABLE shots ADD COLUMN estimate_usd REAL",
        "ALTER TABLE shots ADD COLUMN spend_usd REAL",
        # A budgeted run reserves each create's estimate before sending it. A reservation
        # stays open until a run of that storyboard ends (ok or failed): a run that was killed
        # leaves its reservations to the run that resumes it.
        """
        CREATE TABLE reservations (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            name        TEXT NOT NULL,
            run_id      INTEGER NOT NULL REFERENCES runs(id),
            fingerprint TEXT NOT NULL,
            shot_id     TEXT NOT NULL,
            usd         REAL NOT NULL,
            created_at  REAL NOT NULL,
            closed_at   REAL
        )
        """,
        "CREATE INDEX reservations_open ON reservations (name, closed_at)",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


def check_version(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StateError(
            f"ledger {path} has schema version {version}, but this vidpipe knows versions up"
            f" to {SCHEMA_VERSION}: it was written by a newer vidpipe. Upgrade vidpipe to use"
            " it (a new state dir would not know its tasks, and would pay for them again)."
        )


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Apply pending migrations, each in its own transaction with its version bump."""
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Read inside the write transaction: another process may have migrated first.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version >= SCHEMA_VERSION:
                check_version(conn, path)
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
