"""Provider adapters: one per API family, over the generated clients.

`make_adapter(spec, connection)` gives the adapter for a spec's family ("videos" or
"generations"). Every adapter creates a task, reads its status as a `TaskSnapshot` in
vidpipe's states (mapped through the spec's `x-vidpipe-status`), and streams its video to
disk. Failures come out as the `vidpipe.errors` classes.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from ..download import DownloadResult
from ..errors import SpecError
from ..retry import RetryPolicies
from ..specs import Spec
from ..transport import Connection
from .common import BaseAdapter, check_task_id
from .contract import Adapter, CreateRequest, LocalFile, TaskSnapshot, TaskState
from .generations import GenerationsAdapter
from .videos import VideosAdapter

__all__ = [
    "Adapter",
    "CreateRequest",
    "DownloadResult",
    "GenerationsAdapter",
    "LocalFile",
    "TaskSnapshot",
    "TaskState",
    "VideosAdapter",
    "check_task_id",
    "make_adapter",
]

_FAMILIES: dict[str, type[BaseAdapter]] = {
    "videos": VideosAdapter,
    "generations": GenerationsAdapter,
}


def make_adapter(
    spec: Spec,
    connection: Connection,
    *,
    retries: RetryPolicies | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> Adapter:
    """The adapter for `spec`'s API family, talking through `connection`."""
    cls = _FAMILIES.get(spec.family)
    if cls is None:
        raise SpecError(f"no adapter for family {spec.family!r}", spec=spec.name)
    return cls(spec, connection, retries=retries, sleep=sleep, rng=rng)
