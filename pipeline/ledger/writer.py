"""Ledger writes off the event loop, batched: `LedgerWriter`.

A run's writes go to one worker thread, in the order they were asked for. Writes that arrive
while the worker commits are gathered into the next batch: one transaction, one fsync, each
write in its own savepoint (so one refused write does not undo the others). `write` returns
once its batch is committed: what it recorded is as durable as a direct call's, so the intent
recorded before a create is on disk before the create leaves, exactly as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .store import Ledger

__all__ = ["LedgerWriter"]

T = TypeVar("T")

_Job = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], "asyncio.Future[Any]"]


class LedgerWriter:
    """Runs ledger writes in a worker thread, batched; `close` waits for the last one."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vidpipe-ledger")
        self._queue: list[_Job] = []
        self._flushing: asyncio.Future[None] | None = None
        self.batches = 0  # commits made, for tests and benchmarks
        self.writes = 0

    async def write(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call `method(*args, **kwargs)` (a method of the ledger) in the worker; return its
        result (or raise its error) once the batch holding it is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.append((method, args, kwargs, future))
        if self._flushing is None:
            self._flushing = asyncio.ensure_future(self._flush())
        return await asyncio.shield(future)

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queue:
                jobs, self._queue = self._queue, []
                try:
                    outcomes = await loop.run_in_executor(self._pool, self._commit, jobs)
                except BaseException as exc:  # the commit itself failed: every write did
                    outcomes = [(None, exc)] * len(jobs)
                for (_, _, _, future), (value, error) in zip(jobs, outcomes, strict=True):
                    if future.done():
                        continue
                    if error is not None:
                        future.set_exception(error)
                    else:
                        future.set_result(value)
        finally:
            self._flushing = None

    def _commit(self, jobs: list[_Job]) -> list[tuple[Any, BaseException | None]]:
        outcomes: list[tuple[Any, BaseException | None]] = []
        with self.ledger.batch():
            for method, args, kwargs, _ in jobs:
                try:
                    outcomes.append((method(*args, **kwargs), None))
                except Exception as exc:
                    outcomes.append((None, exc))
        self.batches += 1
        self.writes += len(jobs)
        return outcomes

    async def close(self) -> None:
        """Wait for every write asked for, then stop the worker."""
        while self._flushing is not None:
            await asyncio.shield(self._flushing)
        self._pool.shutdown(wait=True)
