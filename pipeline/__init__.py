"""vidpipe: turn a YAML storyboard into finished AI-generated videos.

    import vidpipe
    board = vidpipe.load("storyboard.yaml")
    for shot in vidpipe.plan(board):
        print(shot.shot_id, shot.state)
    result = vidpipe.run(board)            # or: await pipeline.run_async(board)

Names are imported on first use, so `make regen` and `vidpipe schema` never load the
generated clients.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "load": "loading",
    "loads": "loading",
    "from_dict": "loading",
    "storyboard_schema": "loading",
    "Storyboard": "model",
    "Shot": "model",
    "ProviderConfig": "model",
    "FinalCut": "model",
    "plan": "runner",
    "run": "runner",
    "run_async": "runner",
    "RunOptions": "runner",
    "PlannedShot": "runner",
    "RunResult": "manifest",
    "ShotResult": "manifest",
    "FinalResult": "manifest",
    "ShotEvent": "events",
    "build_requests": "requests",
    "CreateRequest": "requests",
    "Spec": "specs",
    "SpecRegistry": "specs",
    "default_registry": "specs",
    "VidpipeError": "errors",
    "InputError": "errors",
    "Problem": "errors",
    "SpecError": "errors",
    "StateError": "errors",
    "StateLocked": "errors",
    "ProviderError": "errors",
    "TransportError": "errors",
    "HTTPStatusError": "errors",
    "TaskFailed": "errors",
    "PollTimeout": "errors",
    "ContentExpired": "errors",
    "UnknownCreate": "errors",
    "IntegrityError": "errors",
}

__all__ = [
    "ContentExpired",
    "CreateRequest",
    "FinalCut",
    "FinalResult",
    "HTTPStatusError",
    "InputError",
    "IntegrityError",
    "PlannedShot",
    "PollTimeout",
    "Problem",
    "ProviderConfig",
    "ProviderError",
    "RunOptions",
    "RunResult",
    "Shot",
    "ShotEvent",
    "ShotResult",
    "Spec",
    "SpecError",
    "SpecRegistry",
    "StateError",
    "StateLocked",
    "Storyboard",
    "TaskFailed",
    "TransportError",
    "UnknownCreate",
    "VidpipeError",
    "__version__",
    "build_requests",
    "default_registry",
    "from_dict",
    "load",
    "loads",
    "plan",
    "run",
    "run_async",
    "storyboard_schema",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vidpipe' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from .errors import (
        ContentExpired,
        HTTPStatusError,
        InputError,
        IntegrityError,
        PollTimeout,
        Problem,
        ProviderError,
        SpecError,
        StateError,
        StateLocked,
        TaskFailed,
        TransportError,
        UnknownCreate,
        VidpipeError,
    )
    from .events import ShotEvent
    from .loading import from_dict, load, loads, storyboard_schema
    from .manifest import FinalResult, RunResult, ShotResult
    from .model import FinalCut, ProviderConfig, Shot, Storyboard
    from .requests import CreateRequest, build_requests
    from .runner import PlannedShot, RunOptions, plan, run, run_async
    from .specs import Spec, SpecRegistry, default_registry
