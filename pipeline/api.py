"""The public Python API: plan and run a storyboard given as a path or as a loaded board.

This is where the built-in emulator is wired in for `base_url: embedded` (the runner itself
never imports it), beside the CLI. Paths may be `str` or `Path`. `run` works whether or not
an event loop is already running in the calling thread: in a notebook or an async app it
runs the storyboard on a worker thread with a loop of its own and waits for it there
(`await run_async(...)` is the way that does not block the caller's loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from .events import EventSink, ignore
from .loading import load
from .manifest import RunResult
from .model import Storyboard
from .pricing import Price
from .runner import Checked, EmbeddedGateway, GatewayFactory, PlannedShot, RunOptions
from .runner import plan as plan_storyboard
from .runner import run_async as run_storyboard
from .specs import SpecRegistry, default_registry

if TYPE_CHECKING:
    from .emulator import EmulatorConfig

__all__ = ["EMBEDDED_JOB_SECONDS", "embedded_emulator", "plan", "run", "run_async"]

#: How long a task takes on the embedded emulator unless told otherwise.
EMBEDDED_JOB_SECONDS = 2.0

StoryboardLike = Storyboard | str | os.PathLike[str]


def embedded_emulator(
    config: EmulatorConfig | None = None,
    *,
    job_seconds: float | None = None,
    specs: SpecRegistry | None = None,
) -> GatewayFactory:
    """The built-in emulator as a run's embedded gateway; its tasks live in the state dir,
    so a rerun finds them. `job_seconds` is how long each task takes; `specs` are the specs
    it serves (default: the shipped ones)."""

    @contextlib.asynccontextmanager
    async def open_gateway(state_dir: Path) -> AsyncIterator[EmbeddedGateway]:
        from .emulator import EmbeddedEmulator, EmulatorConfig

        seconds = EMBEDDED_JOB_SECONDS if job_seconds is None else job_seconds
        emulator_config = config or EmulatorConfig(job_seconds=seconds, specs=specs)
        if emulator_config.store_dir is None:
            emulator_config = attrs.evolve(emulator_config, store_dir=state_dir / "emulator")
        yield EmbeddedEmulator(emulator_config)

    return open_gateway


def _board(storyboard: StoryboardLike, registry: SpecRegistry | None = None) -> Storyboard:
    if isinstance(storyboard, Storyboard):
        return storyboard
    return load(Path(storyboard), registry=registry)


def _with_gateway(options: RunOptions | None, specs: SpecRegistry) -> RunOptions:
    options = options or RunOptions()
    if options.gateway is None:
        options = attrs.evolve(options, gateway=embedded_emulator(specs=specs))
    return options


def plan(
    storyboard: StoryboardLike,
    *,
    state_dir: str | os.PathLike[str] | None = None,
    registry: SpecRegistry | None = None,
    prices: Mapping[str, Price] | None = None,
) -> list[PlannedShot]:
    """What a run would do, shot by shot, in DAG order, with each shot's estimate (`prices`
    over every other price); sends nothing."""
    return plan_storyboard(
        _board(storyboard, registry), state_dir=state_dir, registry=registry, prices=prices
    )


async def run_async(
    storyboard: StoryboardLike,
    options: RunOptions | None = None,
    *,
    on_event: EventSink = ignore,
    registry: SpecRegistry | None = None,
    checked: Checked | None = None,
) -> RunResult:
    """Load (if given a path) and run a storyboard; `base_url: embedded` goes to the
    built-in emulator (serving the storyboard's own specs too) unless `options.gateway`
    says otherwise."""
    board = _board(storyboard, registry)
    specs = (registry or default_registry()).with_dirs(board.spec_dirs)
    return await run_storyboard(
        board,
        _with_gateway(options, specs),
        on_event=on_event,
        registry=specs,
        checked=checked,
    )


def run(
    storyboard: StoryboardLike,
    options: RunOptions | None = None,
    *,
    on_event: EventSink = ignore,
    registry: SpecRegistry | None = None,
    checked: Checked | None = None,
) -> RunResult:
    """Blocking `run_async`. Inside a running event loop it runs on a worker thread with its
    own loop (events then reach `on_event` from that thread)."""

    def run_here() -> RunResult:
        return asyncio.run(
            run_async(storyboard, options, on_event=on_event, registry=registry, checked=checked)
        )

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run_here()
    # asyncio.run cannot nest in a running loop (a notebook cell, an async app).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vidpipe-run") as pool:
        return pool.submit(run_here).result()
