"""Answers of the `/v1/video/generations` family (new-api): the created task, the task
envelope wrapping the upstream's raw task, and the error body."""

from __future__ import annotations

from typing import Any

from ..task import Snapshot, Task, unix

__all__ = ["created_task", "error_body", "task_envelope"]


def created_task(task: Task) -> dict[str, Any]:
    """The answer to a `/v1/video/generations` create: the document's VideoTask."""
    return {
        "id": task.id,
        "task_id": task.id,
        "object": "video",
        "model": task.model,
        "status": task.upstream.create_status,
        "progress": 0,
        "created_at": int(task.created_at),
    }


_ENVELOPE_WORDS = {
    "queued": "QUEUED",
    "in_progress": "IN_PROGRESS",
    "completed": "SUCCESS",
    "failed": "FAILURE",
}


def task_envelope(task: Task, snap: Snapshot, url: str | None, now: float) -> dict[str, Any]:
    """The new-api task envelope of a `/v1/video/generations` task."""
    status = _ENVELOPE_WORDS[snap.status]
    if (
        snap.status == "queued"
        and now - task.created_at < task.job_seconds * task.queued_fraction / 2
    ):
        status = "SUBMITTED"
    return {
        "code": "success",
        "message": "",
        "data": {
            "task_id": task.id,
            "action": "generate" if task.has_image else "textGenerate",
            "status": status,
            "progress": f"{snap.progress}%",
            "result_url": url if snap.status == "completed" and url else "",
            "fail_reason": task.error_message if snap.status == "failed" else "",
            "submit_time": int(task.created_at),
            "start_time": unix(snap.started_at) or 0,
            "finish_time": unix(snap.completed_at) or 0,
            "data": task.upstream.raw(task, snap, url),
        },
    }


def error_body(status: int, message: str, code: str) -> dict[str, Any]:
    """``{code, message, data}``; a plain 400 is ``invalid_request`` as new-api names it."""
    if status == 400 and code != "task_not_exist":
        code = "invalid_request"
    return {"code": code, "message": message, "data": None}
