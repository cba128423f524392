"""The embedded provider emulator: a real HTTP server built from the specs in specs/.

Use it in-process with `EmbeddedEmulator` (an httpx transport), as an ASGI app with
`create_app`, or on a port with `serve` / ``vidpipe emulator``.

Names are imported on first use, so the `vidpipe` command starts without loading the
server, the renderer or PyAV.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "EmbeddedEmulator": "server",
    "EmulatorConfig": "config",
    "Faults": "faults",
    "create_app": "app",
    "running_server": "server",
    "serve": "server",
}

__all__ = ["EmbeddedEmulator", "EmulatorConfig", "Faults", "create_app", "running_server", "serve"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'emulator' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from .app import create_app
    from .config import EmulatorConfig
    from .faults import Faults
    from .server import EmbeddedEmulator, running_server, serve
