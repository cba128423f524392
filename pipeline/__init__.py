"""vidpipe: turn a YAML storyboard into finished AI-generated videos.

    import vidpipe
    for shot in vidpipe.plan("storyboard.yaml"):
        print(shot.shot_id, shot.state)
    result = vidpipe.run("storyboard.yaml", vidpipe.RunOptions(out_dir="out"))
    result["establish"].file                # or: await vidpipe.run_async("storyboard.yaml")

Names are imported on first use, so `make regen` and `vidpipe schema` never load the
generated clients. `_EXPORTS` below is the one list of exported names (`__all__`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .version import __version__

# Every public name, and the module it comes from.
_EXPORTS = {
    "load": "loading",
    "loads": "loading",
    "from_dict": "loading",
    "storyboard_schema": "loading",
    "Storyboard": "model",
    "Shot": "model",
    "ProviderConfig": "model",
    "FinalCut": "model",
    "plan": "api",
    "run": "api",
    "run_async": "api",
    "embedded_emulator": "api",
    "RunOptions": "runner",
    "PlannedShot": "runner",
    "EmbeddedGateway": "runner",
    "GatewayFactory": "runner",
    "RunResult": "manifest",
    "ShotResult": "manifest",
    "FinalResult": "manifest",
    "ShotEvent": "events",
    "ShotState": "states",
    "TaskState": "states",
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
    "ResultRefused": "errors",
    "UnknownCreate": "errors",
    "WriteError": "errors",
    "IntegrityError": "errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vidpipe' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # the same names, for type checkers (`X as X` marks a re-export)
    from .api import embedded_emulator as embedded_emulator
    from .api import plan as plan
    from .api import run as run
    from .api import run_async as run_async
    from .errors import ContentExpired as ContentExpired
    from .errors import HTTPStatusError as HTTPStatusError
    from .errors import InputError as InputError
    from .errors import IntegrityError as IntegrityError
    from .errors import PollTimeout as PollTimeout
    from .errors import Problem as Problem
    from .errors import ProviderError as ProviderError
    from .errors import ResultRefused as ResultRefused
    from .errors import SpecError as SpecError
    from .errors import StateError as StateError
    from .errors import StateLocked as StateLocked
    from .errors import TaskFailed as TaskFailed
    from .errors import TransportError as TransportError
    from .errors import UnknownCreate as UnknownCreate
    from .errors import VidpipeError as VidpipeError
    from .errors import WriteError as WriteError
    from .events import ShotEvent as ShotEvent
    from .loading import from_dict as from_dict
    from .loading import load as load
    from .loading import loads as loads
    from .loading import storyboard_schema as storyboard_schema
    from .manifest import FinalResult as FinalResult
    from .manifest import RunResult as RunResult
    from .manifest import ShotResult as ShotResult
    from .model import FinalCut as FinalCut
    from .model import ProviderConfig as ProviderConfig
    from .model import Shot as Shot
    from .model import Storyboard as Storyboard
    from .requests import CreateRequest as CreateRequest
    from .requests import build_requests as build_requests
    from .runner import EmbeddedGateway as EmbeddedGateway
    from .runner import GatewayFactory as GatewayFactory
    from .runner import PlannedShot as PlannedShot
    from .runner import RunOptions as RunOptions
    from .specs import Spec as Spec
    from .specs import SpecRegistry as SpecRegistry
    from .specs import default_registry as default_registry
    from .states import ShotState as ShotState
    from .states import TaskState as TaskState
