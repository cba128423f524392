"""How many tasks a run keeps in flight: the run's cap, and a provider's adaptive limit.

`InFlight` hands out places to waiting shots in priority order (a lower key first; the run
uses the critical path, `dag.priorities`), not in arrival order, so a remix whose source just
finished goes ahead of shots that have not started.

A provider's limit follows AIMD (additive increase, multiplicative decrease). It starts at
what the provider's block says (or with no limit of its own). When the gateway answers a
create with 429 (too many tasks in flight, or too many requests), `busy` halves the limit,
counted from the tasks actually in flight; each create the gateway takes raises it again by
`1 / limit`, that is by one task per limit's worth of accepted creates, never past the
configured ceiling. Several 429s answering creates sent before the same decrease count as one
(a burst of refusals is one signal, as in TCP's congestion control).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["InFlight"]

Priority = tuple[int, ...]


class InFlight:
    """At most `limit` holders at once; waiters are served lowest priority key first.

    `ceiling` None means no limit of its own (unbounded until a 429 sets one); `adaptive`
    says whether `busy` and `taken` move the limit.
    """

    def __init__(self, ceiling: int | None, *, adaptive: bool = False) -> None:
        if ceiling is not None and ceiling < 1:
            raise ValueError("an in-flight limit is 1 or more")
        self.ceiling = ceiling
        self.adaptive = adaptive
        self._limit: float = math.inf if ceiling is None else float(ceiling)
        self.in_use = 0
        self.epoch = 0  # bumped by every decrease
        self.decreases = 0
        self._waiters: list[tuple[Priority, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def limit(self) -> int | None:
        """The current limit in whole tasks (None: no limit)."""
        return None if math.isinf(self._limit) else max(1, int(self._limit))

    def _room(self) -> bool:
        return math.isinf(self._limit) or self.in_use < max(1, math.floor(self._limit))

    async def acquire(self, priority: Priority = ()) -> None:
        """Wait for a place; among waiters, the lowest `priority` is served first."""
        if not self._waiters and self._room():
            self.in_use += 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (priority, next(self._order), future)
        heapq.heappush(self._waiters, entry)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the place was handed over as the waiter was cancelled
            else:
                self._waiters.remove(entry)
                heapq.heapify(self._waiters)
            raise

    def release(self) -> None:
        """Give a place back; free places go to the waiters on the loop's next turn, so a
        shot woken by the same event (a remix whose source just finished) is among them."""
        self.in_use -= 1
        if self._waiters:
            asyncio.get_running_loop().call_soon(self._wake)

    def _wake(self) -> None:
        while self._waiters and self._room():
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                self.in_use += 1
                future.set_result(None)

    @asynccontextmanager
    async def place(self, priority: Priority = ()) -> AsyncIterator[None]:
        """Hold a place for the block."""
        await self.acquire(priority)
        try:
            yield
        finally:
            self.release()

    def busy(self, epoch: int) -> bool:
        """The gateway refused a create sent at `epoch` with 429: halve the limit, once per
        epoch. Returns whether the limit went down."""
        if not self.adaptive or epoch != self.epoch:
            return False
        base = min(self._limit, float(self.in_use))
        self._limit = max(1.0, math.floor(base / 2))
        self.epoch += 1
        self.decreases += 1
        return True

    def taken(self) -> None:
        """The gateway took a create: raise the limit by one task per limit's worth."""
        if not self.adaptive or math.isinf(self._limit):
            return
        raised = self._limit + 1.0 / self._limit
        if self.ceiling is not None:
            raised = min(raised, float(self.ceiling))
        self._limit = raised
        self._wake()
