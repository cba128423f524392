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
)

SCHEMA_VERSION = len(MIGRATIONS)


def check_version(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StateError(
            f"ledger {path} has schema version {version}, but this vidpipe knows versions up"
            f" to {SCHEMA_VERSION}: it was written by a newer vidpipe. Upgrade vidpipe or"
            " use another --state dir."
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
