"""vidpipe and the official openai SDK, one after the other, on the same loopback emulator.

The emulator is a real uvicorn server in a process of its own (`serve`), with a fixed poll
hint of 1 s (`openai-poll-after-ms: 1000`, which the SDK follows) and one shared video per
size (`shared_video`: the renderer is not what is measured). Each client runs in a fresh
process of its own (`client`), so its CPU time and peak RSS are its own:

- sdk: `AsyncOpenAI`, `client.videos.create_and_poll` then `client.videos.download_content`
  written to a file, at most `concurrency` jobs at once (an asyncio semaphore);
- vidpipe: a storyboard of `jobs` shots on that gateway, `vidpipe.run` with
  `RunOptions(concurrency=...)`.

Each measurement: wall seconds, CPU seconds (user + system) and peak RSS of the client
process, status reads per job (the emulator's counter), and the mean time from a job's
start to the client seeing it finished.
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx

from .peak import peak_rss_mb

API = "apifree"
MODEL = "any-model"
SIZE = "320x180"
SECONDS = "4"
KEY = "bench-key"
ROOT = Path(__file__).resolve().parents[1]


@attrs.frozen
class Measured:
    """One client's run."""

    wall: float
    cpu: float
    rss_mb: float
    reads_per_job: float
    latency: float  # mean seconds from a job's start to the client seeing it finished
    jobs: int

    @property
    def cpu_ms_per_job(self) -> float:
        return 1000 * self.cpu / self.jobs


# -- the emulator process ---------------------------------------------------------------------


@contextmanager
def emulator(job_seconds: float, *, max_in_flight: int | None = None) -> Iterator[str]:
    """A loopback emulator in its own process for the block; yields its base URL."""
    args = [sys.executable, "-m", "bench.sidebyside", "serve", str(job_seconds)]
    if max_in_flight is not None:
        args.append(str(max_in_flight))
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError("the emulator did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _serve(job_seconds: float, max_in_flight: int | None) -> None:
    from vidpipe.emulator import EmulatorConfig, running_server

    config = EmulatorConfig(
        job_seconds=job_seconds,
        poll_after_ms=1000,
        shared_video=True,
        api_keys=[KEY],
        max_in_flight=max_in_flight,
        retry_after_seconds=1.0,
    )
    with running_server(config) as url:
        print(url, flush=True)
        while True:
            time.sleep(3600)


def stats(url: str) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"{url}/_emulator/stats", timeout=60).json()
    return data


def reset(url: str) -> None:
    httpx.post(f"{url}/_emulator/reset", params={"scope": "all"}, timeout=60)


# -- the clients ------------------------------------------------------------------------------


def measure(kind: str, url: str, jobs: int, concurrency: int, **extra: Any) -> Measured:
    """Run one client (`sdk` or `vidpipe`) in a fresh process against `url`."""
    reset(url)
    spec = {"kind": kind, "url": url, "jobs": jobs, "concurrency": concurrency, **extra}
    done = subprocess.run(
        [sys.executable, "-m", "bench.sidebyside", "client", json.dumps(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} client failed:\n{done.stderr[-3000:]}")
    got = json.loads(done.stdout.strip().splitlines()[-1])
    counted = stats(url)
    reads = counted["polls"]["total"]
    creates = counted["creates"]["total"]
    if creates != jobs:
        raise RuntimeError(f"{kind}: {creates} creates for {jobs} jobs")
    return Measured(
        wall=got["wall"],
        cpu=got["cpu"],
        rss_mb=got["rss_mb"],
        reads_per_job=reads / jobs,
        latency=got["latency"],
        jobs=jobs,
    )


def _usage() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, peak_rss_mb()


def _sdk(spec: Mapping[str, Any], out: Path) -> tuple[float, float]:
    import asyncio

    import openai

    async def main() -> tuple[float, float]:
        client = openai.AsyncOpenAI(base_url=f"{spec['url']}/{API}/v1", api_key=KEY)
        gate = asyncio.Semaphore(spec["concurrency"])
        latencies: list[float] = []

        async def job(i: int) -> None:
            async with gate:
                start = time.perf_counter()
                video = await client.videos.create_and_poll(
                    model=MODEL,
                    prompt=f"{spec.get('prefix', 'job')} {i}",
                    seconds=SECONDS,  # type: ignore[arg-type]
                    size=SIZE,  # type: ignore[arg-type]
                )
                latencies.append(time.perf_counter() - start)
                assert video.status == "completed", video
                content = await client.videos.download_content(video.id)
                content.write_to_file(out / f"{video.id}.mp4")

        start = time.perf_counter()
        await asyncio.gather(*(job(i) for i in range(spec["jobs"])))
        wall = time.perf_counter() - start
        await client.close()
        return wall, sum(latencies) / len(latencies)

    return asyncio.run(main())


def storyboard(url: str, jobs: int, prefix: str = "job") -> str:
    shots = "".join(f'  - {{id: s{i:05d}, prompt: "{prefix} {i}"}}\n' for i in range(jobs))
    return (
        "version: 1\nname: bench\nproviders:\n"
        f"  gw: {{api: {API}, base_url: '{url}/{API}', api_key: {KEY}}}\n"
        f"defaults: {{provider: gw, model: {MODEL}, seconds: {SECONDS}, size: {SIZE}}}\n"
        f"shots:\n{shots}"
    )


def _vidpipe(spec: Mapping[str, Any], out: Path) -> tuple[float, float]:
    from vidpipe.api import run
    from vidpipe.runner import RunOptions

    work = Path(spec.get("work") or out)
    board = work / "bench.yaml"
    board.write_text(storyboard(spec["url"], spec["jobs"], spec.get("prefix", "job")))
    options = RunOptions(
        out_dir=work / "out", state_dir=work / "state", concurrency=spec["concurrency"]
    )
    start = time.perf_counter()
    result = run(board, options)
    wall = time.perf_counter() - start
    assert result.ok, [s.error for s in result.shots.values() if not s.ok][:3]
    latencies = [s.timings["completed"] for s in result.shots.values()]
    return wall, sum(latencies) / len(latencies)


def _client(spec: Mapping[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cpu0, _ = _usage()
        run = _sdk if spec["kind"] == "sdk" else _vidpipe
        wall, latency = run(spec, Path(tmp))
        cpu1, rss = _usage()
    print(json.dumps({"wall": wall, "cpu": cpu1 - cpu0, "rss_mb": rss, "latency": latency}))


def ideal(job_seconds: float, jobs: int, concurrency: int) -> float:
    """Job time x waves: the wall time of a client with no overhead at all."""
    return job_seconds * math.ceil(jobs / concurrency)


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else math.inf


def main(argv: list[str]) -> None:
    if argv[0] == "serve":
        _serve(float(argv[1]), int(argv[2]) if len(argv) > 2 else None)
    elif argv[0] == "client":
        os.environ.setdefault("OPENAI_LOG", "")
        _client(json.loads(argv[1]))


if __name__ == "__main__":
    main(sys.argv[1:])
