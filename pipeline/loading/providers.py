"""`providers:` into ProviderConfigs, each speaking an API the spec registry knows.

The API names are the registry's (`SpecRegistry.apis()`): adding a spec adds an API, with
no list to update here. Provider values are never repeated in a message, since a key or
a URL with credentials may have been written in the wrong place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..model import EMBEDDED, ProviderConfig
from ..ratelimit import parse_rate
from ..transport import header_safe
from .findings import Findings, suggest
from .prices import provider_prices
from .yamllines import YamlPath

__all__ = ["build_providers"]


def build_providers(
    findings: Findings, value: Any, apis: Sequence[str]
) -> dict[str, ProviderConfig]:
    """Every provider by name. One with a problem is kept under its name with api "?",
    so the shots that name it are not reported as naming an unknown provider."""
    providers: dict[str, ProviderConfig] = {}
    for name, block in (value or {}).items() if isinstance(value, dict) else ():
        path: YamlPath = ("providers", name)
        config = _provider(findings, name, block or {}, apis)
        providers[name] = config or ProviderConfig(name=name, api="?", line=findings.line(path))
    return providers


def _provider(
    findings: Findings, name: str, block: Mapping[str, Any], apis: Sequence[str]
) -> ProviderConfig | None:
    path: YamlPath = ("providers", name)
    api = _api(findings, name, block.get("api"), apis)
    if api is None or not findings.usable(path):
        return None
    rate = None
    if block.get("rate") is not None:
        try:
            rate = parse_rate(block["rate"])
        except ValueError as exc:
            findings.add(f"provider {name!r}: {exc}", (*path, "rate"), value=True)
            return None
    try:  # a number, or digits read from the environment; none: no limit of its own
        raw = block.get("concurrency")
        concurrency = None if raw is None or raw == "" else int(raw)
    except ValueError:
        findings.add(
            f"provider {name!r}: concurrency must be a whole number, 1 or more",
            (*path, "concurrency"),
            value=True,
        )
        return None
    api_key = (block.get("api_key") or "").strip()
    if not header_safe(api_key):
        findings.add(
            f"provider {name!r}: api_key has characters an HTTP header cannot carry "
            "(only visible ASCII: no spaces, accents or control characters)",
            (*path, "api_key"),
            value=True,
        )
        return None
    lines = {key: findings.line((*path, key)) for key in block}
    return ProviderConfig(
        name=name,
        api=api,
        base_url=_base_url(block.get("base_url")),
        api_key=api_key,
        concurrency=concurrency,
        rate=rate,
        allow_private_urls=block.get("allow_private_urls") is True,
        prices=provider_prices(findings, name, block.get("prices")),
        line=findings.line(path),
        lines={key: line for key, line in lines.items() if line is not None},
    )


def _api(findings: Findings, name: str, api: Any, apis: Sequence[str]) -> str | None:
    """The provider's API: `api:`, or its own name when that is an API."""
    path: YamlPath = ("providers", name)
    known = ", ".join(apis)
    if api is None:
        if name in apis:
            return name
        findings.add(f"provider {name!r} needs `api:` (one of {known})", path)
        return None
    if not findings.usable((*path, "api")):
        return None
    if api not in apis:
        findings.add(
            f"provider {name!r}: api must be one of {known}{suggest(api, apis)}",
            (*path, "api"),
            value=True,
        )
        return None
    return str(api)


def _base_url(value: str | None) -> str:
    """`embedded` (also for an empty value), or the URL without a trailing slash."""
    url = (value or "").strip()
    return EMBEDDED if url in ("", EMBEDDED) else url.rstrip("/")
