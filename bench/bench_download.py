"""One large video downloaded by vidpipe and by the openai SDK, from the same loopback server.

The emulator runs in its own process with uvicorn on loopback; its rendered video is padded
to `SIZE` (an MP4 `free` box after the real one, so it is still a playable MP4). Each client
downloads the finished task's content route in a fresh process of its own, taking turns, best
of `ROUNDS` (five: at about 1 GiB/s a round lasts a second, and the best of three still moved
by a fifth between runs). Just before its timed download, each client writes and deletes a
scratch file as large as the video (`warm_memory`): on this virtual machine, memory left free
for a second or more goes back to the host, and taking it again costs the next writer up to
1.2 s per GiB (writing 1 GiB into the page cache took 0.21 s right after the same amount was
freed, 0.57 s a second later, 1.37 s eight seconds later). Without it, whichever client found
cold memory lost the round, by up to a third: both now start as on a machine whose free
memory stays its own.

- vidpipe: `adapter.download` (streamed to a part file, hashed, fsynced, renamed; the check
  that the body is a video) and storing it in the content cache, as a run does.
- sdk: `client.with_streaming_response.videos.download_content(id)` and `iter_bytes()`
  written to a file (no hash, no fsync): the SDK's documented streaming download.

Metrics:
- vidpipe_mib_s, sdk_mib_s, throughput_vs_sdk (goal: 1.0 or more).
- vidpipe_cpu_s, sdk_cpu_s: the client process's CPU time for the download (vidpipe's
  includes the sha256 the SDK does not compute).
- vidpipe_peak_rss_mb, sdk_peak_rss_mb (each process's peak, imports included),
  rss_over_sdk_mb (goal: 30 or less).
- vidpipe_page_faults_k, sdk_page_faults_k: minor page faults during the download, in
  thousands (a diagnostic, no goal). Memory that malloc gives back to the kernel and takes
  again costs a fault per 4 KiB page: with 1 MiB reads, glibc shrinks and regrows its heap
  as the buffers of each read are freed and made again.
- streamed_peak_vs_size: Python heap peak (tracemalloc) while `stream_to_file` takes a
  48 MiB body from an in-process transport / the body's size: well below 1, the file never
  sits in memory.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import socket
import struct
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from vidpipe.download import stream_to_file
from vidpipe.retry import RetryPolicy

from .peak import peak_rss_mb

SIZE = 1 << 30
ROUNDS = 5
ROOT = Path(__file__).resolve().parents[1]
API = "anyfast"
KEY = "sk-bench"
MODEL = "sora-2"
HEAP_SIZE = 48 << 20


# -- the server (its own process) ----------------------------------------------------------


def padded(video: bytes, size: int) -> bytes:
    """`video` (an MP4) followed by a `free` box, `size` bytes in all."""
    pad = size - len(video)
    if pad < 8:
        return video
    return video + struct.pack(">I", pad) + b"free" + bytes(pad - 8)


def serve(port: int, size: int = SIZE) -> None:
    """The emulator on loopback `port`, every video `size` bytes; tasks finish at once."""
    from vidpipe.emulator import render_jobs, streaming
    from vidpipe.emulator.config import EmulatorConfig
    from vidpipe.emulator.server import serve as serve_emulator

    render = render_jobs.Renderer._video
    big: dict[str, bytes] = {}

    def video(self: render_jobs.Renderer, job: render_jobs.RenderJob) -> bytes:
        if job.key not in big:
            big[job.key] = padded(render(self, job), size)
        return big[job.key]

    etags: dict[int, str] = {}
    digest = streaming.sha256

    def etag(data: bytes) -> str:
        # The emulator hashes each body for its ETag; the same body is hashed once here.
        if id(data) not in etags:
            etags[id(data)] = digest(data)
        return etags[id(data)]

    render_jobs.Renderer._video = video  # type: ignore[method-assign]
    streaming.sha256 = etag
    config = EmulatorConfig(job_seconds=0, api_keys=[KEY])
    serve_emulator("127.0.0.1", port, config, announce=None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_listening(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the emulator process ended")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the emulator did not start listening")


# -- the clients (each in its own process) -------------------------------------------------


def warm_memory(folder: Path, size: int) -> None:
    """Write `size` bytes to a scratch file in `folder` and delete it: the page cache's
    memory is then free and warm for the timed download that follows at once."""
    block = bytes(1 << 20)
    scratch = folder / "warm.bin"
    with open(scratch, "wb") as fh:
        for _ in range(-(-size // len(block))):
            fh.write(block)
    scratch.unlink()


def sdk_download(base: str, task_id: str, dest: str, size: int = SIZE) -> None:
    """Print the seconds, CPU, page faults and peak RSS of the SDK's streaming download."""
    import openai

    client = openai.OpenAI(base_url=f"{base}/{API}/v1", api_key=KEY, max_retries=0)
    warm_memory(Path(dest).parent, size)
    start, cpu, faults = time.perf_counter(), time.process_time(), _faults()
    with (
        client.with_streaming_response.videos.download_content(task_id) as response,
        open(dest, "wb") as fh,
    ):
        for chunk in response.iter_bytes():
            fh.write(chunk)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    _report(seconds, cpu, os.path.getsize(dest), _faults() - faults)


