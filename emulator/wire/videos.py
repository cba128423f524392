"""Answers of the `/v1/videos` family (OpenAI style): the Video object."""

from __future__ import annotations

from typing import Any

from ..task import Snapshot, Task, unix
from ..words import StatusWords

__all__ = ["video_object"]


def video_object(task: Task, snap: Snapshot, url: str | None, words: StatusWords) -> dict[str, Any]:
    """The OpenAI-style Video object of a `/v1/videos` task, its status in `words`."""
    video: dict[str, Any] = {
        "id": task.id,
        "object": "video",
        "model": task.model,
        "status": words.word(snap.state, snap.through),
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
    if snap.state == "failed":
        video["error"] = {"code": "video_generation_failed", "message": task.error_message}
    if snap.state == "succeeded" and url:
        video["metadata"] = {"url": url}
        video["video_url"] = url
    return video
