"""What a shot costs and what a run will: estimates from the prices in force, which shots are
free, and the quote a budget is checked against.

The prices in force for a shot, the most specific first:

    --prices FILE                   (`RunOptions.prices`, `plan(prices=...)`)
    providers.<name>.prices         the storyboard, for that provider
    prices: FILE                    the storyboard's prices file, for every provider
    x-vidpipe.prices                the spec that serves the shot's model

A shot pays for a create only when a run would send one: a cached shot, one attached to a
task that is already paid for (running, done, or whose create may have been taken) and one
whose request another shot of the run already sends are free. An estimate that is not known
is shown as unknown and kept out of the total, never counted as zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .model import Storyboard
from .pricing import Facts, Price, Quote, money, quote, request_facts
from .requests import CreateRequest

__all__ = ["RunQuote", "ShotCost", "estimate", "price_of", "request_cost_facts"]


def price_of(
    storyboard: Storyboard, req: CreateRequest, extra: Mapping[str, Price] | None = None
) -> Price | None:
    """The price in force for a shot's model (see the module docstring), or None."""
    provider = storyboard.provider_for(storyboard.shot(req.shot_id))
    for table in (extra or {}, provider.prices, storyboard.prices, req.spec.prices):
        price = table.get(req.model)
        if price is not None:
            assert isinstance(price, Price)
            return price
    return None


def request_cost_facts(req: CreateRequest) -> Facts:
    """What a price may depend on, read from a create request through its spec's fields
    (what the request leaves out, from the spec's defaults)."""
    spec = req.spec
    duration = spec.fields["duration"].field if "duration" in spec.fields else None
    sizes = tuple(spec.fields[u].field for u in ("size", "resolution") if u in spec.fields)
    defaults: dict[str, Any] = {}
    for name in (duration, *sizes):
        if name is not None:
            default = spec.field_schema(name, req.content_type).get("default")
            if default is not None:
                defaults[name] = default
    return request_facts(
        dict(req.fields), duration_field=duration, size_fields=sizes, defaults=defaults
    )


def estimate(
    storyboard: Storyboard,
    requests: Mapping[str, CreateRequest],
    shot_id: str,
    extra: Mapping[str, Price] | None = None,
) -> Quote:
    """What one create of this shot should cost. A remix that leaves its length or size out
    is made at its source's."""
    req = requests[shot_id]
    facts = request_cost_facts(req)
    source = req.remix_of
    while source is not None and (facts.seconds is None or facts.resolution is None):
        of = request_cost_facts(requests[source])
        facts = attrs.evolve(
            facts,
            seconds=facts.seconds if facts.seconds is not None else of.seconds,
            resolution=facts.resolution or of.resolution,
        )
        source = requests[source].remix_of
    return quote(price_of(storyboard, req, extra), facts, model=req.model)


@attrs.frozen
class ShotCost:
    """One shot's estimate, whether a run pays it (`free` says why not) and what its
    current generation was charged, as the gateway reported it."""

    estimate: Quote
    free: str | None = None
    spend_usd: float | None = None

    @property
    def pays(self) -> bool:
        return self.free is None

    def to_json(self) -> dict[str, Any]:
        return {
            "estimate": self.estimate.to_json(),
            "estimate_usd": self.estimate.usd,
            "pays": self.pays,
            "free": self.free,
            "due_usd": (self.estimate.usd if self.pays else 0.0),
            "spend_usd": self.spend_usd,
        }


@attrs.frozen
class RunQuote:
    """What a run would pay, shot by shot, and `held`: what earlier runs it resumes have
    reserved and not settled (their creates were sent)."""

    shots: Mapping[str, ShotCost]
    held: float = 0.0

    @property
    def total(self) -> float:
        """The known estimates of the shots that pay (unknown ones are not in it)."""
        return money(sum(c.estimate.usd or 0.0 for c in self.shots.values() if c.pays))

    @property
    def unpriced(self) -> list[str]:
        """Shots that pay but whose price is not known."""
        return [s for s, c in self.shots.items() if c.pays and not c.estimate.known]

    @property
    def free(self) -> list[str]:
        return [s for s, c in self.shots.items() if not c.pays]

    def to_json(self) -> dict[str, Any]:
        return {
            "total_usd": self.total,
            "complete": not self.unpriced,
            "unpriced": self.unpriced,
            "free": self.free,
            "held_usd": self.held,
        }

    def summary(self) -> str:
        """One line: the total, what it leaves out, what is free."""
        paying = [s for s, c in self.shots.items() if c.pays]
        text = f"${self.total:.2f} for {len(paying)} create{'s' if len(paying) != 1 else ''}"
        if self.unpriced:
            text += f" + {len(self.unpriced)} unpriced ({', '.join(self.unpriced)})"
        if self.free:
            text += f"; {len(self.free)} free"
        if self.held:
            text += f"; ${self.held:.2f} already reserved by an interrupted run"
        return text

    def lines(self) -> list[str]:
        """The quote, a line per shot."""
        width = max([4, *(len(s) for s in self.shots)])
        out = []
        for shot_id, c in self.shots.items():
            est = "unknown" if c.estimate.usd is None else f"${c.estimate.usd:.2f}"
            what = f"free ({c.free})" if c.free else c.estimate.why
            out.append(f"  {shot_id:<{width}}  {est:>9}  {what}")
        return out
