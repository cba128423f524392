"""Family "generations": `/v1/video/generations` with the new-api task envelope (001, 002)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from ..download import DownloadResult, ProgressFn
from ..errors import InputError
from ..retry import poll_hint_seconds
from ..specs import Spec
from ..transport import MalformedAnswer
from .common import (
    Answer,
    BaseAdapter,
    check_task_id,
    dig,
    error_text,
    http_url,
    parse_progress,
    state_of,
    video_snapshot,
)
from .contract import CreateRequest, TaskSnapshot

__all__ = ["GenerationsAdapter", "envelope_snapshot"]


def _is_envelope(data: Mapping[str, Any]) -> bool:
    return "id" not in data and isinstance(data.get("data"), Mapping)


def envelope_snapshot(
    spec: Spec, data: Mapping[str, Any], headers: httpx.Headers, task_id: str | None = None
) -> TaskSnapshot:
    """A snapshot from the `{code, message, data: {...}}` task envelope.

    The envelope's status decides when the spec knows it, then the raw upstream status in
    `data.data` (Seedance `status`, DashScope `output.task_status`); unknown words mean
    the task is still running.
    """
    task: Mapping[str, Any] = data["data"]
    upstream: Any = task.get("data")
    envelope_status = task.get("status")
    upstream_status = dig(upstream, "status") or dig(upstream, "output", "task_status")
    state = state_of(spec, envelope_status, upstream_status)
    found = task.get("task_id") or task_id
    if not found:
        raise MalformedAnswer("the task envelope names no task id")
    fail_reason = task.get("fail_reason")
    reason_url = http_url(fail_reason)
    result_url = (
        http_url(task.get("result_url"))
        or (reason_url if state == "succeeded" else None)  # old data kept the URL here
        or http_url(dig(upstream, "content", "video_url"))
        or http_url(dig(upstream, "output", "video_url"))
    )
    error = None
    if state == "failed":
        error = (
            (fail_reason if isinstance(fail_reason, str) and fail_reason else None)
            or error_text(dig(upstream, "error"))
            or error_text(dig(upstream, "output", "message"))
            or error_text(data.get("message"))
        )
    raw_status = envelope_status if envelope_status is not None else upstream_status
    return TaskSnapshot(
        task_id=str(found),
        state=state,
        raw_status="" if raw_status is None else str(raw_status),
        progress=parse_progress(task.get("progress")),
        poll_after=poll_hint_seconds(headers),
        result_url=result_url,
        error=error,
        raw=dict(data),
    )


class GenerationsAdapter(BaseAdapter):
    """Create (JSON, images as URLs or data: URLs), status (envelope or Video), result URL."""

    family = "generations"

    def snapshot(self, answer: Answer, task_id: str | None = None) -> TaskSnapshot:
        if _is_envelope(answer.data):
            return envelope_snapshot(self.spec, answer.data, answer.headers, task_id)
        return video_snapshot(self.spec, answer.data, answer.headers, task_id)

    async def create(self, req: CreateRequest, *, remix_task_id: str | None = None) -> TaskSnapshot:
        """Submit one create; never re-sent when its answer may have been lost."""
        self._check_request(req)
        if req.remix_of is not None:
            raise InputError(f"shot {req.shot_id}: {self.spec.name} has no remix call")
        if req.files:
            raise InputError(
                f"shot {req.shot_id}: {self.spec.name} takes images as URLs, not file parts"
            )
        fields = {key: value for key, value in req.fields.items()}
        self.build_body(req, fields, {})  # bad input fails here, before anything is sent
        module = self._ops["create"]
        return await self._submit(
            req,
            "create",
            lambda: module.asyncio_detailed(
                client=self.client, body=self.build_body(req, fields, {})
            ),
        )

    async def download(
        self, snapshot: TaskSnapshot, dest: Path, *, on_progress: ProgressFn | None = None
    ) -> DownloadResult:
        """Stream the result URL to `dest` (Authorization only if it is on the API origin)."""
        task_id = check_task_id(snapshot.task_id)
        url = http_url(snapshot.result_url)
        if url is None:
            url = http_url((await self.status(task_id)).result_url)
        return await self._download_from(
            [url] if url else [], dest, task_id=task_id, on_progress=on_progress
        )
