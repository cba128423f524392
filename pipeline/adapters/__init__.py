"""Provider adapters: one per API family, over the generated clients.

`make_adapter(spec, connection)` gives the adapter for a spec's family ("videos" or
"generations"), driving the spec's generated client through its index (refused when the
client is missing or stale: `check_client`). Every adapter creates a task, reads its status
as a `TaskSnapshot` in vidpipe's states (mapped through the spec's `x-vidpipe-status`), and
streams its video to disk. Failures come out as the `vidpipe.errors` classes.
"""

from __future__ import annotations

from typing import Any

from ..download import DownloadResult
from ..errors import SpecError
from ..retry import RetryPolicies
from ..specs import Spec
from ..transport import Connection
from .clients import check_client, client_index
from .common import BaseAdapter, check_task_id
from .contract import Adapter, ClientIndex, CreateRequest, LocalFile, TaskSnapshot, TaskState
from .generations import GenerationsAdapter
from .videos import VideosAdapter

__all__ = [
    "Adapter",
    "ClientIndex",
    "CreateRequest",
    "DownloadResult",
    "GenerationsAdapter",
    "LocalFile",
    "TaskSnapshot",
    "TaskState",
    "VideosAdapter",
    "check_client",
    "check_task_id",
    "client_index",
    "make_adapter",
]

_FAMILIES: dict[str, type[BaseAdapter[Any, Any, Any, Any]]] = {
    "videos": VideosAdapter,
    "generations": GenerationsAdapter,
}


def make_adapter(
    spec: Spec,
    connection: Connection,
    *,
    retries: RetryPolicies | None = None,
    retry_busy_creates: bool = True,
) -> Adapter:
    """The adapter for `spec`'s API family, talking through `connection`.

    `retry_busy_creates=False` raises a create answered 429 at once (the run paces such
    creates with the provider's in-flight limit). Raises `SpecError` when the spec's
    generated client is missing or stale.
    """
    cls = _FAMILIES.get(spec.family)
    if cls is None:
        raise SpecError(f"no adapter for family {spec.family!r}", spec=spec.name)
    return cls(
        spec,
        connection,
        index=client_index(spec),
        retries=retries,
        retry_busy_creates=retry_busy_creates,
    )
