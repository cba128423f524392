"""The upstream model behind a `/v1/video/generations` spec: how it names its tasks and what
its raw task JSON looks like (new-api keeps it in the envelope's `data.data`).

Seedance names tasks ``cgt-<time>-<code>`` and answers ``{id, status, content.video_url}``;
DashScope (HappyHorse) names them ``asyntask_...`` and answers ``{request_id, output:
{task_status, video_url}, usage}``. A spec says which one it wraps with
``x-vidpipe-emulator.raw-task`` on the schema of the upstream's status words (see `dialect`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import attrs

from ..ids import ALPHABET, digest_text, encode
from ..task import Snapshot, Task

__all__ = ["UPSTREAMS", "Upstream"]


@attrs.frozen
class Upstream:
    """How the model behind a spec names its tasks and shapes its raw task JSON."""

    name: str

    def task_id(self, digest: bytes, created_at: float) -> str:
        if self.name == "seedance":
            stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(created_at))
            return f"cgt-{stamp}-{encode(digest, 5, ALPHABET[:36])}"
        return f"asyntask_{encode(digest, 32, ALPHABET)}"

    def raw(self, task: Task, snap: Snapshot, url: str | None, word: str) -> dict[str, Any]:
        """The upstream's own task JSON with its status `word`, as new-api keeps it."""
        if self.name == "dashscope":
            output: dict[str, Any] = {
                "task_id": task.id,
                "task_status": word,
                "submit_time": _stamp(task.created_at),
            }
            if snap.started_at is not None:
                output["scheduled_time"] = _stamp(snap.started_at)
            if snap.completed_at is not None:
                output["end_time"] = _stamp(snap.completed_at)
            if snap.state == "succeeded" and url:
                output["video_url"] = url
            if snap.state == "failed":
                output["code"] = "InternalError.Algo"
                output["message"] = task.error_message
            return {
                "request_id": encode(digest_text("request", task.id), 32, ALPHABET[:16]),
                "output": output,
                "usage": {"duration": task.job.seconds, "video_count": 1, "SR": task.job.height},
            }
        raw: dict[str, Any] = {
            "id": task.id,
            "model": task.model,
            "status": word,
            "created_at": int(task.created_at),
            "updated_at": int(snap.completed_at or snap.started_at or task.created_at),
            "duration": round(task.job.seconds),
            "framespersecond": task.job.fps,
        }
        if task.job.seed is not None:
            raw["seed"] = task.job.seed
        if snap.state == "succeeded" and url:
            raw["content"] = {"video_url": url}
        if snap.state == "failed":
            raw["error"] = {"code": "InternalServiceError", "message": task.error_message}
        return raw


def _stamp(when: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when)) + f".{int(when * 1000) % 1000:03d}"


UPSTREAMS: Mapping[str, Upstream] = {name: Upstream(name) for name in ("seedance", "dashscope")}
