"""A budgeted run's check before anything is sent: its quote, with what interrupted runs it
resumes still hold, must fit the budget, and every shot it pays for must have a price.

During the run each create's estimate is reserved in the ledger with its intent
(`Ledger.record_intent`); a create whose reservation would pass the budget is not sent.
"""

from __future__ import annotations

from collections.abc import Collection

from ..cost import RunQuote
from ..errors import OverBudget, Problem
from ..ledger import Ledger
from ..model import Storyboard
from .planned import PlannedShot, run_quote

__all__ = ["budget_quote", "check_budget"]


def budget_quote(
    storyboard: Storyboard, planned: list[PlannedShot], order: Collection[str], ledger: Ledger
) -> RunQuote:
    """The quote of the shots a run runs, with what earlier runs of the storyboard reserved
    and no run has settled (a killed run's creates), except for shots this run sends."""
    paying = {p.fingerprint for p in planned if p.cost is not None and p.cost.pays}
    held = sum(
        r.usd for r in ledger.open_reservations(storyboard.name) if r.fingerprint not in paying
    )
    return run_quote(planned, order, round(held, 6))


def check_budget(
    storyboard: Storyboard, quote: RunQuote, budget: float, *, allow_unpriced: bool
) -> None:
    """OverBudget (nothing is sent) when the quote passes the budget, or when shots the run
    pays for have no known price and `allow_unpriced` is not given."""
    problems = []
    detail = "\n".join(quote.lines())
    if quote.total + quote.held > budget + 1e-9:
        problems.append(
            Problem(
                f"the run's quote, {quote.summary()}, is over the budget of ${budget:.2f};"
                f" nothing was sent:\n{detail}",
                storyboard.source,
            )
        )
    if quote.unpriced and not allow_unpriced:
        problems.append(
            Problem(
                f"a budgeted run needs every price, and {', '.join(quote.unpriced)} have none"
                " known: give them under providers.<name>.prices or in a prices file"
                " (--prices), or pass --allow-unpriced to send them uncounted; nothing was"
                " sent",
                storyboard.source,
            )
        )
    if problems:
        raise OverBudget(problems, quote=quote, budget=budget)
