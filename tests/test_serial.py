"""Serial: in order, one at a time, on threads shared with other work; close leaves nothing."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import CancelledError, ThreadPoolExecutor

import pytest

from vidpipe import serial
from vidpipe.serial import Serial

WAIT = 10.0


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=4) as executor:
        yield executor


def test_calls_run_in_order_one_at_a_time(pool: ThreadPoolExecutor) -> None:
    work = Serial(pool)
    running = 0
    most = 0
    lock = threading.Lock()
    seen: list[int] = []

    def call(i: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.0005)
        seen.append(i)
        with lock:
            running -= 1
        return i * 2

    futures = [work.submit(call, i) for i in range(200)]
    assert [f.result(WAIT) for f in futures] == [2 * i for i in range(200)]
    assert seen == list(range(200)) and most == 1


def test_many_serials_share_the_pools_threads_each_in_order(pool: ThreadPoolExecutor) -> None:
    works = [Serial(pool) for _ in range(32)]
    seen: dict[int, list[int]] = {w: [] for w in range(32)}
    threads: set[str] = set()

    def call(w: int, i: int) -> None:
        threads.add(threading.current_thread().name)
        seen[w].append(i)

    futures = [works[w].submit(call, w, i) for i in range(20) for w in range(32)]
    for f in futures:
        f.result(WAIT)
    assert all(s == list(range(20)) for s in seen.values())
    assert 1 <= len(threads) <= 4


def test_an_exception_reaches_its_caller_and_the_next_call_still_runs(
    pool: ThreadPoolExecutor,
) -> None:
    work = Serial(pool)

    def fail() -> None:
        raise OSError(28, "No space left on device")

    failed, after = work.submit(fail), work.submit(lambda: "ran")
    with pytest.raises(OSError, match="No space"):
        failed.result(WAIT)
    assert after.result(WAIT) == "ran"


def test_close_cancels_what_has_not_started_and_waits_for_the_running_call(
    pool: ThreadPoolExecutor,
) -> None:
    work = Serial(pool)
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def slow() -> None:
        started.set()
        release.wait(WAIT)
        ran.append("slow")

    running = work.submit(slow)
    queued = work.submit(ran.append, "queued")
    assert started.wait(WAIT)
    closed = threading.Event()

    def close() -> None:
        work.close()
        closed.set()

    closer = threading.Thread(target=close)
    closer.start()
    time.sleep(0.05)
    assert not closed.is_set()  # the running call has not ended
    release.set()
    closer.join(WAIT)
    assert closed.is_set() and ran == ["slow"]  # nothing ran after close returned
    assert running.result(WAIT) is None
    with pytest.raises(CancelledError):
        queued.result(WAIT)
    time.sleep(0.05)
    assert ran == ["slow"]


def test_close_does_not_wait_behind_other_work_in_the_pool() -> None:
    with ThreadPoolExecutor(max_workers=1) as busy_pool:
        release = threading.Event()
        busy_pool.submit(release.wait, WAIT)  # the pool's only thread is busy elsewhere
        work = Serial(busy_pool)
        ran: list[str] = []
        queued = work.submit(ran.append, "late")
        began = time.monotonic()
        work.close()
        assert time.monotonic() - began < 1.0
        release.set()
    assert queued.cancelled() and ran == []


def test_a_serial_can_be_used_again_after_close(pool: ThreadPoolExecutor) -> None:
    work = Serial(pool)
    work.close()
    assert work.submit(lambda: 1).result(WAIT) == 1
    work.close()
    assert work.submit(lambda: 2).result(WAIT) == 2


def test_a_pool_that_is_shut_down_refuses_and_leaves_the_serial_usable() -> None:
    gone = ThreadPoolExecutor(max_workers=1)
    gone.shutdown()
    work = Serial(gone)
    with pytest.raises(RuntimeError, match="shutdown"):
        work.submit(lambda: 1)
    with pytest.raises(RuntimeError, match="shutdown"):
        work.submit(lambda: 2)  # sent to the pool again, not left waiting in the queue
    work.close()  # returns: nothing is running


def test_the_shared_pool_is_one_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    first = serial.shared_pool()
    assert serial.shared_pool() is first and Serial()._pool is first
    with monkeypatch.context() as patched:
        patched.setattr(os, "getpid", lambda: -1)  # as in a forked child
        child = serial.shared_pool()
    assert child is not first and child._max_workers == serial.POOL_THREADS
    child.shutdown()
    assert serial.shared_pool() is first
