"""Past runs as `vidpipe history` shows them, and the summary a run records when it ends.

A run's summary (the ledger's `runs.summary`) says how it ended and how each shot did:

    {"status": "ok", "counts": {"done": 2, "cached": 1},
     "shots": [{"id": "storm", "status": "done", "fingerprint": "0c1f…"}, …]}

`shots` is a list rather than a mapping so that a shot id such as `token` never looks like
a credential to the ledger's guard. A run's status is `running`, `ok`, `failed`,
`interrupted` (Ctrl-C, or killed before it could say), `crashed` (an unexpected error) or
`refused` (its quote passed its budget: nothing was sent; `quote` holds the quote and the
budget). `cost` holds what the run's creates were estimated to cost and what the gateway
says they were charged, in total and per shot (`estimate_usd`, `spend_usd`). A create is
counted in the run that sent it, never again in the run that resumed its task. A run killed
before it could record how it ended gets its summary from the ledger at the start of the
next run: the creates it sent, each shot in the state it was left in.
Runs recorded before summaries had counts show none.
"""

from __future__ import annotations

import asyncio
import collections
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .ledger import Ledger, RunRecord, ShotRecord
from .manifest import ShotResult, cost_totals, sum_costs
from .tables import table

__all__ = [
    "RunView",
    "history_lines",
    "killed_run_summary",
    "run_lines",
    "run_shots",
    "run_summary",
]


def run_summary(status: str, results: Mapping[str, asyncio.Future[ShotResult]]) -> dict[str, Any]:
    """What a run records when it ends: `status`, and each shot that got a result, in run order.

    `results` are the run's per-shot futures; those without a result (the run was
    interrupted before they finished) are left out.
    """
    finished = [
        future.result()
        for future in results.values()
        if future.done() and not future.cancelled() and future.exception() is None
    ]
    shots = [
        {"id": r.shot_id, "status": str(r.status), "fingerprint": r.fingerprint, **r.cost_json()}
        for r in finished
    ]
    return {
        "status": status,
        "counts": _count(shots),
        "cost": cost_totals(finished),
        "shots": shots,
    }


def killed_run_summary(records: Iterable[ShotRecord]) -> dict[str, Any]:
    """The summary of a run killed before it could record one, from the ledger's rows of
    the shots whose creates it sent (`Ledger.shots_for_run`)."""
    sent = [r for r in records if r.sent]
    shots = [
        {
            "id": r.shot_id,
            "status": str(r.state),
            "fingerprint": r.fingerprint,
            "estimate_usd": r.estimate_usd,
            "spend_usd": r.spend_usd,
        }
        for r in sent
    ]
    cost = sum_costs((r.estimate_usd, r.spend_usd) for r in sent)
    return {"status": "interrupted", "counts": _count(shots), "cost": cost, "shots": shots}


def _count(shots: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    return dict(collections.Counter(str(shot["status"]) for shot in shots))


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
    def shots(self) -> list[dict[str, Any]]:
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
            "cost": self.cost,
            "quote": self.quote,
        }

    @property
    def cost(self) -> dict[str, Any] | None:
        """The run's estimate and reported spend (`manifest.cost_totals`), or None for a run
        recorded before they were."""
        cost = (self.record.summary or {}).get("cost")
        return dict(cost) if isinstance(cost, dict) else None

    @property
    def quote(self) -> dict[str, Any] | None:
        """A refused run's quote (`total_usd`, `unpriced`...) and `budget_usd`, else None."""
        quote = (self.record.summary or {}).get("quote")
        return dict(quote) if isinstance(quote, dict) else None

    def row(self) -> tuple[str, ...]:
        """This run's cells under `HEADER`."""
        r = self.record
        return (
            f"#{r.id}",
            f"{r.started_at.astimezone():%Y-%m-%d %H:%M:%S}",
            r.status,
            "" if self.seconds is None else f"{self.seconds:.1f} s",
            _counts_text(self.counts),
            *_cost_text(self.cost, self.quote),
            r.name,
            self.command,
        )


HEADER = ("RUN", "STARTED", "STATUS", "TOOK", "SHOTS", "ESTIMATE", "SPEND", "NAME", "COMMAND")


def _usd(amount: object, missing: object = 0) -> str:
    if not isinstance(amount, int | float):
        return ""
    more = f" +{missing} unknown" if isinstance(missing, int) and missing else ""
    return f"${amount:.2f}{more}"


def _cost_text(
    cost: Mapping[str, Any] | None, quote: Mapping[str, Any] | None = None
) -> tuple[str, str]:
    """The ESTIMATE and SPEND cells of a run; a refused run's estimate is its quote."""
    if quote is not None:
        unpriced = quote.get("unpriced")
        quoted = _usd(quote.get("total_usd"), len(unpriced) if isinstance(unpriced, list) else 0)
        return f"{quoted} quoted", _usd(0)
    if cost is None:
        return "", ""
    return (
        _usd(cost.get("estimate_usd"), cost.get("unpriced")),
        _usd(cost.get("spend_usd"), cost.get("spend_unreported")),
    )


def history_lines(runs: Iterable[RunView]) -> list[str]:
    """The `vidpipe history` table, newest run first as given."""
    return table(HEADER, [run.row() for run in runs])


def run_shots(run: RunView, ledger: Ledger) -> list[dict[str, Any]]:
    """A run's shots in run order, each with the task and error the ledger now holds for it,
    and its estimate and spend as the run recorded them."""
    shots: list[dict[str, Any]] = []
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
                "estimate_usd": shot.get("estimate_usd"),
                "spend_usd": shot.get("spend_usd"),
            }
        )
    return shots


def run_lines(run: RunView, shots: Iterable[Mapping[str, Any]]) -> list[str]:
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
    quote = run.quote
    if quote is not None:
        estimate, _ = _cost_text(run.cost, quote)
        budget = _usd(quote.get("budget_usd")) or "unknown"
        lines.append(f"cost:       {estimate} against a budget of {budget}; nothing was sent")
    elif run.cost is not None:
        estimate, spend = _cost_text(run.cost)
        lines.append(f"cost:       estimate {estimate}, spend reported {spend}")
    rows = [
        (
            s["id"] or "",
            s["status"] or "",
            (s["fingerprint"] or "")[:12],
            s["task_id"] or "",
            _usd(s.get("estimate_usd")) or "unknown",
            _usd(s.get("spend_usd")) or "unknown",
            s["error"] or "",
        )
        for s in shots
    ]
    if rows:
        header = ("SHOT", "RESULT", "FINGERPRINT", "TASK", "ESTIMATE", "SPEND", "ERROR")
        lines += ["", *table(header, rows)]
    return lines
