"""Status reads and completion latency: 16 jobs of 12 s at once (one wave), vidpipe against
the openai SDK (which reads every `openai-poll-after-ms`, 1 s here) on one loopback emulator.

- cold: a fresh state dir, so vidpipe predicts the finish from each task's progress alone;
- warm: a second storyboard (new prompts, same model) on the same state dir, so it also
  knows how long this model's tasks took.

Goal: reads per job <= 1/3 of the SDK's at <= +10 % completion latency
(`latency_vs_sdk` <= 1.10; latency is the mean time from a job's start to its client seeing
it finished).
"""

from __future__ import annotations

import tempfile

from .sidebyside import emulator, measure, ratio

JOBS, JOB_SECONDS = 16, 12.0


def run() -> dict[str, object]:
    with emulator(JOB_SECONDS) as url, tempfile.TemporaryDirectory() as work:
        sdk = measure("sdk", url, JOBS, JOBS)
        cold = measure("vidpipe", url, JOBS, JOBS, work=work, prefix="cold")
        warm = measure("vidpipe", url, JOBS, JOBS, work=work, prefix="warm")
    return {
        "cold_reads_vs_sdk": ratio(cold.reads_per_job, sdk.reads_per_job),
        "cold_latency_vs_sdk": ratio(cold.latency, sdk.latency),
        "warm_reads_vs_sdk": ratio(warm.reads_per_job, sdk.reads_per_job),
        "warm_latency_vs_sdk": ratio(warm.latency, sdk.latency),
        "sdk_reads_per_job": round(sdk.reads_per_job, 2),
        "sdk_latency": round(sdk.latency, 2),
        "cold_reads_per_job": round(cold.reads_per_job, 2),
        "cold_latency": round(cold.latency, 2),
        "warm_reads_per_job": round(warm.reads_per_job, 2),
        "warm_latency": round(warm.latency, 2),
    }
