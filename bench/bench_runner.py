"""What a rerun costs against a first run of the example storyboard (embedded emulator).

The first run creates, polls, downloads and assembles every shot (tasks finish at once);
the rerun finds every shot's verified file in the cache and sends nothing:

- rerun_vs_first: rerun wall time / first run wall time (the cache's saving).
- first_seconds, rerun_seconds: the two times (only meaningful within one run).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from vidpipe.api import embedded_emulator
from vidpipe.api import run as run_storyboard
from vidpipe.loading import load
from vidpipe.runner import RunOptions

EXAMPLE = Path(__file__).resolve().parents[1] / "examples"


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "examples"
        shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns(".vidpipe", "out"))
        board = load(work / "storyboard.yaml")
        options = RunOptions(out_dir=Path(tmp) / "out", gateway=embedded_emulator(job_seconds=0))
        start = time.perf_counter()
        first = run_storyboard(board, options)
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        again = run_storyboard(board, options)
        rerun_s = time.perf_counter() - start
    assert first.ok and again.ok and again.counts == {"cached": len(board.shots)}
    return {
        "shots": len(board.shots),
        "first_seconds": round(first_s, 3),
        "rerun_seconds": round(rerun_s, 3),
        "rerun_vs_first": round(rerun_s / first_s, 4),
    }
