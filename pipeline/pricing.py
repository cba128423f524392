"""Prices: what a provider charges for a create, and how a gateway reports what it charged.

A price table maps model ids to a `Price`: the unit it bills (`second` of video or one
`video`), its amount in USD, tiers that change the amount (by `resolution`, or by any request
field such as an audio switch or a quality), and where the number comes from (source, date).
A spec declares its table in `x-vidpipe.prices`; a storyboard or a prices file may override
it (`vidpipe.cost`). Both the runner (its estimate) and the emulator (its bill) quote from
the same table with `quote`.

An unknown price is `None`, never 0: a model with no entry, a tier that matches nothing and
has no base amount, a per-second price for a request whose length is not known.

    prices:
      happyhorse-1.0-i2v:
        per: second
        tiers:
          - {when: {resolution: 720p}, usd: 0.16}
          - {when: {resolution: 1080p}, usd: 0.29}
        source: a reseller's list
        date: "2026-12-02"

new-api gateways report a task's charge as `quota`, `QUOTA_PER_USD` units per US dollar; a
spec says where its answers carry a charge in `x-vidpipe.spend` (`{at: data.quota, per-usd:
500000}`).
"""

from __future__ import annotations

import datetime
import functools
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import attrs

__all__ = [
    "PER_UNITS",
    "QUOTA_PER_USD",
    "Facts",
    "Price",
    "PriceProblem",
    "Quote",
    "SpendRule",
    "Tier",
    "dollars",
    "money",
    "parse_spend",
    "parse_table",
    "problems",
    "quote",
    "request_facts",
    "short_side",
]

Per = Literal["second", "video"]
PER_UNITS: tuple[Per, ...] = ("second", "video")
#: new-api's quota units per US dollar.
QUOTA_PER_USD = 500_000
_PRICE_KEYS = frozenset({"per", "usd", "tiers", "source", "date"})
_TIER_KEYS = frozenset({"when", "usd"})


class PriceProblem(ValueError):
    """A price table entry that cannot be used; `path` is where in the table it is."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(message)


@attrs.frozen
class Tier:
    """An amount that applies when every `when` value matches the request."""

    when: Mapping[str, Any]
    usd: float

    def matches(self, facts: Facts) -> bool:
        return all(_same(facts.get(key), want) for key, want in self.when.items())


@attrs.frozen
class Price:
    """What one model costs, per unit, and where that number comes from."""

    model: str
    per: Per
    usd: float | None
    tiers: tuple[Tier, ...] = ()
    source: str = ""
    date: str | None = None
    #: Where this entry was read ("spec newapi", "providers.gw.prices", a prices file).
    origin: str = ""

    def rate(self, facts: Facts) -> tuple[float | None, Tier | None]:
        """The amount per unit for a request: the first matching tier, else the base."""
        for tier in self.tiers:
            if tier.matches(facts):
                return tier.usd, tier
        return self.usd, None

    def to_json(self) -> dict[str, Any]:
        return {
            "per": self.per,
            "usd": self.usd,
            "tiers": [{"when": dict(t.when), "usd": t.usd} for t in self.tiers],
            "source": self.source,
            "date": self.date,
            "origin": self.origin,
        }


@attrs.frozen
class Facts:
    """What a price may depend on: the video's length and resolution (its short side, as
    `720p`) and the request's own fields."""

    seconds: float | None
    resolution: str | None
    fields: Mapping[str, Any] = attrs.field(factory=dict)

    def get(self, key: str) -> Any:
        if key == "seconds":
            return self.seconds
        if key == "resolution":
            return self.resolution
        for where in (self.fields, self.fields.get("metadata"), self.fields.get("parameters")):
            if isinstance(where, Mapping) and key in where:
                return where[key]
        return None


@attrs.frozen
class Quote:
    """A price applied to one request: `usd` is None when it is not known (`why` says)."""

    usd: float | None
    price: Price | None = None
    units: float | None = None
    why: str = ""

    @property
    def known(self) -> bool:
        return self.usd is not None

    @property
    def quota(self) -> int | None:
        """The amount in new-api quota units."""
        return None if self.usd is None else round(self.usd * QUOTA_PER_USD)

    def to_json(self) -> dict[str, Any]:
        price = self.price
        return {
            "usd": self.usd,
            "per": price.per if price else None,
            "units": self.units,
            "why": self.why,
            "source": price.source if price else None,
            "date": price.date if price else None,
            "origin": price.origin if price else None,
        }


