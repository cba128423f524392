"""A task whose polls keep failing is kept: the next run re-attaches instead of paying again."""

from __future__ import annotations

from pathlib import Path

import httpx

from vidpipe.api import run
from vidpipe.ledger import Ledger
from vidpipe.model import ProviderConfig
from vidpipe.runner import RunOptions
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
