"""The emulator's ASGI app, built from the specs: every route of every spec is served.

What each route does comes from the role the spec's ``x-vidpipe.operations`` gives its
operation (an operation with the create call's body is a create alias) and from the API
family. Requests are validated against the spec, so a spec edit changes the emulator.
`routes` lists the routes; besides the spec routes there are the CDN (`cdn`) and the
emulator's own stats, reset and health routes (`control`).

A prompt containing ``[emulator:fail]`` makes its task fail; ``[emulator:expire]`` makes
its content expire as soon as it completes.
"""

from __future__ import annotations

import logging

from starlette.routing import Router
from starlette.types import Message, Receive, Scope, Send

from .config import EmulatorConfig
from .faults import DropConnection
from .instance import Emulator
from .routes import routes
from .wire.errors import error_response

__all__ = ["Emulator", "EmulatorApp", "create_app"]

log = logging.getLogger("vidpipe.emulator")


class EmulatorApp:
    """The ASGI app: the spec routes plus the emulator's own, with a JSON 500 for bugs.

    `DropConnection` is let through on purpose: the server layer drops the connection.
    """

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.router = Router(routes(emulator), default=self._not_found)

    @property
    def config(self) -> EmulatorConfig:
        return self.emulator.config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.router(scope, receive, tracking_send)
        except DropConnection:
            raise
        except Exception as exc:
            log.exception("emulator error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise DropConnection() from exc
            answer = error_response(None, 500, "Internal emulator error.", code="internal_error")
            await answer(scope, receive, send)

    async def _not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = error_response(
            None, 404, f"Unknown route {scope.get('path')}.", code="unknown_url"
        )
        await answer(scope, receive, send)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(config: EmulatorConfig | None = None) -> EmulatorApp:
    """The emulator as an ASGI app serving every route of every spec in the registry."""
    return EmulatorApp(Emulator(config or EmulatorConfig()))
