"""Fault injection for the embedded emulator: which faults, how often, and when they fire.

A fault plan is written as ``kind=rate`` pairs, e.g. ``"429=0.1,500=0.05,reset=0.02"``;
kinds that repeat take a count too, ``kind=RATExCOUNT`` (``"url-403=0.5x2"``).

HTTP faults replace or disturb one answer:

- ``429``: rate limited, with ``Retry-After`` and ``retry-after-ms``
- ``500``: a JSON server error in the family's error shape
- ``502``, ``503``: an HTML error page, as a proxy in front of the gateway sends it
- ``5xx``: shorthand that spreads its rate evenly over 500, 502 and 503
- ``reset``: the connection is dropped without an answer (on a create, after the task
  exists unless `EmulatorConfig.reset_after_create` is off)
- ``truncate``: a download declares its full Content-Length, then stops early (downloads only)
- ``slow``: the answer is delayed by ``EmulatorConfig.slow_seconds``

Lost create answers, for creates and remixes only: the task is made, then the answer is

- ``created-502``, ``created-504``: a proxy's HTML error page (Bad Gateway, Gateway Time-out)
- ``created-502-json``, ``created-504-json``: a JSON error in the family's shape
- ``created-5xx``: shorthand that spreads its rate over those four

so a client that sends the create again makes a second task (the stats count creates per
request fingerprint).

Result-URL denials, decided once per task (the rate is the share of tasks they hit): the
task's result URLs, its CDN link and its content route, each answer

- ``url-403``, ``url-404``: 403 (or 404) their first COUNT requests for the finished video
  (default 1), then serve the file.

Status-read bursts, per task: a status read that is not part of a burst (nor the read right
after one) starts one with the kind's rate; the burst answers that read and the next
COUNT-1 reads of the task (default COUNT 3) with

- ``burst-429``, ``burst-500``, ``burst-502``, ``burst-503``, ``burst-504``
- ``burst-5xx``: shorthand that spreads its rate over the four 5xx kinds.

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
    "BURST_KINDS",
    "CREATED_KINDS",
    "CREATE_KINDS",
    "DOWNLOAD_KINDS",
    "HTTP_KINDS",
    "KINDS",
    "REPEATED_KINDS",
    "REQUEST_KINDS",
    "TASK_KINDS",
    "URL_KINDS",
    "DropConnection",
    "Fault",
    "FaultPlan",
    "Faults",
]

HTTP_KINDS: tuple[str, ...] = ("429", "500", "502", "503", "reset", "truncate", "slow")
CREATED_KINDS: tuple[str, ...] = (
    "created-502",
    "created-504",
    "created-502-json",
    "created-504-json",
)
URL_KINDS: tuple[str, ...] = ("url-403", "url-404")
BURST_KINDS: tuple[str, ...] = ("burst-429", "burst-500", "burst-502", "burst-503", "burst-504")
TASK_KINDS: tuple[str, ...] = ("fail", "expire")
KINDS: tuple[str, ...] = HTTP_KINDS + CREATED_KINDS + URL_KINDS + BURST_KINDS + TASK_KINDS
#: The HTTP faults an API call can meet, those a create (or remix) can, and a download.
REQUEST_KINDS: tuple[str, ...] = tuple(k for k in HTTP_KINDS if k != "truncate")
CREATE_KINDS: tuple[str, ...] = REQUEST_KINDS + CREATED_KINDS
DOWNLOAD_KINDS: tuple[str, ...] = HTTP_KINDS
#: Kinds that take a count, and the count they have when none is given.
REPEATED_KINDS: Mapping[str, int] = {
    **{kind: 1 for kind in URL_KINDS},
    **{kind: 3 for kind in BURST_KINDS},
}
_ALIASES: Mapping[str, tuple[str, ...]] = {
    "5xx": ("500", "502", "503"),
    "created-5xx": CREATED_KINDS,
    "burst-5xx": ("burst-500", "burst-502", "burst-503", "burst-504"),
}
# Rates that share one draw must add up to 1 at most.
_GROUPS: Mapping[str, tuple[str, ...]] = {
    "HTTP": HTTP_KINDS + CREATED_KINDS,
    "result URL": URL_KINDS,
    "burst": BURST_KINDS,
    "task": TASK_KINDS,
}


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
            known = ", ".join((*KINDS, *_ALIASES))
            raise ValueError(f"unknown fault kind {kind!r}; known: {known}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate for {kind} must be between 0 and 1, got {rate}")
    for group, kinds in _GROUPS.items():
        total = sum(value.get(k, 0.0) for k in kinds)
        if total > 1.0 + 1e-9:
            raise ValueError(f"{group} fault rates add up to {total:g}, more than 1")


def _check_counts(instance: Faults, attribute: attrs.Attribute[object], value: object) -> None:
    assert isinstance(value, Mapping)
    for kind, count in value.items():
        if kind not in REPEATED_KINDS:
            raise ValueError(
                f"fault {kind} takes no count; only {', '.join(REPEATED_KINDS)} repeat"
            )
        if count < 1:
            raise ValueError(f"fault count for {kind} must be at least 1, got {count}")


def _expand(kind: str) -> tuple[str, ...]:
    return _ALIASES.get(kind, (kind,))


def _to_rates(value: Mapping[str, float]) -> Mapping[str, float]:
    rates: dict[str, float] = {}
    for kind, rate in value.items():
        targets = _expand(kind)
        for target in targets:
            rates[target] = rates.get(target, 0.0) + float(rate) / len(targets)
    return {k: rates[k] for k in sorted(rates, key=_order) if rates[k] > 0.0}


def _to_counts(value: Mapping[str, int]) -> Mapping[str, int]:
    counts = {target: int(n) for kind, n in value.items() for target in _expand(kind)}
    return {k: counts[k] for k in sorted(counts, key=_order)}


def _order(kind: str) -> int:
    return KINDS.index(kind) if kind in KINDS else len(KINDS)


@attrs.frozen
class Faults:
    """How often each fault kind fires, as a probability per eligible request (per task
    for ``url-*``), and how many times the repeating kinds repeat.

    Build it from Python, ``Faults({"429": 0.1, "url-403": 1.0}, counts={"url-403": 2})``,
    or from text with `Faults.parse`. Rates of zero are dropped; unknown kinds, rates outside
    0..1 and counts on kinds that do not repeat raise ValueError.
    """

    rates: Mapping[str, float] = attrs.field(
        factory=dict, converter=_to_rates, validator=_check_rates
    )
    counts: Mapping[str, int] = attrs.field(
        factory=dict, converter=_to_counts, validator=_check_counts
    )

    @classmethod
    def parse(cls, text: str) -> Faults:
        """Parse ``"429=0.1,500=0.05,url-403=1x2"`` (blank means no faults)."""
        rates: dict[str, float] = {}
        counts: dict[str, int] = {}
        for item in text.replace(";", ",").split(","):
            item = item.strip()
            if not item:
                continue
            kind, sep, value = item.partition("=")
            kind = kind.strip().lower()
            if not sep:
                raise ValueError(f"fault {item!r} must look like kind=rate")
            rate, times, count = value.strip().lower().partition("x")
            try:
                rates[kind] = rates.get(kind, 0.0) + float(rate)
            except ValueError:
                raise ValueError(f"fault rate {rate!r} for {kind} is not a number") from None
            if times:
                if not count.isdigit():
                    raise ValueError(f"fault count {count!r} for {kind} is not a whole number")
                counts[kind] = int(count)
        return cls(rates, counts)

    def rate(self, kind: str) -> float:
        """The probability of `kind` (0 when it is not in the plan)."""
        return self.rates.get(kind, 0.0)

    def count(self, kind: str) -> int:
        """How many times a repeating kind repeats (its default when not given)."""
        return self.counts.get(kind, REPEATED_KINDS.get(kind, 1))

    def __bool__(self) -> bool:
        return bool(self.rates)

    def __str__(self) -> str:
        return ",".join(
            f"{kind}={rate:g}" + (f"x{self.counts[kind]}" if kind in self.counts else "")
            for kind, rate in self.rates.items()
        )


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
        self._denied: dict[str, int] = {}
        self._bursts: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()

    def draw(self, scope: str, kinds: Sequence[str]) -> Fault | None:
        """At most one fault of `kinds` for the next request in `scope`, or None."""
        if not any(self.faults.rate(k) for k in kinds):
            return None
        with self._lock:
            count = self._seen.get(scope, 0)
            self._seen[scope] = count + 1
        return self._pick(f"{self.seed}\x1f{scope}\x1f{count}", kinds)

    def _pick(self, stream: str, kinds: Sequence[str]) -> Fault | None:
        # A str seed is hashed with SHA-512, so the stream is the same in every process.
        rng = random.Random(stream)
        point = rng.random()
        fraction = 0.1 + 0.8 * rng.random()
        edge = 0.0
        for kind in sorted(kinds, key=_order):
            edge += self.faults.rate(kind)
            if point < edge:
                return Fault(kind, fraction)
        return None

    def denial(self, task_id: str, route: str) -> Fault | None:
        """A ``url-*`` fault for the next request of `task_id`'s finished video on `route`
        (cdn or content): whether the task is hit is decided once; each route is then
        denied its first COUNT requests."""
        if not any(self.faults.rate(k) for k in URL_KINDS):
            return None
        fault = self._pick(f"{self.seed}\x1furl\x1f{task_id}", URL_KINDS)
        if fault is None:
            return None
        key = f"{task_id}\x1f{route}"
        with self._lock:
            done = self._denied.get(key, 0)
            if done >= self.faults.count(fault.kind):
                return None
            self._denied[key] = done + 1
        return fault

    def burst(self, scope: str) -> Fault | None:
        """A ``burst-*`` fault for the next status read in `scope` (a task), or None."""
        if not any(self.faults.rate(k) for k in BURST_KINDS):
            return None
        with self._lock:
            running = self._bursts.pop(scope, None)
            if running is not None:
                kind, left = running
                if left == 0:
                    return None  # the read right after a burst never starts one
                self._bursts[scope] = (kind, left - 1)
                return Fault(kind)
        fault = self.draw(f"burst:{scope}", BURST_KINDS)
        if fault is not None:
            with self._lock:
                self._bursts[scope] = (fault.kind, self.faults.count(fault.kind) - 1)
        return fault

    def reset(self) -> None:
        """Forget every scope, so the same requests meet the same faults again."""
        with self._lock:
            self._seen.clear()
            self._denied.clear()
            self._bursts.clear()