def dollars(usd: float | None) -> str:
    """An amount as shown: "$0.48", or "unknown" (never "$0.00" for what is not known)."""
    return "unknown" if usd is None else f"${usd:.2f}"


def money(usd: float) -> float:
    """An amount rounded to a millionth of a dollar (sums of float prices stay exact)."""
    return round(usd, 6)


@functools.lru_cache(maxsize=1024)
def _unpriced(model: str) -> Quote:
    # One per model: a run of thousands of unpriced shots holds one, not one per shot.
    return Quote(None, why=f"no price known for {model or 'this model'}")


def quote(price: Price | None, facts: Facts, *, model: str = "") -> Quote:
    """What `price` charges for a request with these facts."""
    if price is None:
        return _unpriced(model)
    rate, tier = price.rate(facts)
    if rate is None:
        tiers = ", ".join(_describe(t.when) for t in price.tiers)
        return Quote(
            None, price, why=f"no tier of {price.model} matches this request (tiers: {tiers})"
        )
    tiered = f" ({_describe(tier.when)})" if tier else ""
    if price.per == "video":
        return Quote(money(rate), price, 1, f"${rate:g} per video{tiered}")
    if facts.seconds is None:
        return Quote(None, price, why=f"${rate:g}/s, but the request's length is not known")
    return Quote(
        money(rate * facts.seconds),
        price,
        facts.seconds,
        f"{facts.seconds:g} s x ${rate:g}/s{tiered}",
    )


def _describe(when: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_text(v)}" for k, v in when.items())


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _same(have: Any, want: Any) -> bool:
    if have is None:
        return False
    if isinstance(want, bool) or isinstance(have, bool):
        return _truth(have) == want if isinstance(want, bool) else _truth(want) == have
    if isinstance(want, int | float) and isinstance(have, int | float):
        return float(have) == float(want)
    return _text(have).strip().lower() == _text(want).strip().lower()


def _truth(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


_SIZE = re.compile(r"^\s*(\d+)\s*[xX*\u00d7]\s*(\d+)\s*$")
_RES = re.compile(r"^\s*(\d+)\s*[pP]\s*$")
_NAMED = {"2k": 1440, "4k": 2160, "8k": 4320}


def short_side(text: str) -> int | None:
    """The short side of a size (`1280x720`) or resolution (`720p`, `4k`), or None."""
    named = _NAMED.get(text.strip().lower())
    if named:
        return named
    size = _SIZE.match(text)
    if size:
        return min(int(size.group(1)), int(size.group(2)))
    res = _RES.match(text)
    return int(res.group(1)) if res else None


def request_facts(
    fields: Mapping[str, Any],
    *,
    duration_field: str | None,
    size_fields: tuple[str, ...],
    defaults: Mapping[str, Any] | None = None,
) -> Facts:
    """The facts of a create request's fields: its length from `duration_field` (or
    `seconds`/`duration`), its resolution from the first of `size_fields` (or `size`,
    `resolution`, `width`/`height`) it has; `defaults` fill in what it leaves out."""
    merged = {**(defaults or {}), **fields}
    seconds = None
    for name in dict.fromkeys(n for n in (duration_field, "seconds", "duration") if n):
        value = merged.get(name)
        if isinstance(value, bool) or value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number) and number > 0:
            seconds = number
            break
    side = None
    width, height = merged.get("width"), merged.get("height")
    if isinstance(width, int) and isinstance(height, int) and not isinstance(width, bool):
        side = min(width, height)
    for name in (*size_fields, "size", "resolution"):
        if side is not None:
            break
        value = merged.get(name)
        if isinstance(value, str):
            side = short_side(value)
    return Facts(seconds, None if side is None else f"{side}p", dict(fields))


# -- reading tables --------------------------------------------------------------------


def parse_table(raw: Any, origin: str) -> dict[str, Price]:
    """A price table (model -> entry) as read from YAML; PriceProblem names the first
    entry that cannot be used (`problems` lists them all)."""
    for problem in problems(raw):
        raise problem
    return {str(model): _price(str(model), entry, origin) for model, entry in (raw or {}).items()}


def problems(raw: Any) -> Iterator[PriceProblem]:
    """Every problem of a price table, each with where it is in the table."""
    if raw is None:
        return
    if not isinstance(raw, Mapping):
        yield PriceProblem((), "prices must map model ids to prices")
        return
    for model, entry in raw.items():
        yield from _entry_problems((str(model),), entry)


