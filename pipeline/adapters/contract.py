"""The types the runner and the provider adapters exchange."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import attrs

from ..download import DownloadResult, ProgressFn
from ..requests import CreateRequest, LocalFile
from ..specs import Spec
from ..states import TaskState

__all__ = [
    "Adapter",
    "CreateRequest",
    "LocalFile",
    "TaskSnapshot",
    "TaskState",
]


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
        self, req: CreateRequest, *, remix_task_id: str | None = None
    ) -> TaskSnapshot: ...

    async def status(self, task_id: str) -> TaskSnapshot: ...

    async def download(
        self, snapshot: TaskSnapshot, dest: Path, *, on_progress: ProgressFn | None = None
    ) -> DownloadResult: ...
