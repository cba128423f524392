"""Ledger writes off the event loop: batched, in order, and durable before the runner acts on
them. The intent (and the mark that the request leaves) is on disk before a create is."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from vidpipe.api import run
from vidpipe.emulator import EmbeddedEmulator, EmulatorConfig
from vidpipe.errors import StateError
from vidpipe.ledger import Ledger, LedgerWriter
from vidpipe.model import ProviderConfig
from vidpipe.runner import RunOptions

REQUEST = {"model": "sora-2", "prompt": "a cat"}


def fp(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


@pytest.fixture
def led(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "state") as ledger:
        yield ledger


def on_disk(path: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    """What another process would read: a connection of its own."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


async def test_writes_run_off_the_loop_in_order_and_are_batched(led: Ledger) -> None:
    run_id = led.start_run("s.yaml", "s", ["vidpipe"])
    writer = LedgerWriter(led)
    threads: set[str] = set()
    real = led.record_intent

    def intent(**kw: object) -> None:
        threads.add(threading.current_thread().name)
        real(**kw)  # type: ignore[arg-type]

    names = [f"shot{i}" for i in range(40)]
    await asyncio.gather(
        *(
            writer.write(
                intent,
                run_id=run_id,
                shot_id=n,
                fingerprint=fp(n),
                api="a",
                model="m",
                request=REQUEST,
            )
            for n in names
        )
    )
    await asyncio.gather(*(writer.write(led.record_task, fp(n), f"t-{n}", "queued") for n in names))
    await writer.close()
    assert threads and all(t.startswith("vidpipe-ledger") for t in threads)
    assert writer.writes == 80 and writer.batches < writer.writes
    rows = on_disk(led.path, "SELECT state, task_id FROM shots ORDER BY shot_id")
    assert len(rows) == 40 and {r[0] for r in rows} == {"running"}


async def test_a_refused_write_fails_alone_and_the_batch_commits(led: Ledger) -> None:
    run_id = led.start_run("s.yaml", "s", ["vidpipe"])
    writer = LedgerWriter(led)
    good = writer.write(
        led.record_intent,
        run_id=run_id,
        shot_id="a",
        fingerprint=fp("a"),
        api="a",
        model="m",
        request=REQUEST,
    )
    bad = writer.write(led.record_task, fp("nothing"), "t", "queued")  # no such shot
    after = writer.write(led.record_task, fp("a"), "t-a", "queued")
    results = await asyncio.gather(good, bad, after, return_exceptions=True)
    await writer.close()
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], StateError)
    assert on_disk(led.path, "SELECT state, task_id FROM shots") == [("running", "t-a")]


class Watching(httpx.AsyncBaseTransport):
    """The emulator, but each create first looks at the ledger on disk."""

    def __init__(self, inner: httpx.AsyncBaseTransport, state: Path) -> None:
        self.inner = inner
        self.state = state
        self.seen: list[tuple[object, ...]] = []
        self.status_reads = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.seen += on_disk(
                self.state / "ledger.sqlite3", "SELECT state, sent_at IS NOT NULL FROM shots"
            )
        elif not request.url.path.endswith("/content"):
            self.status_reads += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_the_intent_and_the_sent_mark_are_on_disk_before_the_create_arrives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[tuple[str, int | None]] = []
    real_status = Ledger.record_status

    def counting(self: Ledger, f: str, status: str, progress: int | None, raw: str | None) -> bool:
        writes.append((status, progress))
        return real_status(self, f, status, progress, raw)

    monkeypatch.setattr(Ledger, "record_status", counting)
    emulator = EmbeddedEmulator(
        EmulatorConfig(job_seconds=1.5, queued_fraction=0.8, poll_after_ms=50)
    )
    watching = Watching(emulator.transport(), tmp_path / "state")

    def transport_for(provider: ProviderConfig) -> httpx.AsyncBaseTransport:
        return watching

    board = tmp_path / "board.yaml"
    board.write_text(
        "version: 1\nname: watched\nproviders:\n"
        f"  gw: {{api: apifree, base_url: '{emulator.api_base_url('apifree')}', api_key: k}}\n"
        "defaults: {provider: gw, model: any-model, seconds: 4, size: 320x180}\n"
        'shots:\n  - {id: one, prompt: "one"}\n'
    )
    options = RunOptions(
        out_dir=tmp_path / "out", state_dir=tmp_path / "state", transport_for=transport_for
    )
    assert run(board, options).ok
    assert watching.seen == [("submitting", 1)]
    # Progress is kept in memory: the ledger hears of each change of state once.
    assert watching.status_reads > len(writes)
    states = [s for s, _ in writes]
    assert len(states) == len(set(states)) and "succeeded" in states
