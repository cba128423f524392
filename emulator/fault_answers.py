"""What a fault that fired does to an answer: a 429 or 5xx instead of it, a delay, or a
dropped connection."""

from __future__ import annotations

from starlette.responses import HTMLResponse, Response

from .config import EmulatorConfig
from .faults import DropConnection, Fault
from .stats import Stats
from .wire.errors import error_response

__all__ = ["disturb", "proxy_page"]

_PROXY_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_REASONS = {502: "Bad Gateway", 503: "Service Temporarily Unavailable"}


def proxy_page(status: int) -> HTMLResponse:
    """The HTML error page a proxy (nginx) in front of the gateway answers with."""
    page = _PROXY_PAGE.format(status=status, reason=_REASONS[status])
    return HTMLResponse(page, status_code=status)


async def disturb(
    fault: Fault | None, family: str | None, *, config: EmulatorConfig, stats: Stats
) -> Response | None:
    """Apply an HTTP fault: an answer to send instead, or None to go on (after a delay
    for ``slow``). ``reset`` raises DropConnection; ``truncate`` is left to the sender."""
    if fault is None:
        return None
    stats.fault(fault.kind)
    kind = fault.kind
    if kind == "slow":
        await config.sleep(config.slow_seconds)
        return None
    if kind == "reset":
        raise DropConnection()
    if kind == "429":
        wait = config.retry_after_seconds
        headers = {
            "Retry-After": str(max(0, int(-(-wait // 1)))),
            "retry-after-ms": str(int(wait * 1000)),
        }
        return error_response(
            family,
            429,
            "Rate limit reached, retry later.",
            code="rate_limit_exceeded",
            headers=headers,
        )
    if kind == "500":
        return error_response(
            family,
            500,
            "The server had an error processing the request.",
            code="internal_error",
        )
    if kind in ("502", "503"):
        return proxy_page(int(kind))
    return None  # truncate
