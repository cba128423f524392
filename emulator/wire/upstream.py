"""The upstream model behind a `/v1/video/generations` spec: how it names its tasks and what
its raw task JSON looks like (new-api keeps it in the envelope's `data.data`).

Seedance names tasks ``cgt-<time>-<code>`` and answers ``{id, status, content.video_url}``;
DashScope (HappyHorse) names them ``asyntask_...`` and answers ``{request_id, output:
{task_status, video_url}, usage}``. `/v1/videos` specs name tasks ``video_...``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import attrs

from ...specs import Spec
from ..ids import ALPHABET, digest_text, encode
from ..task import Snapshot, Task

__all__ = ["DASHSCOPE", "OPENAI", "SEEDANCE", "Upstream", "upstream_for"]


@attrs.frozen
class Upstream:
    """How the model behind a spec names its tasks and their states."""

    name: str
    create_status: str
    words: Mapping[str, str]

    def task_id(self, digest: bytes, created_at: float) -> str:
        if self.name == "seedance":
            stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(created_at))
            return f"cgt-{stamp}-{encode(digest, 5, ALPHABET[:36])}"
        if self.name == "dashscope":
            return f"asyntask_{encode(digest, 32, ALPHABET)}"
        return f"video_{digest.hex()[:32]}"

    def raw(self, task: Task, snap: Snapshot, url: str | None) -> dict[str, Any]:
        """The upstream's own task JSON, as new-api keeps it in `data.data`."""
        word = self.words[snap.status]
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
            if snap.status == "completed" and url:
                output["video_url"] = url
            if snap.status == "failed":
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
        if snap.status == "completed" and url:
            raw["content"] = {"video_url": url}
        if snap.status == "failed":
            raw["error"] = {"code": "InternalServiceError", "message": task.error_message}
        return raw


def _stamp(when: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when)) + f".{int(when * 1000) % 1000:03d}"


OPENAI = Upstream(
    "openai",
    "queued",
    {
        "queued": "queued",
        "in_progress": "in_progress",
        "completed": "completed",
        "failed": "failed",
    },
)
SEEDANCE = Upstream(
    "seedance",
    "",
    {"queued": "queued", "in_progress": "running", "completed": "succeeded", "failed": "failed"},
)
DASHSCOPE = Upstream(
    "dashscope",
    "queued",
    {"queued": "PENDING", "in_progress": "RUNNING", "completed": "SUCCEEDED", "failed": "FAILED"},
)


def upstream_for(spec: Spec) -> Upstream:
    """The upstream style of a spec, recognised by the raw status words it declares."""
    if spec.family == "videos":
        return OPENAI
    for upstream in (DASHSCOPE, SEEDANCE):
        if all(word in spec.status_map for word in upstream.words.values()):
            return upstream
    return SEEDANCE
