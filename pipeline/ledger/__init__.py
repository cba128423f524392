"""The ledger: what every run sent, got and stored, in SQLite under the state dir.

store        the `Ledger` itself: opening, runs, shot writes and queries
transitions  the state machine: which call may move a shot from which state
records      the rows as read back (`ShotRecord`, `RunRecord`, `ForceRecord`, `EventRecord`)
migrations   the schema and its ordered migrations
writer       `LedgerWriter`: a run's writes off the event loop, batched, durable when awaited
"""

from __future__ import annotations

from .migrations import MIGRATIONS, SCHEMA_VERSION
from .records import EventRecord, ForceRecord, Reservation, RunRecord, ShotRecord
from .store import LEDGER_FILENAME, Ledger
from .writer import LedgerWriter

__all__ = [
    "LEDGER_FILENAME",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "EventRecord",
    "ForceRecord",
    "Ledger",
    "LedgerWriter",
    "Reservation",
    "RunRecord",
    "ShotRecord",
]
