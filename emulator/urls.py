"""The origins the emulator puts into its answers: the API's and the CDN's."""

from __future__ import annotations

from starlette.requests import Request

from .config import EmulatorConfig

__all__ = ["origins", "other_host"]


def origins(config: EmulatorConfig, request: Request) -> tuple[str, str]:
    """The API and CDN origins for answers to `request`: the configured ones, else derived
    from the request's Host (the CDN then on the other loopback name)."""
    host = request.headers.get("host") or request.url.netloc
    base = config.base_url or f"{request.url.scheme}://{host}"
    cdn = config.cdn_base_url or f"{request.url.scheme}://{other_host(host)}"
    return base, cdn


def other_host(host: str) -> str:
    """The other loopback name for the same server: the CDN's origin when served locally."""
    name, sep, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    if not sep:
        name, port = host, ""
    swapped = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}.get(name.lower(), name)
    return f"{swapped}:{port}" if port else swapped
