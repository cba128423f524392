"""Answers of the `/v1/videos` family (OpenAI style): the Video object and the error body."""

from __future__ import annotations

from typing import Any

from ..task import Snapshot, Task, unix

__all__ = ["error_body", "video_object"]


def video_object(task: Task, snap: Snapshot, url: str | None) -> dict[str, Any]:
    """The OpenAI-style Video object of a `/v1/videos` task."""
    video: dict[str, Any] = {
        "id": task.id,
        "object": "video",
        "model": task.model,
        "status": snap.status,
        "progress": snap.progress,
        "created_at": int(task.created_at),
        "completed_at": unix(snap.completed_at),
        "expires_at": unix(snap.expires_at),
        "prompt": task.prompt,
        "seconds": task.seconds_text,
        "size": task.size,
        "remixed_from_video_id": task.remixed_from,
        "error": None,
        "task_id": task.id,
    }
    if snap.status == "failed":
        video["error"] = {"code": "video_generation_failed", "message": task.error_message}
    if snap.status == "completed" and url:
        video["metadata"] = {"url": url}
        video["video_url"] = url
    return video


def error_body(status: int, message: str, code: str, param: str | None) -> dict[str, Any]:
    """``{error: {message, type, param, code}}``, typed by the HTTP status."""
    kind = "invalid_request_error"
    if status == 429:
        kind = "requests"
    elif status >= 500:
        kind = "server_error"
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