def vidpipe_download(base: str, task_id: str, state_dir: str, size: int = SIZE) -> None:
    """Print the seconds, CPU, page faults and peak RSS of vidpipe's download to its cache."""
    import attrs

    from vidpipe.adapters import make_adapter
    from vidpipe.specs import default_registry
    from vidpipe.statedir import StateDir
    from vidpipe.transport import Connection

    state = StateDir(Path(state_dir))

    async def download() -> tuple[float, float, int, int]:
        async with Connection(f"{base}/{API}", KEY) as connection:
            adapter = make_adapter(default_registry()["anyfast_sora"], connection)
            snapshot = await adapter.status(task_id)
            snapshot = attrs.evolve(snapshot, result_url=None)  # the content route, as the SDK
            warm_memory(state.tmp_dir, size)
            start, cpu, faults = time.perf_counter(), time.process_time(), _faults()
            got = await adapter.download(snapshot, state.tmp_dir / "v.mp4")
            state.cache.store(got.path, got.sha256, hashed_size=got.size)
            got.path.unlink(missing_ok=True)
            elapsed, used = time.perf_counter() - start, time.process_time() - cpu
            return elapsed, used, got.size, _faults() - faults

    _report(*asyncio.run(download()))


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _report(seconds: float, cpu: float, size: int, faults: int) -> None:
    """Print one client's download, as JSON, for `_in_process`."""
    found = {"seconds": seconds, "cpu": cpu, "size": size, "faults": faults}
    print(json.dumps({**found, "peak_rss_mb": peak_rss_mb()}))


def _in_process(call: str) -> dict[str, float]:
    code = f"from bench.bench_download import *; {call}"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True
    )
    found: dict[str, float] = json.loads(out.stdout.splitlines()[-1])
    return found


def _create_task(base: str) -> str:
    import openai

    client = openai.OpenAI(base_url=f"{base}/{API}/v1", api_key=KEY, max_retries=0)
    video = client.videos.create(model=MODEL, prompt="a long take", seconds="4", size="1280x720")
    return video.id


def side_by_side(size: int = SIZE, rounds: int = ROUNDS) -> dict[str, object]:
    """Both clients against one emulator process; the best round of each."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", f"from bench.bench_download import serve; serve({port}, {size})"],
        cwd=ROOT,
    )
    try:
        _wait_listening(port, server)
        base = f"http://127.0.0.1:{port}"
        task_id = _create_task(base)
        with tempfile.TemporaryDirectory() as tmp:
            dest = str(Path(tmp) / "sdk.mp4")
            state = str(Path(tmp) / "state")
            sdk_call = f"sdk_download({base!r}, {task_id!r}, {dest!r}, {size})"
            our_call = f"vidpipe_download({base!r}, {task_id!r}, {state!r}, {size})"
            _in_process(sdk_call)  # warms the server
            sdk, ours = [], []
            for _ in range(rounds):
                sdk.append(_in_process(sdk_call))
                os.unlink(dest)
                ours.append(_in_process(our_call))
                subprocess.run(["rm", "-rf", state], check=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert all(r["size"] == size for r in sdk + ours)
    mib = size / 2**20
    sdk_s = min(r["seconds"] for r in sdk)
    our_s = min(r["seconds"] for r in ours)
    sdk_cpu = min(r["cpu"] for r in sdk)
    our_cpu = min(r["cpu"] for r in ours)
    sdk_rss = min(r["peak_rss_mb"] for r in sdk)
    our_rss = min(r["peak_rss_mb"] for r in ours)
    return {
        "file_mib": round(mib),
        "vidpipe_mib_s": round(mib / our_s, 1),
        "sdk_mib_s": round(mib / sdk_s, 1),
        "throughput_vs_sdk": round(sdk_s / our_s, 3),
        "vidpipe_cpu_s": round(our_cpu, 2),
        "sdk_cpu_s": round(sdk_cpu, 2),
        "vidpipe_peak_rss_mb": round(our_rss, 1),
        "sdk_peak_rss_mb": round(sdk_rss, 1),
        "rss_over_sdk_mb": round(our_rss - sdk_rss, 1),
        "vidpipe_page_faults_k": round(min(r["faults"] for r in ours) / 1000, 1),
        "sdk_page_faults_k": round(min(r["faults"] for r in sdk) / 1000, 1),
    }


# -- the Python heap while streaming (in process) ------------------------------------------


def _handler(request: httpx.Request) -> httpx.Response:
    async def body() -> AsyncIterator[bytes]:
        block = b"\0" * (64 << 10)
        for _ in range(HEAP_SIZE // len(block)):
            yield block

    headers = {"content-length": str(HEAP_SIZE), "content-type": "video/mp4"}
    return httpx.Response(200, content=body(), headers=headers)


async def _streamed(dest: Path) -> int:
    async with httpx.AsyncClient(transport=httpx.MockTransport(_handler)) as client:

        @asynccontextmanager
        async def open_body(offset: int) -> AsyncIterator[httpx.Response]:
            async with client.stream("GET", "http://cdn.test/v.mp4") as response:
                yield response

        result = await stream_to_file(open_body, dest, policy=RetryPolicy())
        return result.size


def heap_peak() -> float:
    """Peak Python heap while streaming `HEAP_SIZE` bytes to disk / `HEAP_SIZE`."""
    with tempfile.TemporaryDirectory() as tmp:
        tracemalloc.start()
        try:
            size = asyncio.run(_streamed(Path(tmp) / "v.mp4"))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert size == HEAP_SIZE
    return peak / HEAP_SIZE


def run() -> dict[str, object]:
    results = side_by_side()
    results["streamed_peak_vs_size"] = round(heap_peak(), 4)
    return results
