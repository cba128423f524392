"""One run: check, lock the state dir and the output folder, execute every selected shot,
cut, write the manifest and the report.

Before anything is sent the ledger is read back whole (a corrupt row stops the run), and a
ledger that is missing or empty is rebuilt from the output folder's manifest and verified
files. `--force` is recorded in the ledger: a run that is interrupted leaves it owed, so the
same command (or a plain run) resumes the forced shots' new tasks instead of forcing them
again. Shots run in one `asyncio.TaskGroup`: an unexpected error fails only its own shot.
"""

from __future__ import annotations

import asyncio
import collections
import time

import attrs

from ..cost import RunQuote
from ..errors import InputError, OverBudget
from ..events import EventSink, ignore
from ..history import killed_run_summary, run_summary
from ..ledger import LedgerWriter
from ..manifest import RunResult, ShotResult, write_manifest, write_report
from ..model import Storyboard
from ..outdir import OutDir
from ..specs import SpecRegistry
from ..statedir import StateDir
from ..states import ShotState
from .budget import budget_quote, check_budget
from .checks import Checked, check, check_outputs
from .connections import connections, need_gateway
from .executor import Executor
from .final import final_cut
from .known import last_known
from .options import RunOptions
from .planned import planned_shots
from .rebuild import previous_manifest, rebuild_ledger

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
    check_outputs(storyboard, options.out_dir, order)
    out = OutDir(options.out_dir / storyboard.name)
    state = StateDir.for_storyboard(storyboard.path, options.state_dir)
    state.ensure()
    argv = list(options.argv)
    with state.lock(argv), out.claim(state, argv) as notes, state.open_ledger() as ledger:
        ledger.check_rows()  # a corrupt row stops the run here, before anything is sent
        # Runs killed before they could say how they ended: what they sent is in the ledger.
        for killed in ledger.end_abandoned_runs():
            ledger.record_summary(killed, killed_run_summary(ledger.shots_for_run(killed)))
        was_empty = ledger.is_empty()
        run_id = ledger.start_run(str(storyboard.path), storyboard.name, argv)
        status = "crashed"
        refused: OverBudget | None = None
        futures: dict[str, asyncio.Future[ShotResult]] = {}
        try:
            manifest = previous_manifest(out, storyboard)
            if was_empty and manifest is not None:
                note = rebuild_ledger(ledger, state, out, manifest, run_id)
                if note:
                    notes.append(note)
            force = storyboard.expand(options.force)  # a shot's takes and variants, all
            forced = [s for s in order if options.force_all or s in force]
            forced += [s for s in force if s not in forced]
            planned = planned_shots(
                storyboard, requests, ledger, state, prices=options.prices, forcing=forced
            )
            estimates = {p.shot_id: p.cost.estimate for p in planned if p.cost is not None}
            budget = options.budget if options.budget is not None else storyboard.budget
            if budget is not None:
                quote = budget_quote(storyboard, planned, order, ledger)
                check_budget(storyboard, quote, budget, allow_unpriced=options.allow_unpriced)
            ledger.request_forces(storyboard.name, run_id, forced)
            writer = LedgerWriter(ledger)
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
                    ledger,
                    state,
                    out,
                    conns,
                    on_event,
                    run_id,
                    writer,
                    forces=ledger.open_forces(storyboard.name),
                    results=futures,
                    estimates=estimates,
                    planned_prints={
                        p.shot_id: p.fingerprint
                        for p in planned
                        if p.fingerprint is not None and requests[p.shot_id].source_of is None
                    },
                    budget=None if budget is None else (storyboard.name, budget),
                )
                del planned  # the executor took what it needs: not kept while shots run
                if options.on_limits is not None:
                    options.on_limits(executor.limits(names))
                try:
                    await _run_shots(executor, order)
                finally:
                    await writer.close()
            ran = {s: executor.results[s].result() for s in storyboard.shot_ids if s in selected}
            others = last_known(storyboard, requests, ran, ledger, state, out)
            others = {
                s: attrs.evolve(r, estimate_usd=estimates[s].usd) if s in estimates else r
                for s, r in others.items()
            }
            previous = manifest.get("final") if manifest else None
            final = final_cut(storyboard, {**others, **ran}, out.path, previous)
            result = RunResult(
                name=storyboard.name,
                storyboard=storyboard.path,
                out_dir=out.path,
                run_id=run_id,
                shots=ran,
                final=final,
                started_at=started,
                finished_at=time.time(),
                others=others,
                order=storyboard.shot_ids,
                notes=tuple(notes),
                variants=storyboard.variants,
                picks=storyboard.picks,
            )
            manifest_path = write_manifest(result, storyboard_seed=storyboard.seed)
            report = write_report(result)
            result = attrs.evolve(result, manifest=manifest_path, report=report)
            ledger.settle_forces(storyboard.name, list(ran))
            ledger.close_reservations(storyboard.name)  # this run's budget is settled
            status = "ok" if result.ok else "failed"
            return result
        except OverBudget as exc:
            status, refused = "refused", exc
            raise
        except (KeyboardInterrupt, asyncio.CancelledError):
            status = "interrupted"
            raise
        finally:
            summary = run_summary(status, futures)
            if refused is not None and isinstance(refused.quote, RunQuote):
                summary["quote"] = {**refused.quote.to_json(), "budget_usd": refused.budget}
            ledger.finish_run(run_id, status, summary)


async def _run_shots(executor: Executor, order: list[str]) -> None:
    """Every shot in one task group. A shot's unexpected error fails that shot with its
    message and the others go on; an interruption cancels them all.

    A shot that builds on another (a remix, a frame) gets its own task at once: it waits
    for its source, not for a place. The others run in lanes, twice the run's cap per
    provider, each lane taking its provider's next shot along the critical path when its
    last one ends, so places still go to the longest chains first. A waiting shot is then
    a name in a queue, not a task holding its request, fingerprint and place in line: with
    2,000 shots at a cap of 128, the Python heap at the first wave went from 15.3 to 10.4 MB.
    Lanes are per provider: one window for the run would fill with the shots of a provider
    at its limit and hold back the others.
    """
    loop = asyncio.get_running_loop()
    for shot_id in order:
        executor.results[shot_id] = loop.create_future()

    async def one(shot_id: str) -> None:
        result: ShotResult
        try:
            result = await executor.shot(shot_id)
        except Exception as exc:  # one shot's bug must not stop the others
            try:
                result = executor.crashed(shot_id, exc)
            except Exception as again:  # the ledger itself failed
                message = f"unexpected error: {type(exc).__name__}: {exc}; then: {again}"
                result = executor.result(shot_id, ShotState.FAILED, error=message)
        executor.publish(shot_id, result)

    async def lane(queue: collections.deque[str]) -> None:
        while queue:
            await one(queue.popleft())

    lanes_per_provider = 2 * (executor.run_limit.ceiling or 1)
    queues: dict[str, collections.deque[str]] = {}
    lanes: collections.Counter[str] = collections.Counter()
    # Started along the critical path: the first places go to the longest chains.
    async with asyncio.TaskGroup() as group:
        for shot_id in sorted(order, key=executor.priority.__getitem__):
            if executor.requests[shot_id].source_of is not None:
                group.create_task(one(shot_id), name=f"shot {shot_id}")
                continue
            provider = executor.storyboard.shot(shot_id).provider
            queue = queues.setdefault(provider, collections.deque())
            queue.append(shot_id)
            if lanes[provider] < lanes_per_provider:
                lanes[provider] += 1
                group.create_task(lane(queue), name=f"{provider} lane {lanes[provider]}")
