"""vidpipe's two state vocabularies, each defined once.

`TaskState` is a provider task's state in vidpipe's words: every spec maps its own status
words onto these four (`x-vidpipe-status`), the adapters report them, polling acts on them
and the emulator moves its tasks through them.

`ShotState` is where a shot stands. Each stage uses a subset of it:

    stage                 subset            members
    ledger rows           LEDGER_STATES     submitting running unknown failed done expired
    plan / status         PLANNED_STATES    new cached download running unknown failed expired
    events (live display) EVENT_STATES      pending cached submitting queued running
                                            downloading done failed unknown skipped
                                            over-budget
    results, manifest     RESULT_STATES     done cached failed unknown skipped expired
                                            over-budget

`ShotState` is a `StrEnum`: a member compares equal to its word and prints and serialises
(JSON, SQLite) as that word, so the words on disk and in `--json` are these values.
"""

from __future__ import annotations

import enum
from typing import Literal

__all__ = [
    "EVENT_STATES",
    "FINAL_EVENT_STATES",
    "IN_FLIGHT",
    "LEDGER_STATES",
    "OK_STATES",
    "PLANNED_STATES",
    "RESULT_STATES",
    "TASK_STATES",
    "ShotState",
    "TaskState",
]

TaskState = Literal["queued", "running", "succeeded", "failed"]
TASK_STATES: tuple[TaskState, ...] = ("queued", "running", "succeeded", "failed")


class ShotState(enum.StrEnum):
    """Where a shot stands; see the module docstring for which stage uses which members."""

    NEW = "new"  # no ledger row: a run would create it
    PENDING = "pending"  # waiting for a remix source or a free slot
    CACHED = "cached"  # a verified file from an earlier run is reused
    DOWNLOAD = "download"  # done, but its file is gone: a run downloads it again
    SUBMITTING = "submitting"  # the intent is recorded, the create is being sent
    QUEUED = "queued"
    RUNNING = "running"  # the provider has the task
    DOWNLOADING = "downloading"
    DONE = "done"
    FAILED = "failed"
    UNKNOWN = "unknown"  # a create was sent but its answer was lost
    EXPIRED = "expired"  # the provider no longer serves the video
    SKIPPED = "skipped"  # not run because a shot it depends on did not finish
    OVER_BUDGET = "over-budget"  # not sent: its create would have passed the budget


_S = ShotState
LEDGER_STATES = frozenset({_S.SUBMITTING, _S.RUNNING, _S.UNKNOWN, _S.FAILED, _S.DONE, _S.EXPIRED})
PLANNED_STATES = frozenset(
    {_S.NEW, _S.CACHED, _S.DOWNLOAD, _S.RUNNING, _S.UNKNOWN, _S.FAILED, _S.EXPIRED}
)
EVENT_STATES = frozenset(
    {
        _S.PENDING,
        _S.CACHED,
        _S.SUBMITTING,
        _S.QUEUED,
        _S.RUNNING,
        _S.DOWNLOADING,
        _S.DONE,
        _S.FAILED,
        _S.UNKNOWN,
        _S.SKIPPED,
        _S.OVER_BUDGET,
    }
)
#: Events after which a shot's line no longer changes in this run.
FINAL_EVENT_STATES = frozenset(
    {_S.CACHED, _S.DONE, _S.FAILED, _S.UNKNOWN, _S.SKIPPED, _S.OVER_BUDGET}
)
RESULT_STATES = frozenset(
    {_S.DONE, _S.CACHED, _S.FAILED, _S.UNKNOWN, _S.SKIPPED, _S.EXPIRED, _S.OVER_BUDGET}
)
#: Results that count as having the shot's video.
OK_STATES = frozenset({_S.DONE, _S.CACHED})
#: Ledger states a resume must look at first: a create may be out there.
IN_FLIGHT = frozenset({_S.SUBMITTING, _S.RUNNING, _S.UNKNOWN})
