"""Answers of the `/v1/video/generations` family (new-api): the created task and the task
envelope wrapping the upstream's raw task."""

from __future__ import annotations

from typing import Any

from ..dialect import Dialect
from ..task import Snapshot, Task, unix

__all__ = ["created_task", "task_envelope"]


def created_task(task: Task, dialect: Dialect) -> dict[str, Any]:
    """The answer to a `/v1/video/generations` create: the document's VideoTask."""
    fresh = task.fresh()
    return {
        "id": task.id,
        "task_id": task.id,
        "object": "video",
        "model": task.model,
        "status": dialect.created.word(fresh.state, fresh.through),
        "progress": 0,
        "created_at": int(task.created_at),
    }


def task_envelope(task: Task, snap: Snapshot, url: str | None, dialect: Dialect) -> dict[str, Any]:
    """The new-api task envelope of a `/v1/video/generations` task."""
    done = snap.state == "succeeded"
    raw: dict[str, Any] = {}
    if dialect.upstream is not None and dialect.raw is not None:
        word = dialect.raw.word(snap.state, snap.through)
        raw = dialect.upstream.raw(task, snap, url, word)
    return {
        "code": "success",
        "message": "",
        "data": {
            "task_id": task.id,
            "action": "generate" if task.has_image else "textGenerate",
            "status": dialect.status.word(snap.state, snap.through),
            "progress": f"{snap.progress}%",
            "result_url": url if done and url else "",
            "fail_reason": task.error_message if snap.state == "failed" else "",
            "submit_time": int(task.created_at),
            "start_time": unix(snap.started_at) or 0,
            "finish_time": unix(snap.completed_at) or 0,
            **({} if task.quota is None else {"quota": task.quota}),
            "data": raw,
        },
    }
