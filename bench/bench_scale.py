"""Many jobs: vidpipe against the openai SDK on one loopback emulator, jobs of 8 s.

- 200 jobs at concurrency 32 (7 waves): wall vs ideal (job time x waves; goal <= 1.03),
  CPU per job and peak RSS, each vidpipe / SDK (goal: <= 1);
- 2,000 jobs at concurrency 128 (16 waves): the same (goal: wall <= 1.05x ideal).

`python -m bench scale` runs both (about eight minutes); `BENCH_SCALE_ROWS=200` runs only
the first.
"""

from __future__ import annotations

import os

from .sidebyside import emulator, ideal, measure, ratio

JOB_SECONDS = 8.0
ROWS = ((200, 32), (2000, 128))


def run() -> dict[str, object]:
    wanted = {int(n) for n in os.environ.get("BENCH_SCALE_ROWS", "").split(",") if n}
    out: dict[str, object] = {}
    with emulator(JOB_SECONDS) as url:
        for jobs, concurrency in ROWS:
            if wanted and jobs not in wanted:
                continue
            best = ideal(JOB_SECONDS, jobs, concurrency)
            sdk = measure("sdk", url, jobs, concurrency)
            ours = measure("vidpipe", url, jobs, concurrency)
            row = f"{jobs}x{concurrency}"
            out[f"{row}_wall_vs_ideal"] = ratio(ours.wall, best)
            out[f"{row}_sdk_wall_vs_ideal"] = ratio(sdk.wall, best)
            out[f"{row}_cpu_per_job_vs_sdk"] = ratio(ours.cpu, sdk.cpu)
            out[f"{row}_rss_vs_sdk"] = ratio(ours.rss_mb, sdk.rss_mb)
            out[f"{row}_vidpipe_cpu_ms_per_job"] = round(ours.cpu_ms_per_job, 1)
            out[f"{row}_sdk_cpu_ms_per_job"] = round(sdk.cpu_ms_per_job, 1)
            out[f"{row}_vidpipe_rss_mb"] = round(ours.rss_mb, 1)
            out[f"{row}_sdk_rss_mb"] = round(sdk.rss_mb, 1)
            out[f"{row}_latency_vs_sdk"] = ratio(ours.latency, sdk.latency)
            out[f"{row}_reads_per_job_vs_sdk"] = ratio(ours.reads_per_job, sdk.reads_per_job)
    return out
