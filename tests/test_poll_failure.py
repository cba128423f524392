"""A task whose polls keep failing is kept: the next run re-attaches instead of paying again."""

from __future__ import annotations

from pathlib import Path

import httpx

from vidpipe.api import run
from vidpipe.events import ShotEvent
from vidpipe.ledger import Ledger
from vidpipe.model import ProviderConfig
from vidpipe.runner import RunOptions
from vidpipe.specs import default_registry
from vidpipe.states import ShotState

from .runs import InProcess, load_board, write_tiny


class BrokenPolls(httpx.AsyncBaseTransport):
    """The emulator, except that every status call answers 503 while `broken` is set."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.broken = True
        self.refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        is_poll = request.method == "GET" and "/content" not in request.url.path
        if self.broken and is_poll and "/v1/video" in request.url.path:
            self.refused += 1
            return httpx.Response(503, text="<html>upstream unavailable</html>")
        return await self.inner.handle_async_request(request)


def test_a_task_whose_polls_fail_is_resumed_not_created_again(tmp_path: Path) -> None:
    emu = InProcess.start()
    board = load_board(write_tiny(tmp_path / "board"))
    broken = BrokenPolls(emu.emulator.transport())

    def transport_for(provider: ProviderConfig) -> httpx.AsyncBaseTransport:
        return broken

    options = RunOptions(
        out_dir=tmp_path / "out",
        state_dir=tmp_path / "state",
        transport_for=transport_for,
        only=("kite",),
    )
    first = run(board, options)
    (kite,) = first.shots.values()
    # Status reads kept failing until the deadline (counted from the task's creation).
    assert kite.status == "failed" and "rerun to keep waiting" in (kite.error or "")
    assert "The task is kept" in (kite.error or "")
    assert broken.refused > 1  # the poll scope retried before giving up
    assert emu.take_stats()["creates"]["total"] == 1

    with Ledger.open(tmp_path / "state") as ledger:
        record = ledger.lookup(str(kite.fingerprint))
    assert record is not None and record.state == ShotState.RUNNING
    assert record.task_id == kite.task_id

    broken.broken = False
    second = run(board, options)
    assert second.ok, second.to_json()
    assert second["kite"].task_id == kite.task_id
    assert emu.take_stats()["creates"]["total"] == 0  # re-attached, not paid for twice


class NewWords(httpx.AsyncBaseTransport):
    """The emulator, except that status answers say `word` where they would say `instead`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, instead: str, word: str) -> None:
        self.inner, self.instead, self.word = inner, instead, word

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "GET" or "/content" in request.url.path:
            return response
        body = (await response.aread()).replace(
            f'"status":"{self.instead}"'.encode(), f'"status":"{self.word}"'.encode()
        )
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, headers=headers, content=body)


def test_a_status_word_the_spec_does_not_map_fails_the_shot_naming_word_and_file(
    tmp_path: Path,
) -> None:
    """Not "running" forever: after the grace period the shot fails, saying what to edit."""
    emu = InProcess.start()
    board = load_board(write_tiny(tmp_path / "board"))
    words = NewWords(emu.emulator.transport(), "completed", "rendering")
    options = RunOptions(
        out_dir=tmp_path / "out",
        state_dir=tmp_path / "state",
        transport_for=lambda provider: words,
        only=("kite",),
        status_grace=0.0,
    )
    events: list[ShotEvent] = []
    result = run(board, options, on_event=events.append)
    (kite,) = result.shots.values()
    spec = default_registry()["newapi"]
    assert kite.status == "failed"
    assert kite.error is not None and kite.error.startswith(
        f"kite: task {kite.task_id} answered status 'rendering' for 0 s, and spec newapi does "
        f"not map it: add 'rendering' to x-vidpipe-status in {spec.path} (mapped to queued, "
        "running, succeeded or failed)"
    )
    assert [e.message for e in events if e.phase == ShotState.RUNNING] == [
        "status 'rendering' is not in the spec; still polling"
    ]
    assert emu.take_stats()["creates"]["total"] == 1
