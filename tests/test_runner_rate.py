"""A provider's `rate` spaces out every request the run sends to that provider's API."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidpipe.api import embedded_emulator, run
from vidpipe.ratelimit import RateLimiter
from vidpipe.runner import RunOptions

BOARD = """\
version: 1
name: rated
providers:
  slow: {api: newapi, rate: 1000/s}
  free: {api: apifree}
defaults: {seconds: 4, size: 320x180}
shots:
  - {id: a, provider: slow, model: veo3, prompt: "a kite", duration: 1}
  - {id: b, provider: free, model: any-model, prompt: "a boat"}
"""


def test_only_the_rated_provider_waits_for_its_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    turns: list[float] = []
    real_acquire = RateLimiter.acquire

    async def counting(self: RateLimiter) -> None:
        turns.append(self.interval)
        await real_acquire(self)

    monkeypatch.setattr(RateLimiter, "acquire", counting)
    board = tmp_path / "board.yaml"
    board.write_text(BOARD)
    options = RunOptions(out_dir=tmp_path / "out", gateway=embedded_emulator(job_seconds=0))
    result = run(board, options)
    assert result.ok, result.to_json()
    # shot a's create and at least one poll (its video comes from the CDN origin, which is
    # not limited); nothing for shot b
    assert len(turns) >= 2
    assert turns == pytest.approx([0.001] * len(turns))
