"""How to run a storyboard: the CLI's flags as one value."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import attrs

from ..events import LimitsSink
from ..pricing import Price
from .connections import GatewayFactory, TransportFor

__all__ = ["RunOptions"]


def _path(value: str | os.PathLike[str]) -> Path:
    return Path(value)


def _optional_path(value: str | os.PathLike[str] | None) -> Path | None:
    return None if value is None else Path(value)


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen
class RunOptions:
    """How to run a storyboard. Paths may be `str` or `Path`, shot lists any iterable."""

    out_dir: Path = attrs.field(default=Path("out"), converter=_path)
    state_dir: Path | None = attrs.field(default=None, converter=_optional_path)
    concurrency: int = 4
    only: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    force: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    force_all: bool = False
    poll_deadline: float = 30 * 60.0
    #: Seconds a task may answer status words its spec does not map before its shot fails.
    status_grace: float = 5 * 60.0
    argv: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    #: The most the run may spend in USD (over the storyboard's `budget:`), or None.
    budget: float | None = None
    #: Let a budgeted run send shots whose price is not known (they count as nothing).
    allow_unpriced: bool = False
    #: Prices over every other (`--prices FILE`; see `vidpipe.cost`).
    prices: Mapping[str, Price] = attrs.field(factory=dict)
    # Where `base_url: embedded` goes; `vidpipe.run` fills in the built-in emulator.
    gateway: GatewayFactory | None = None
    # Tests route a provider to an in-process transport; None means real HTTP.
    transport_for: TransportFor | None = None
    #: Told the run's effective limits on tasks in flight when it starts (the CLI prints it).
    on_limits: LimitsSink | None = None
