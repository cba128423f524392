"""One run: check, lock the state dir, execute every selected shot, cut, write the manifest."""

from __future__ import annotations

import asyncio
import time

import attrs

from ..errors import InputError
from ..events import EventSink, ignore
from ..history import run_summary
from ..manifest import RunResult, ShotResult, write_manifest, write_report
from ..model import Storyboard
from ..specs import SpecRegistry
from ..statedir import StateDir
from .checks import Checked, check
from .connections import connections, need_gateway
from .executor import Executor
from .final import final_cut
from .options import RunOptions
from .planned import fingerprints

__all__ = ["run_async"]


async def run_async(
    storyboard: Storyboard,
    options: RunOptions | None = None,
    *,
    on_event: EventSink = ignore,
    registry: SpecRegistry | None = None,
    checked: Checked | None = None,
) -> RunResult:
    """Run a loaded storyboard. Bad input raises InputError before anything is sent.

    `checked` is what `check` returned for this storyboard and these options, when the
    caller already checked it (the CLI does, to size its display): it is not done twice.
    Providers on `base_url: embedded` need `options.gateway` (`vidpipe.run` sets it).
    """
    options = options or RunOptions()
    started = time.time()
    if checked is None:
        checked = check(storyboard, only=options.only, force=options.force, registry=registry)
    requests, selected, order = checked.requests, checked.selected, checked.order
    names = {storyboard.shot(s).provider for s in order}
    if options.gateway is None:
        missing = need_gateway(storyboard, names, options.transport_for)
        if missing:
            raise InputError(missing)
    prints = fingerprints(storyboard, requests)
    out_dir = options.out_dir / storyboard.name
    state = StateDir.for_storyboard(storyboard.path, options.state_dir)
    state.ensure()
    with state.lock(list(options.argv)), state.open_ledger() as ledger:
        out_dir.mkdir(parents=True, exist_ok=True)
        ledger.end_abandoned_runs()  # runs killed before they could say how they ended
        run_id = ledger.start_run(str(storyboard.path), storyboard.name, list(options.argv))
        status = "crashed"
        futures: dict[str, asyncio.Future[ShotResult]] = {}
        try:
            async with connections(
                storyboard,
                names,
                state.path,
                gateway=options.gateway,
                transport_for=options.transport_for,
            ) as conns:
                executor = Executor(
                    storyboard,
                    options,
                    requests,
                    prints,
                    selected,
                    ledger,
                    state,
                    conns,
                    on_event,
                    run_id,
                    out_dir,
                    results=futures,
                )
                loop = asyncio.get_running_loop()
                for shot_id in order:
                    executor.results[shot_id] = loop.create_future()

                async def one(shot_id: str) -> None:
                    result = await executor.shot(shot_id)
                    executor.results[shot_id].set_result(result)

                await asyncio.gather(*(one(s) for s in order))
            results = {s: executor.results[s].result() for s in order}
            final = final_cut(storyboard, results, out_dir, selected)
            result = RunResult(
                name=storyboard.name,
                storyboard=storyboard.path,
                out_dir=out_dir,
                run_id=run_id,
                shots=results,
                final=final,
                started_at=started,
                finished_at=time.time(),
            )
            manifest = write_manifest(result, storyboard_seed=storyboard.seed)
            report = write_report(result)
            result = attrs.evolve(result, manifest=manifest, report=report)
            status = "ok" if result.ok else "failed"
            return result
        except (asyncio.CancelledError, KeyboardInterrupt):
            status = "interrupted"  # Ctrl-C: asyncio.run cancels the run, then raises
            raise
        finally:
            ledger.finish_run(run_id, status, run_summary(status, futures))
