"""16 jobs of 12 s at concurrency 8: vidpipe against the openai SDK on one loopback emulator.

- wall_vs_sdk: vidpipe's wall time / the SDK's (goal: <= 1.05; a silent cap of 4 tasks in
  flight made it 2x);
- reads_per_job_vs_sdk: status reads per job, vidpipe / SDK (goal: <= 1/3);
- latency_vs_sdk: mean time from a job's start to its client seeing it finished;
- plus each side's wall time and reads per job.
"""

from __future__ import annotations

from .sidebyside import emulator, ideal, measure, ratio

JOBS, JOB_SECONDS, CONCURRENCY = 16, 12.0, 8


def run() -> dict[str, object]:
    with emulator(JOB_SECONDS) as url:
        sdk = measure("sdk", url, JOBS, CONCURRENCY)
        ours = measure("vidpipe", url, JOBS, CONCURRENCY)
    return {
        "wall_vs_sdk": ratio(ours.wall, sdk.wall),
        "reads_per_job_vs_sdk": ratio(ours.reads_per_job, sdk.reads_per_job),
        "ideal_seconds": ideal(JOB_SECONDS, JOBS, CONCURRENCY),
        "vidpipe_wall": round(ours.wall, 2),
        "sdk_wall": round(sdk.wall, 2),
        "latency_vs_sdk": ratio(ours.latency, sdk.latency),
        "vidpipe_reads_per_job": round(ours.reads_per_job, 2),
        "sdk_reads_per_job": round(sdk.reads_per_job, 2),
    }
