"""Work that must run in order, one piece at a time, on threads shared with other such work.

A download hashes and writes its batches in order, off the event loop. A thread of its own
per download meant 128 threads at once in a run at `--concurrency 128`, each with a malloc
arena that outlives it. `Serial` gives each download that order on a pool of a few threads
shared by the whole process (`shared_pool`).
"""

from __future__ import annotations

import collections
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["POOL_THREADS", "Serial", "shared_pool"]

T = TypeVar("T")

#: Threads of the shared pool: the rule of asyncio's default executor. They wait on the disk
#: (fsync) as much as they hash.
POOL_THREADS = min(32, (os.cpu_count() or 1) + 4)


def shared_pool() -> ThreadPoolExecutor:
    """The process's pool for `Serial` work; a forked child gets one of its own."""
    return _pool_of(os.getpid())


@functools.cache  # by process: a forked child has none of its parent's threads
def _pool_of(pid: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="vidpipe-io")


class Serial:
    """Runs what is submitted in order, one at a time, on `pool`'s threads.

    At most one of `pool`'s threads works for a `Serial` at a time; it takes the queued
    calls until none is left. `close` cancels the calls not started and waits for the one
    running, so nothing runs after it returns.
    """

    def __init__(self, pool: Executor | None = None) -> None:
        self._pool = shared_pool() if pool is None else pool
        self._lock = threading.Lock()
        self._queue: collections.deque[tuple[Future[Any], Callable[[], Any]]] = collections.deque()
        self._scheduled = False  # a `_drain` is queued or working in the pool
        self._not_calling = threading.Event()  # clear while a call runs
        self._not_calling.set()

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            self._queue.append((future, functools.partial(fn, *args)))
            if self._scheduled:
                return future  # the pool's `_drain` for this Serial takes it
            self._scheduled = True
        try:
            self._pool.submit(self._drain)
        except BaseException:  # the pool is shut down: nothing will run
            with self._lock:
                self._queue.clear()
                self._scheduled = False
            raise
        return future

    def close(self) -> None:
        """Cancel the calls not started; wait until the one running (if any) has ended.

        Waits for no other work in the pool: a `_drain` still queued finds nothing to do.
        """
        with self._lock:
            for future, _ in self._queue:
                future.cancel()
            self._queue.clear()
        self._not_calling.wait()

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._scheduled = False
                    return
                future, call = self._queue.popleft()
                if not future.set_running_or_notify_cancel():
                    continue  # cancelled before it started
                self._not_calling.clear()
            try:
                result = call()
            except BaseException as exc:  # as concurrent.futures does: the caller sees it
                future.set_exception(exc)
            else:
                future.set_result(result)
            finally:
                self._not_calling.set()
