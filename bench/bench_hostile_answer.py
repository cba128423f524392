"""Peak memory of `vidpipe run` while a gateway answers a status read with 256 MiB of JSON.

A hostile gateway on a loopback port (`tests.hostile`) takes the create, then answers every
status read with a JSON object 256 MiB long, sent in chunks without a Content-Length and
made as it is sent. `vidpipe run` runs in a child process; its peak resident memory is its
own high-water mark (`bench.peak`). The goal is under 200 MB: vidpipe reads an API
answer up to `limits.MAX_ANSWER_BYTES` and no further.

- peak_rss_mb: the child's peak resident memory, in MB (10^6 bytes).
- baseline_rss_mb: the same for `vidpipe validate` of the same storyboard (imports and
  checks, no run): what the hostile answer adds is the difference.
- under_goal: peak_rss_mb < 200.
- answer_mib, served_mib: the answer's size, and how much of it the gateway sent in all
  (every retry of the status read included).
- exit_code: `vidpipe run`'s (1: the shot failed, as a provider failure should).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.hostile import TASK, hostile_gateway

ANSWER = 256 << 20
GOAL_MB = 200
ROOT = Path(__file__).resolve().parents[1]
BOARD = """\
version: 1
name: hostile
providers:
  gw: {{api: apifree, base_url: "{base}", api_key: sk-bench}}
defaults: {{provider: gw, model: video-model-id, seconds: 1, size: 64x48}}
shots:
  - id: one
    prompt: a red kite over the sea
"""


def _child(*args: str) -> tuple[int, float]:
    """Run `python -m vidpipe ARGS`; its exit code and peak resident memory in MB."""
    env = {**os.environ, "NO_COLOR": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp) / "peak"
        child = subprocess.run(
            [sys.executable, "-m", "bench.peak", str(peak), "vidpipe", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        return child.returncode, float(peak.read_text()) * 2**20 / 1e6


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, hostile_gateway() as gateway:
        prefix = b'{"id": "' + TASK.encode() + b'", "status": "in_progress", "pad": "'
        gateway.endless(f"/v1/videos/{TASK}", prefix, size=ANSWER)
        board = Path(tmp) / "hostile.yaml"
        board.write_text(BOARD.format(base=gateway.base_url))
        _, baseline = _child("validate", str(board))
        # Status reads are backed off until the poll deadline: a short one ends the run.
        out = str(Path(tmp) / "out")
        code, peak = _child("run", str(board), "--out", out, "--poll-deadline", "20")
        served = gateway.sent
    return {
        "answer_mib": ANSWER >> 20,
        "peak_rss_mb": round(peak, 1),
        "baseline_rss_mb": round(baseline, 1),
        "under_goal": peak < GOAL_MB,
        "served_mib": round(served / 2**20, 1),
        "exit_code": code,
    }
