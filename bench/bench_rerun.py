"""A rerun of 500 finished shots: every video comes from the cache and nothing is sent.

The first run (untimed) creates, polls and downloads every shot on the embedded emulator
(tasks finish at once; to spare minutes of rendering, each video is one real render with
a `free` box naming its job appended, so every shot still has a file of its own). The rerun is timed from the loaded storyboard to the written
manifest and report, and every HTTP request it makes is counted:

- rerun_seconds: the rerun's wall time (goal: 0.5 or less). Best of `REPEATS`.
- rerun_requests: requests the reruns sent (goal: 0).
- load_seconds: loading and checking the storyboard (not part of the rerun's time).
"""

from __future__ import annotations

import contextlib
import struct
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx

from vidpipe.api import embedded_emulator
from vidpipe.api import run as run_storyboard
from vidpipe.emulator import EmbeddedEmulator, EmulatorConfig
from vidpipe.loading import load
from vidpipe.runner import RunOptions
from vidpipe.runner.connections import EmbeddedGateway, GatewayFactory

SHOTS = 500
REPEATS = 3

HEADER = """\
version: 1
name: bench-rerun
seed: 7
providers:
  anyfast: {api: anyfast, base_url: embedded}
defaults: {provider: anyfast, model: sora-2, seconds: 4, size: 720x1280}
vars: {hero: a ginger cat}
shots:
"""


def storyboard_text(shots: int = SHOTS) -> str:
    lines = [
        f'  - {{id: shot-{n}, prompt: "{{{{ hero }}}} walks, take {n}"}}\n' for n in range(shots)
    ]
    return HEADER + "".join(lines)


class _Counting(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, seen: list[str]) -> None:
        self.inner = inner
        self.seen = seen

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url}")
        return await self.inner.handle_async_request(request)


def _counting_gateway(seen: list[str]) -> GatewayFactory:
    """The embedded emulator, each request it is sent noted in `seen`."""

    class Counting(EmbeddedEmulator):
        def transport(self) -> httpx.AsyncBaseTransport:
            return _Counting(super().transport(), seen)

    @contextlib.asynccontextmanager
    async def open_gateway(state_dir: Path) -> AsyncIterator[EmbeddedGateway]:
        yield Counting(EmulatorConfig(job_seconds=0, store_dir=state_dir / "emulator"))

    return open_gateway


@contextlib.contextmanager
def _one_render() -> Iterator[None]:
    from vidpipe.emulator import render_jobs

    real = render_jobs.Renderer._video
    base: list[bytes] = []

    def video(self: render_jobs.Renderer, job: render_jobs.RenderJob) -> bytes:
        if not base:
            base.append(real(self, job))
        tail = job.key.encode("ascii")
        return base[0] + struct.pack(">I", len(tail) + 8) + b"free" + tail

    render_jobs.Renderer._video = video  # type: ignore[method-assign]
    try:
        yield
    finally:
        render_jobs.Renderer._video = real  # type: ignore[method-assign]


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        board_path = Path(tmp) / "storyboard.yaml"
        board_path.write_text(storyboard_text(), encoding="utf-8")
        start = time.perf_counter()
        board = load(board_path)
        load_s = time.perf_counter() - start
        out = Path(tmp) / "out"
        with _one_render():
            first = run_storyboard(
                board,
                RunOptions(out_dir=out, concurrency=16, gateway=embedded_emulator(job_seconds=0)),
            )
        assert first.ok, first.counts
        seen: list[str] = []
        options = RunOptions(out_dir=out, gateway=_counting_gateway(seen))
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            again = run_storyboard(board, options)
            times.append(time.perf_counter() - start)
            assert again.ok and again.counts == {"cached": SHOTS}, again.counts
    return {
        "shots": SHOTS,
        "rerun_seconds": round(min(times), 3),
        "rerun_requests": len(seen),
        "load_seconds": round(load_s, 3),
    }
