"""Fault injection for the embedded emulator: which faults, how often, and when they fire.

A fault plan is written as ``kind=rate`` pairs, e.g. ``"429=0.1,500=0.05,reset=0.02"``.

HTTP faults replace or disturb one answer:

- ``429``: rate limited, with ``Retry-After`` and ``retry-after-ms``
- ``500``: a JSON server error in the family's error shape
- ``502``, ``503``: an HTML error page, as a proxy in front of the gateway sends it
- ``5xx``: shorthand that spreads its rate evenly over 500, 502 and 503
- ``reset``: the connection is dropped without an answer
- ``truncate``: a download declares its full Content-Length, then stops early (downloads only)
- ``slow``: the answer is delayed by ``EmulatorConfig.slow_seconds``

Task faults are decided once, when a task is created:

- ``fail``: the task ends as failed
- ``expire``: the task completes, but its content has already expired

Each decision draws from its own ``random.Random``, seeded with the emulator's seed, the
scope of the request (for example the task it polls) and how many times that scope was seen
before. The faults a client meets therefore depend only on the seed and on what it asks,
not on how its requests interleave with other clients'.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping, Sequence

import attrs

__all__ = [
    "DOWNLOAD_KINDS",
    "HTTP_KINDS",
    "KINDS",
    "REQUEST_KINDS",
    "TASK_KINDS",
    "DropConnection",
    "Fault",
    "FaultPlan",
    "Faults",
]

HTTP_KINDS: tuple[str, ...] = ("429", "500", "502", "503", "reset", "truncate", "slow")
TASK_KINDS: tuple[str, ...] = ("fail", "expire")
KINDS: tuple[str, ...] = HTTP_KINDS + TASK_KINDS
#: The HTTP faults an API call can meet, and those a download can meet.
REQUEST_KINDS: tuple[str, ...] = tuple(k for k in HTTP_KINDS if k != "truncate")
DOWNLOAD_KINDS: tuple[str, ...] = HTTP_KINDS
_ALIASES: Mapping[str, tuple[str, ...]] = {"5xx": ("500", "502", "503")}


class DropConnection(Exception):
    """Raised by the app to make the server drop the connection.

    If no response was started the client sees a connection closed without an answer;
    otherwise it sees a body cut short. `emulator.server` turns it into exactly that, both
    in-process and on uvicorn.
    """


def _check_rates(instance: Faults, attribute: attrs.Attribute[object], value: object) -> None:
    assert isinstance(value, Mapping)
    for kind, rate in value.items():
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(KINDS)}, 5xx")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate for {kind} must be between 0 and 1, got {rate}")
    for group, kinds in (("HTTP", HTTP_KINDS), ("task", TASK_KINDS)):
        total = sum(value.get(k, 0.0) for k in kinds)
        if total > 1.0 + 1e-9:
            raise ValueError(f"{group} fault rates add up to {total:g}, more than 1")


def _to_rates(value: Mapping[str, float]) -> Mapping[str, float]:
    rates: dict[str, float] = {}
    for kind, rate in value.items():
        rate = float(rate)
        for target in _ALIASES.get(kind, (kind,)):
            share = rate / len(_ALIASES[kind]) if kind in _ALIASES else rate
            rates[target] = rates.get(target, 0.0) + share
    return {k: rates[k] for k in sorted(rates, key=_order) if rates[k] > 0.0}


def _order(kind: str) -> int:
    return KINDS.index(kind) if kind in KINDS else len(KINDS)


@attrs.frozen
class Faults:
    """How often each fault kind fires, as a probability per eligible request.

    Build it from Python, ``Faults({"429": 0.1, "reset": 0.02})``, or from text with
    `Faults.parse`. Rates of zero are dropped; unknown kinds and rates outside 0..1 raise
    ValueError.
    """

    rates: Mapping[str, float] = attrs.field(
        factory=dict, converter=_to_rates, validator=_check_rates
    )

    @classmethod
    def parse(cls, text: str) -> Faults:
        """Parse ``"429=0.1,500=0.05,reset=0.02"`` (blank means no faults)."""
        rates: dict[str, float] = {}
        for item in text.replace(";", ",").split(","):
            item = item.strip()
            if not item:
                continue
            kind, sep, rate = item.partition("=")
            if not sep:
                raise ValueError(f"fault {item!r} must look like kind=rate")
            try:
                value = float(rate)
            except ValueError:
                raise ValueError(
                    f"fault rate {rate!r} for {kind.strip()} is not a number"
                ) from None
            kind = kind.strip().lower()
            rates[kind] = rates.get(kind, 0.0) + value
        return cls(rates)

    def rate(self, kind: str) -> float:
        """The probability of `kind` (0 when it is not in the plan)."""
        return self.rates.get(kind, 0.0)

    def __bool__(self) -> bool:
        return bool(self.rates)

    def __str__(self) -> str:
        return ",".join(f"{kind}={rate:g}" for kind, rate in self.rates.items())


@attrs.frozen
class Fault:
    """One fault that fired: its kind and, for truncation, how much of the body to keep."""

    kind: str
    fraction: float = 1.0


class FaultPlan:
    """Draws faults from `Faults` with per-scope seeded random streams (thread-safe)."""

    def __init__(self, faults: Faults, seed: int) -> None:
        self.faults = faults
        self.seed = seed
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def draw(self, scope: str, kinds: Sequence[str]) -> Fault | None:
        """At most one fault of `kinds` for the next request in `scope`, or None."""
        if not any(self.faults.rate(k) for k in kinds):
            return None
        with self._lock:
            count = self._seen.get(scope, 0)
            self._seen[scope] = count + 1
        # A str seed is hashed with SHA-512, so the stream is the same in every process.
        rng = random.Random(f"{self.seed}\x1f{scope}\x1f{count}")
        point = rng.random()
        fraction = 0.1 + 0.8 * rng.random()
        edge = 0.0
        for kind in sorted(kinds, key=_order):
            edge += self.faults.rate(kind)
            if point < edge:
                return Fault(kind, fraction)
        return None

    def reset(self) -> None:
        """Forget every scope, so the same requests meet the same faults again."""
        with self._lock:
            self._seen.clear()
