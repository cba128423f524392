"""The types the runner and the provider adapters exchange, and what an adapter needs from a
generated client.

`ClientIndex` is the shape of the `index` module that `make regen` writes into every generated
package: the operation functions by role, the create and remix body classes, the answer
classes, the client class and `File`. The adapters reach a generated client only through it;
`adapters/registry.py` (also written by `make regen`) holds every index typed as a
`ClientIndex` of its own classes, so `make typecheck` fails when one does not fit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Collection, Mapping
from pathlib import Path
from typing import Any, BinaryIO, Protocol, Self, TypeAlias, TypeVar

import attrs

from ..download import DownloadResult, ProgressFn
from ..requests import CreateRequest, LocalFile
from ..specs import Spec
from ..states import TaskState
from ..transport import ApiClient, ClientFactory

__all__ = [
    "Adapter",
    "AnswerModel",
    "AnyIndex",
    "ApiClient",
    "ApiResponse",
    "BodyModel",
    "ClientFactory",
    "ClientIndex",
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
    #: The answer as read: a generated model, or the decoded JSON of an answer that did
    #: not match the spec.
    raw: object
    #: The status word the answer gave that the spec does not map (`state` is then
    #: "running"), or None.
    unmapped: str | None = None
    #: What the answer says the task was charged, in USD (`x-vidpipe.spend`), or None.
    spend_usd: float | None = None


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

    async def find_task(
        self,
        req: CreateRequest,
        *,
        since: float,
        known: Collection[str],
        remix_task_id: str | None = None,
    ) -> TaskSnapshot | None: ...


# -- what a generated client offers (structural: every package has its own classes) --------


class BodyModel(attrs.AttrsInstance, Protocol):
    """A generated request body class (an attrs class)."""

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self: ...


class AnswerModel(Protocol):
    """A generated answer class (a Video, a task envelope): it keeps unknown fields."""

    @property
    def additional_properties(self) -> dict[str, Any]: ...


class ApiResponse(Protocol):
    """What a generated `asyncio_detailed` function returns."""

    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def parsed(self) -> object: ...


C = TypeVar("C", bound=ApiClient)
B = TypeVar("B", bound=BodyModel)
R = TypeVar("R", bound=BodyModel)
A = TypeVar("A", bound=AnswerModel)
A_co = TypeVar("A_co", bound=AnswerModel, covariant=True)
C_contra = TypeVar("C_contra", contravariant=True)
B_contra = TypeVar("B_contra", contravariant=True)


class FileFactory(Protocol):
    """The generated `types.File` class: a file part with its name and media type."""

    def __call__(self, *, payload: BinaryIO, file_name: str, mime_type: str) -> object: ...


class CreateCall(Protocol[C_contra, B_contra]):
    """The create operation: a body, no path parameters."""

    def __call__(self, *, client: C_contra, body: B_contra) -> Awaitable[ApiResponse]: ...


class TaskCall(Protocol[C_contra]):
    """An operation on one task (status, content): the task id is the path parameter."""

    def __call__(self, task_id: str, /, *, client: C_contra) -> Awaitable[ApiResponse]: ...


class TaskBodyCall(Protocol[C_contra, B_contra]):
    """An operation on one task that takes a body (remix)."""

    def __call__(
        self, task_id: str, /, *, client: C_contra, body: B_contra
    ) -> Awaitable[ApiResponse]: ...


class ClientIndex(Protocol[C, B, R, A_co]):
    """A generated client's `index` module.

    Type parameters: the client class, the create body class(es), the remix body class
    (`Never` without a remix call) and the answer class(es).
    """

    SPEC: str
    SPEC_SHA256: str

    @property
    def AuthenticatedClient(self) -> ClientFactory[C]: ...

    @property
    def File(self) -> FileFactory: ...

    @property
    def Unset(self) -> type[object]: ...

    @property
    def create(self) -> CreateCall[C, B]: ...

    @property
    def status(self) -> TaskCall[C]: ...

    @property
    def content(self) -> TaskCall[C] | None: ...

    @property
    def remix(self) -> TaskBodyCall[C, R] | None: ...

    @property
    def CREATE_BODIES(self) -> Mapping[str, type[B]]: ...

    @property
    def REMIX_BODY(self) -> type[R] | None: ...

    @property
    def ANSWERS(self) -> tuple[type[A_co], ...]: ...


#: An index whose classes are known only at run time (the spec is picked by the storyboard).
AnyIndex: TypeAlias = ClientIndex[Any, Any, Any, Any]
