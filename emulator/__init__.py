"""The embedded provider emulator: a real HTTP server built from the specs in specs/.

Use it in-process with `EmbeddedEmulator` (an httpx transport), as an ASGI app with
`create_app`, or on a port with `serve` / ``vidpipe emulator``.
"""

from __future__ import annotations

from .app import create_app
from .config import EmulatorConfig
from .faults import Faults
from .server import EmbeddedEmulator, running_server, serve

__all__ = ["EmbeddedEmulator", "EmulatorConfig", "Faults", "create_app", "running_server", "serve"]
