"""Family "generations": `/v1/video/generations` with the new-api task envelope (001, 002)."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from ..errors import InputError
from ..retry import poll_hint_seconds
from ..transport import MalformedAnswer
from .common import (
    Answer,
    BaseAdapter,
    check_task_id,
    error_text,
    http_url,
    parse_progress,
    state_of,
)
from .contract import A, B, C, CreateRequest, R, TaskSnapshot

__all__ = ["GenerationsAdapter"]


class GenerationsAdapter(BaseAdapter[C, B, R, A]):
    """Create (JSON, images as URLs or data: URLs), status (envelope or Video), result URL."""

    family = "generations"

    def snapshot(self, answer: Answer, task_id: str | None = None) -> TaskSnapshot:
        read = self.read
        task = read(answer.body, "data")
        if read(answer.body, "id") is None and (isinstance(task, Mapping) or attrs.has(type(task))):
            return self.envelope_snapshot(answer, task_id)
        return self.video_snapshot(answer, task_id)

    def envelope_snapshot(self, answer: Answer, task_id: str | None = None) -> TaskSnapshot:
        """A snapshot from the `{code, message, data: {...}}` task envelope.

        The envelope's status decides when the spec knows it, then the raw upstream status in
        `data.data` (Seedance `status`, DashScope `output.task_status`); unknown words mean
        the task is still running until polling's grace period for them runs out.
        """
        read, body = self.read, answer.body
        task = read(body, "data")
        upstream = read(task, "data")
        envelope_status = read(task, "status")
        upstream_status = read(upstream, "status") or read(upstream, "output", "task_status")
        state, unmapped = state_of(self.spec, envelope_status, upstream_status)
        found = read(task, "task_id") or task_id
        if not found:
            raise MalformedAnswer("the task envelope names no task id")
        fail_reason = read(task, "fail_reason")
        reason_url = http_url(fail_reason)
        result_url = (
            http_url(read(task, "result_url"))
            or (reason_url if state == "succeeded" else None)  # old data kept the URL here
            or http_url(read(upstream, "content", "video_url"))
            or http_url(read(upstream, "output", "video_url"))
        )
        error = None
        if state == "failed":
            error = (
                (fail_reason if isinstance(fail_reason, str) and fail_reason else None)
                or error_text(read, read(upstream, "error"))
                or error_text(read, read(upstream, "output", "message"))
                or error_text(read, read(body, "message"))
            )
        raw_status = envelope_status if envelope_status is not None else upstream_status
        return TaskSnapshot(
            task_id=str(found),
            state=state,
            raw_status="" if raw_status is None else str(raw_status),
            progress=parse_progress(read(task, "progress")),
            poll_after=poll_hint_seconds(answer.headers),
            result_url=result_url,
            error=error,
            raw=body,
            unmapped=unmapped,
            spend_usd=self.spend(answer),
        )

    async def create(self, req: CreateRequest, *, remix_task_id: str | None = None) -> TaskSnapshot:
        """Submit one create; never re-sent when its answer may have been lost."""
        self._check_request(req)
        if req.remix_of is not None:
            raise InputError(f"shot {req.shot_id}: {self.spec.name} has no remix call")
        if req.files:
            raise InputError(
                f"shot {req.shot_id}: {self.spec.name} takes images as URLs, not file parts"
            )
        body = self.build_body(req, req.fields, {})  # bad input fails here, before sending
        create = self.index.create
        return await self._submit(req, "create", lambda: create(client=self.client, body=body))

    async def targets(self, snapshot: TaskSnapshot) -> list[str]:
        """The result URL (Authorization only if it is on the API origin); a snapshot
        without one is read again for it."""
        url = http_url(snapshot.result_url)
        if url is None:
            url = http_url((await self.status(check_task_id(snapshot.task_id))).result_url)
        return [url] if url else []