def _entry_problems(path: tuple[str | int, ...], entry: Any) -> Iterator[PriceProblem]:
    if not isinstance(entry, Mapping):
        yield PriceProblem(path, "a price is a mapping: {per: second|video, usd: N, source, date}")
        return
    for key in entry:
        if key not in _PRICE_KEYS:
            yield PriceProblem(
                (*path, str(key)),
                f"unknown key {key!r} in a price (keys: {', '.join(sorted(_PRICE_KEYS))})",
            )
    if entry.get("per") not in PER_UNITS:
        yield PriceProblem((*path, "per"), "per must be one of: second, video")
    if "usd" in entry and not _amount(entry["usd"]):
        yield PriceProblem((*path, "usd"), "usd must be a number of dollars, 0 or more")
    tiers = entry.get("tiers")
    if "usd" not in entry and not tiers:
        yield PriceProblem(path, "a price needs usd, or tiers")
    if tiers is not None:
        yield from _tier_problems((*path, "tiers"), tiers)
    if not isinstance(entry.get("source"), str) or not entry["source"].strip():
        yield PriceProblem((*path, "source"), "a price needs a source (where the number is from)")
    date = entry.get("date")
    if date is not None and not (isinstance(date, datetime.date) or _is_date(date)):
        yield PriceProblem((*path, "date"), "date must be written YYYY-MM-DD")


def _tier_problems(path: tuple[str | int, ...], tiers: Any) -> Iterator[PriceProblem]:
    if not isinstance(tiers, list):
        yield PriceProblem(path, "tiers must be a list of {when: {...}, usd: N}")
        return
    for i, tier in enumerate(tiers):
        where = (*path, i)
        if not isinstance(tier, Mapping) or set(tier) - _TIER_KEYS:
            yield PriceProblem(where, "a tier is {when: {field: value, ...}, usd: N}")
            continue
        when = tier.get("when")
        if not isinstance(when, Mapping) or not when:
            yield PriceProblem((*where, "when"), "when must map request fields to values")
        elif any(isinstance(v, Mapping | list) for v in when.values()):
            yield PriceProblem((*where, "when"), "when compares plain values only")
        if not _amount(tier.get("usd")):
            yield PriceProblem((*where, "usd"), "usd must be a number of dollars, 0 or more")


def _amount(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _is_date(value: Any) -> bool:
    try:
        datetime.date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def _price(model: str, entry: Mapping[str, Any], origin: str) -> Price:
    date = entry.get("date")
    return Price(
        model=model,
        per=entry["per"],
        usd=None if entry.get("usd") is None else float(entry["usd"]),
        tiers=tuple(Tier(dict(t["when"]), float(t["usd"])) for t in entry.get("tiers") or ()),
        source=str(entry["source"]).strip(),
        date=None if date is None else str(date),
        origin=origin,
    )


# -- what gateways report -------------------------------------------------------------


@attrs.frozen
class SpendRule:
    """Where a spec's task answers carry what the task cost: a dotted path into the
    answer's JSON (`at`) or an answer header (`header`), and how many of its units make a
    dollar."""

    at: str | None = None
    header: str | None = None
    per_usd: float = 1.0

    def read(self, answer: Any, headers: Mapping[str, str] | None = None) -> float | None:
        """The charge in USD an answer (its decoded JSON, or its headers) reports, or None
        when it reports none."""
        if self.header is not None:
            return self.usd((headers or {}).get(self.header))
        node = answer
        for part in self.path:
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return self.usd(node)

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.at.split(".")) if self.at else ()

    def usd(self, node: Any) -> float | None:
        """The charge in USD of the value found at `at` (None unless a count of units)."""
        if isinstance(node, bool) or not isinstance(node, int | float | str):
            return None
        try:
            units = float(node)
        except ValueError:
            return None
        if not math.isfinite(units) or units < 0:
            return None
        return money(units / self.per_usd)


def parse_spend(raw: Any) -> SpendRule | None:
    """`x-vidpipe.spend` as a SpendRule (None when absent); ValueError when unusable."""
    if raw is None:
        return None
    where = [k for k in ("at", "header") if isinstance(raw, Mapping) and raw.get(k)]
    if len(where) != 1 or set(raw) - {"at", "header", "per-usd"}:
        raise ValueError(
            "x-vidpipe.spend must be {at: dotted.path, per-usd: N} or {header: name, per-usd: N}"
        )
    if not all(isinstance(raw[k], str) for k in where):
        raise ValueError(f"x-vidpipe.spend.{where[0]} must be text")
    per = raw.get("per-usd", 1)
    if not _amount(per) or per == 0:
        raise ValueError("x-vidpipe.spend.per-usd must be a number above 0")
    return SpendRule(raw.get("at"), raw.get("header"), float(per))
