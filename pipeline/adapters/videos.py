"""Family "videos": the OpenAI-style `/v1/videos` API (documents 000, 003 and 004)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from ..errors import InputError
from .common import Answer, BaseAdapter, check_task_id, http_url
from .contract import A, B, C, CreateRequest, R, TaskSnapshot

__all__ = ["VideosAdapter"]


class VideosAdapter(BaseAdapter[C, B, R, A]):
    """Create (multipart or JSON), remix (create field or endpoint), status, content."""

    family = "videos"

    def snapshot(self, answer: Answer, task_id: str | None = None) -> TaskSnapshot:
        return self.video_snapshot(answer, task_id)

    async def create(self, req: CreateRequest, *, remix_task_id: str | None = None) -> TaskSnapshot:
        """Submit one create (or remix); never re-sent when its answer may have been lost."""
        self._check_request(req)
        fields: dict[str, Any] = dict(req.fields)
        if req.remix_of is not None:
            if remix_task_id is None:
                raise InputError(
                    f"shot {req.shot_id} remixes {req.remix_of}, whose task id is not known"
                )
            source = check_task_id(remix_task_id)
            if req.remix_via == "endpoint" and self.spec.has("remix"):
                return await self._remix(req, source)
            if req.remix_via == "create-field" and req.remix_field:
                fields[req.remix_field] = source
            else:
                raise InputError(
                    f"shot {req.shot_id}: {self.spec.name} cannot remix via {req.remix_via!r}"
                )
        body = self.build_body(req, fields, self._read_files(req))  # bad input fails here
        create = self.index.create
        return await self._submit(req, "create", lambda: create(client=self.client, body=body))

    async def _remix(self, req: CreateRequest, source: str) -> TaskSnapshot:
        rule = self.spec.fields.get("prompt")
        prompt = req.fields.get(rule.field if rule else "prompt")
        if not isinstance(prompt, str) or not prompt:
            raise InputError(f"shot {req.shot_id}: a remix needs a prompt")
        remix, body_cls = self.index.remix, self.index.REMIX_BODY
        if remix is None or body_cls is None:
            raise InputError(f"shot {req.shot_id}: {self.spec.name} has no remix call")
        try:
            body = body_cls.from_dict({"prompt": prompt})
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise InputError(
                f"shot {req.shot_id}: cannot build the {self.spec.name} remix body: {exc}"
            ) from exc
        return await self._submit(
            req, "remix", lambda: remix(source, client=self.client, body=body)
        )

    def content_path(self, task_id: str) -> str:
        """The content route for `task_id`, the id percent-encoded (slashes included)."""
        path = self.spec.operation("content").path
        return re.sub(r"\{[^}]+\}", lambda _m: quote(task_id, safe=""), path, count=1)

    async def targets(self, snapshot: TaskSnapshot) -> list[str]:
        """A result URL on another origin (`metadata.url`, `video_url`) first, fetched
        without Authorization; the content route next, or the result URL alone."""
        task_id = check_task_id(snapshot.task_id)
        targets: list[str] = []
        url = http_url(snapshot.result_url)
        if url is not None and not self.connection.is_api_origin(url):
            targets.append(url)
        if self.spec.has("content"):
            targets.append(self.content_path(task_id))
        elif url is not None:
            targets.append(url)
        return targets
