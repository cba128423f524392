"""The types the runner and the provider adapters exchange."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

import attrs

from ..download import DownloadResult, ProgressFn
from ..specs import Spec

__all__ = [
    "Adapter",
    "CreateRequest",
    "CreateRequestLike",
    "LocalFile",
    "LocalFileLike",
    "TaskSnapshot",
    "TaskState",
]

TaskState = Literal["queued", "running", "succeeded", "failed"]


@attrs.frozen
class LocalFile:
    """A local file to upload, as checked when the storyboard was loaded."""

    path: Path
    sha256: str
    mime: str
    size: int


@attrs.frozen
class CreateRequest:
    """One fully resolved create call.

    `fields` maps API field names to values; a `LocalFile` value (also inside seedance
    content items, in place of the url) is sent as a `data:` URL. `files` are multipart
    file parts.
    """

    shot_id: str
    spec: Spec
    model: str
    fields: Mapping[str, Any]
    files: Mapping[str, LocalFile]
    content_type: str
    remix_of: str | None
    remix_via: str | None
    remix_field: str | None


class LocalFileLike(Protocol):
    """Anything shaped like `LocalFile` (the request builder may keep its own class)."""

    @property
    def path(self) -> Path: ...
    @property
    def sha256(self) -> str: ...
    @property
    def mime(self) -> str: ...
    @property
    def size(self) -> int: ...


class CreateRequestLike(Protocol):
    """Anything shaped like `CreateRequest`: what the adapters read from a request."""

    @property
    def shot_id(self) -> str: ...
    @property
    def spec(self) -> Spec: ...
    @property
    def model(self) -> str: ...
    @property
    def fields(self) -> Mapping[str, Any]: ...
    @property
    def files(self) -> Mapping[str, LocalFileLike]: ...
    @property
    def content_type(self) -> str: ...
    @property
    def remix_of(self) -> str | None: ...
    @property
    def remix_via(self) -> str | None: ...
    @property
    def remix_field(self) -> str | None: ...


@attrs.frozen
class TaskSnapshot:
    """What a provider said about a task, in vidpipe's words."""

    task_id: str
    state: TaskState
    raw_status: str
    progress: int | None
    poll_after: float | None  # seconds, from openai-poll-after-ms / Retry-After
    result_url: str | None
    error: str | None
    raw: Mapping[str, Any]


class Adapter(Protocol):
    """One API family over a generated client."""

    spec: Spec

    async def create(
        self, req: CreateRequestLike, *, remix_task_id: str | None = None
    ) -> TaskSnapshot: ...

    async def status(self, task_id: str) -> TaskSnapshot: ...

    async def download(
        self, snapshot: TaskSnapshot, dest: Path, *, on_progress: ProgressFn | None = None
    ) -> DownloadResult: ...
