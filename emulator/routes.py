"""The route table: every route of every spec, the CDN and the emulator's own routes.

Several specs may share a route (for example ``POST /v1/videos``); see `create` for how a
create picks its spec. Every spec route is also served under ``/{api}/...`` (for example
``/newapi/v1/videos``), where only that API's specs are considered. Task routes (status,
content, remix) follow the task.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .cdn import CdnRoute
from .content import content
from .control import ControlRoutes
from .create import create, remix
from .entries import Entry, route_shape, spec_entries
from .handling import Role, SpecRoute
from .instance import Emulator
from .status import status

__all__ = ["ROLES", "routes"]

#: What each role of ``x-vidpipe.operations`` does.
ROLES: Mapping[str, Role] = {
    "create": create,
    "status": status,
    "content": content,
    "remix": remix,
}

Handler = Callable[[Request], Awaitable[Response]]


def routes(emu: Emulator) -> list[BaseRoute]:
    """Every route `emu` serves."""
    control = ControlRoutes(emu)
    table: list[BaseRoute] = [
        Route("/_emulator/stats", control.stats, methods=["GET"]),
        Route("/_emulator/reset", control.reset, methods=["POST"]),
        Route("/_emulator/health", control.health, methods=["GET"]),
        Route("/cdn/{name}", CdnRoute(emu).handle, methods=["GET"]),
    ]
    grouped: dict[tuple[str, str], list[Entry]] = {}
    for spec in emu.registry:
        for entry in spec_entries(spec):
            key = (entry.operation.method, route_shape(entry.operation.path))
            grouped.setdefault(key, []).append(entry)
    prefixes: list[tuple[str, str | None]] = [("", None)]
    prefixes += [(f"/{api}", api) for api in emu.registry.apis()]
    by_path: dict[str, dict[str, Handler]] = {}
    for prefix, api in prefixes:
        for (method, shape), entries in grouped.items():
            chosen = [e for e in entries if api is None or e.spec.api == api]
            if chosen:
                role = next((e.role for e in chosen if e.role), None)
                handler = SpecRoute(emu, chosen, ROLES.get(role) if role else None)
                by_path.setdefault(prefix + shape, {})[method] = handler.handle
    for path, methods in by_path.items():
        table.append(Route(path, _by_method(methods), methods=list(methods)))
    return table


def _by_method(methods: Mapping[str, Handler]) -> Handler:
    if len(methods) == 1:
        return next(iter(methods.values()))

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await methods[method](request)

    return dispatch
