"""Answers of the `/v1/videos` family (OpenAI style): the Video object, a page of them and
the answer to a delete."""

from __future__ import annotations

from typing import Any

from ..task import Snapshot, Task, unix
from ..words import StatusWords

__all__ = ["deleted_video", "video_list", "video_object"]


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


def video_list(videos: list[dict[str, Any]], *, has_more: bool) -> dict[str, Any]:
    """A page of Video objects: ``{object: list, data, first_id, last_id, has_more}``."""
    return {
        "object": "list",
        "data": videos,
        "first_id": videos[0]["id"] if videos else None,
        "last_id": videos[-1]["id"] if videos else None,
        "has_more": has_more,
    }


def deleted_video(task_id: str) -> dict[str, Any]:
    """The answer to a delete: ``{id, object: video.deleted, deleted: true}``."""
    return {"id": task_id, "object": "video.deleted", "deleted": True}
