"""The origins the emulator puts into its answers: the API's and the CDN's.

Configured ones (`EmulatorConfig.base_url`, `cdn_base_url`; ``--public-url``) win. Otherwise
they come from the Host each request was sent to, so a client on another machine gets URLs
it can use; on loopback the CDN is the other loopback name (localhost for 127.0.0.1 and
back), a second origin on the same server.
"""

from __future__ import annotations

import re

from starlette.requests import Request

from .config import EmulatorConfig

__all__ = ["origins", "other_host", "request_host"]

_HOST_RE = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:\d{1,5})?")


def origins(config: EmulatorConfig, request: Request) -> tuple[str, str]:
    """The API and CDN origins for answers to `request`."""
    host = request_host(request)
    base = config.base_url or f"{request.url.scheme}://{host}"
    cdn = config.cdn_base_url or config.base_url or f"{request.url.scheme}://{other_host(host)}"
    return base, cdn


def request_host(request: Request) -> str:
    """The Host the request was sent to; the server's own address if that is absent or
    not a plain ``name[:port]``."""
    host = request.headers.get("host", "")
    if _HOST_RE.fullmatch(host):
        return host
    server = request.scope.get("server") or ("127.0.0.1", None)
    name = f"[{server[0]}]" if ":" in str(server[0]) else str(server[0])
    return f"{name}:{server[1]}" if server[1] else name


def other_host(host: str) -> str:
    """The other loopback name for the same server: the CDN's origin when served locally."""
    name, sep, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    if not sep:
        name, port = host, ""
    swapped = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}.get(name.lower(), name)
    return f"{swapped}:{port}" if port else swapped
