"""Past runs as `vidpipe history` shows them, and the summary a run records when it ends.

A run's summary (the ledger's `runs.summary`) says how it ended and how each shot did:

    {"status": "ok", "counts": {"done": 2, "cached": 1},
     "shots": [{"id": "storm", "status": "done", "fingerprint": "0c1f…"}, …]}

`shots` is a list rather than a mapping so that a shot id such as `token` never looks like
a credential to the ledger's guard. A run's status is `running`, `ok`, `failed`,
`interrupted` (Ctrl-C, or killed before it could say) or `crashed` (an unexpected error).
Runs recorded before summaries had counts show none.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .ledger import Ledger, RunRecord
from .manifest import ShotResult
from .tables import table

__all__ = ["RunView", "history_lines", "run_lines", "run_shots", "run_summary"]


def run_summary(status: str, results: Mapping[str, asyncio.Future[ShotResult]]) -> dict[str, Any]:
    """What a run records when it ends: `status`, and each shot that got a result, in run order.

    `results` are the run's per-shot futures; those without a result (the run was
    interrupted before they finished) are left out.
    """
    shots = [
        {"id": shot_id, "status": str(r.status), "fingerprint": r.fingerprint}
        for shot_id, future in results.items()
        if future.done() and not future.cancelled() and future.exception() is None
        for r in (future.result(),)
    ]
    counts: dict[str, int] = {}
    for shot in shots:
        state = str(shot["status"])
        counts[state] = counts.get(state, 0) + 1
    return {"status": status, "counts": counts, "shots": shots}


# The order counts are shown in: what was made, what was reused, then what went wrong.
_COUNT_ORDER = ("done", "cached", "failed", "unknown", "expired", "skipped", "over-budget")


def _counts_text(counts: Mapping[str, int] | None) -> str:
    if counts is None:
        return ""
    order = sorted(counts, key=lambda s: (*_COUNT_ORDER, s).index(s))
    return ", ".join(f"{counts[s]} {s}" for s in order) or "none finished"


@attrs.frozen
class RunView:
    """One recorded run, as `history` lists it and `history show` and `--json` print it."""

    record: RunRecord

    @property
    def counts(self) -> dict[str, int] | None:
        """Shots per result state (`done`, `cached`, `failed`...), or None if not recorded."""
        counts = (self.record.summary or {}).get("counts")
        return dict(counts) if isinstance(counts, dict) else None

    @property
    def shots(self) -> list[dict[str, str]]:
        """Each shot's id, result state and fingerprint, in run order (empty if not recorded)."""
        shots = (self.record.summary or {}).get("shots")
        return [dict(s) for s in shots if isinstance(s, dict)] if isinstance(shots, list) else []

    @property
    def seconds(self) -> float | None:
        r = self.record
        return None if r.finished_at is None else (r.finished_at - r.started_at).total_seconds()

    @property
    def command(self) -> str:
        """The command line as typed (credentials were redacted before it was stored); empty
        for a run started from Python, which has none."""
        argv = self.record.argv
        return shlex.join(["vidpipe", *argv[1:]]) if argv else ""

    def to_json(self) -> dict[str, Any]:
        r = self.record
        return {
            "id": r.id,
            "name": r.name,
            "storyboard": r.storyboard,
            "status": r.status,
            "argv": list(r.argv),
            "started_at": r.started_at.isoformat(),
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "seconds": None if self.seconds is None else round(self.seconds, 3),
            "counts": self.counts,
            # Spend per run joins here once the ledger records what each shot cost.
        }

    def row(self) -> tuple[str, ...]:
        """This run's cells under `HEADER`."""
        r = self.record
        return (
            f"#{r.id}",
            f"{r.started_at.astimezone():%Y-%m-%d %H:%M:%S}",
            r.status,
            "" if self.seconds is None else f"{self.seconds:.1f} s",
            _counts_text(self.counts),
            r.name,
            self.command,
        )


HEADER = ("RUN", "STARTED", "STATUS", "TOOK", "SHOTS", "NAME", "COMMAND")


def history_lines(runs: Iterable[RunView]) -> list[str]:
    """The `vidpipe history` table, newest run first as given."""
    return table(HEADER, [run.row() for run in runs])


def run_shots(run: RunView, ledger: Ledger) -> list[dict[str, str | None]]:
    """A run's shots in run order, each with the task and error the ledger now holds for it."""
    shots: list[dict[str, str | None]] = []
    for shot in run.shots:
        fingerprint = shot.get("fingerprint", "")
        record = ledger.lookup(fingerprint) if fingerprint else None
        shots.append(
            {
                "id": shot.get("id"),
                "status": shot.get("status"),
                "fingerprint": fingerprint or None,
                "task_id": record.task_id if record else None,
                "error": record.error if record else None,
            }
        )
    return shots


def run_lines(run: RunView, shots: Iterable[Mapping[str, str | None]]) -> list[str]:
    """`vidpipe history show RUN`: the run, then a table of its shots (from `run_shots`)."""
    r = run.record
    took = "" if run.seconds is None else f", took {run.seconds:.1f} s"
    lines = [
        f"run #{r.id}: {r.status}",
        f"storyboard: {r.storyboard} ({r.name})",
        f"command:    {run.command or '- (run from Python)'}",
        f"started:    {r.started_at.astimezone():%Y-%m-%d %H:%M:%S %Z}{took}",
        f"shots:      {_counts_text(run.counts) or 'not recorded'}",
    ]
    rows = [
        (
            s["id"] or "",
            s["status"] or "",
            (s["fingerprint"] or "")[:12],
            s["task_id"] or "",
            s["error"] or "",
        )
        for s in shots
    ]
    if rows:
        lines += ["", *table(("SHOT", "RESULT", "FINGERPRINT", "TASK", "ERROR"), rows)]
    return lines
