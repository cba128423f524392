"""Provider connections for a run: one per provider in use, to its gateway or the embedded one.

The runner never imports the emulator. A provider whose `base_url` is `embedded` is served
by whatever `EmbeddedGateway` the caller's `GatewayFactory` opens; `vidpipe.api` (the
public API) and the CLI hand in the built-in emulator.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

import httpx

from ..errors import InputError, Problem
from ..model import ProviderConfig, Storyboard
from ..pool import http_transport
from ..ratelimit import RateLimitedTransport, RateLimiter
from ..transport import Connection, HandOff

__all__ = ["EmbeddedGateway", "GatewayFactory", "TransportFor", "connections", "need_gateway"]

#: The key sent to an embedded gateway when the storyboard gives none.
EMBEDDED_KEY = "vidpipe-embedded"


class EmbeddedGateway(Protocol):
    """What `base_url: embedded` goes to: a base URL per API and an httpx transport to it."""

    def api_base_url(self, api: str) -> str: ...

    def transport(self) -> httpx.AsyncBaseTransport: ...


#: Opens the embedded gateway for a run, given the state dir (where it may keep its tasks so
#: a rerun finds them); leaving the context closes it.
GatewayFactory = Callable[[Path], AbstractAsyncContextManager[EmbeddedGateway]]
#: Routes a provider to a transport (tests: in-process); None means real HTTP.
TransportFor = Callable[[ProviderConfig], httpx.AsyncBaseTransport | None]


def need_gateway(
    storyboard: Storyboard, names: set[str], transport_for: TransportFor | None
) -> list[Problem]:
    """Problems for embedded providers in use when no gateway is given for them."""
    return [
        Problem(
            f"provider {name!r} uses base_url: embedded, but this run has no embedded gateway "
            "(vidpipe.run and the vidpipe command provide one; RunOptions(gateway=...) does)",
            storyboard.source,
            storyboard.providers[name].lines.get("base_url", storyboard.providers[name].line),
        )
        for name in sorted(names)
        if storyboard.providers[name].is_embedded
        and (transport_for is None or transport_for(storyboard.providers[name]) is None)
    ]


@contextlib.asynccontextmanager
async def connections(
    storyboard: Storyboard,
    names: set[str],
    state_dir: Path,
    *,
    gateway: GatewayFactory | None,
    transport_for: TransportFor | None,
) -> AsyncIterator[Mapping[str, Connection]]:
    """One connection per provider in `names`; the embedded ones share one gateway."""
    embedded: EmbeddedGateway | None = None
    conns: dict[str, Connection] = {}
    async with contextlib.AsyncExitStack() as stack:
        for name in sorted(names):
            provider = storyboard.providers[name]
            transport = transport_for(provider) if transport_for else None
            if provider.is_embedded and transport is None:
                if gateway is None:
                    raise InputError(need_gateway(storyboard, {name}, transport_for))
                if embedded is None:
                    embedded = await stack.enter_async_context(gateway(state_dir))
                base_url = embedded.api_base_url(provider.api)
                api_key = provider.api_key or EMBEDDED_KEY
                transport = embedded.transport()
            else:
                base_url = provider.base_url if not provider.is_embedded else "http://embedded"
                api_key = provider.api_key
            if transport is not None and not isinstance(transport, httpx.AsyncHTTPTransport):
                # No network under it: a request leaves when it is handed over.
                transport = HandOff(transport)
            if provider.rate is not None:
                limiter = RateLimiter(provider.rate)
                inner = transport or http_transport()
                transport = RateLimitedTransport(inner, limiter, origin=base_url)
            conn = Connection(
                base_url,
                api_key,
                transport=transport,
                allow_private_urls=provider.allow_private_urls,
            )
            conns[name] = await stack.enter_async_context(conn)
        yield conns
