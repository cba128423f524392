"""The route table: every route of every spec, the CDN and the emulator's own routes.

Several specs may share a route (for example ``POST /v1/videos``); see `create` for how a
create picks its spec. Every spec route is also served under ``/{api}/...`` (for example
``/newapi/v1/videos``), where only that API's specs are considered: a group of specs
(``/anyfast/...``) or one spec by name (``/anyfast_sora/...``). Task routes (status,
content, remix, delete) follow the task. A method a route does not serve is a 405 with an
``Allow`` header and a JSON body in the route's family shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from .cdn import CdnRoute
from .content import content
from .control import ControlRoutes
from .create import create, remix
from .entries import Entry, route_shape, served_entries
from .handling import Role, SpecRoute
from .instance import Emulator
from .listing import delete_video, list_videos
from .status import status
from .wire.errors import error_response

__all__ = ["ROLES", "routes"]

#: What each role of ``x-vidpipe.operations`` (and the emulator's list and delete) does.
ROLES: Mapping[str, Role] = {
    "create": create,
    "status": status,
    "content": content,
    "remix": remix,
    "list": list_videos,
    "delete": delete_video,
}

Handler = Callable[[Request], Awaitable[Response]]


def routes(emu: Emulator) -> list[BaseRoute]:
    """Every route `emu` serves."""
    control = ControlRoutes(emu)
    own: dict[str, dict[str, Handler]] = {
        "/_emulator/stats": {"GET": control.stats},
        "/_emulator/reset": {"POST": control.reset},
        "/_emulator/health": {"GET": control.health},
        "/cdn/{name}": {"GET": CdnRoute(emu).handle},
    }
    table: list[BaseRoute] = [Route(p, _Methods(m, None)) for p, m in own.items()]
    grouped: dict[tuple[str, str], list[Entry]] = {}
    for spec in emu.registry:
        for entry in served_entries(spec):
            key = (entry.operation.method, route_shape(entry.operation.path))
            grouped.setdefault(key, []).append(entry)
    prefixes: list[tuple[str, str | None]] = [("", None)]
    prefixes += [(f"/{api}", api) for api in emu.registry.apis()]
    by_path: dict[str, dict[str, Handler]] = {}
    families: dict[str, str] = {}
    for prefix, api in prefixes:
        names = None if api is None else {s.name for s in emu.registry.for_api(api)}
        for (method, shape), entries in grouped.items():
            chosen = [e for e in entries if names is None or e.spec.name in names]
            if chosen:
                role = next((e.role for e in chosen if e.role), None)
                handler = SpecRoute(emu, chosen, ROLES.get(role) if role else None)
                by_path.setdefault(prefix + shape, {})[method] = handler.handle
                families.setdefault(prefix + shape, chosen[0].family)
    for path, methods in by_path.items():
        table.append(Route(path, _Methods(methods, families[path])))
    return table


class _Methods:
    """The ASGI app of one path: each method to its handler (HEAD as GET), others a 405."""

    def __init__(self, methods: Mapping[str, Handler], family: str | None) -> None:
        self.methods = dict(methods)
        self.family = family
        allowed = sorted({*self.methods, *(["HEAD"] if "GET" in self.methods else [])})
        self.allow = ", ".join(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        handler = self.methods.get("GET" if request.method == "HEAD" else request.method)
        if handler is None:
            response: Response = error_response(
                self.family,
                405,
                f"Method {request.method} is not allowed on {request.url.path}; "
                f"allowed: {self.allow}.",
                code="method_not_allowed",
                headers={"Allow": self.allow},
            )
        else:
            response = await handler(request)
        await response(scope, receive, send)
