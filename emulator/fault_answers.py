"""What a fault that fired does to an answer: a 429 or 5xx instead of it, a delay, a dropped
connection, a lost create answer, or a result URL that refuses for a while."""

from __future__ import annotations

from starlette.responses import HTMLResponse, Response

from .config import EmulatorConfig
from .faults import DropConnection, Fault
from .stats import Stats
from .wire.errors import error_response

__all__ = ["denied", "disturb", "lost_answer", "proxy_page", "too_many_in_flight"]

_PROXY_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_REASONS = {
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}
_GATEWAY_ERRORS = {
    502: ("bad_gateway", "The upstream answered with an error; the task may have been made."),
    504: ("gateway_timeout", "The upstream did not answer in time; the task may have been made."),
}
_STORAGE_ERRORS = {
    403: ("AccessDenied", "Request has expired or the signature does not match."),
    404: ("NoSuchKey", "The specified key does not exist."),
}


def proxy_page(status: int) -> HTMLResponse:
    """The HTML error page a proxy (nginx) in front of the gateway answers with."""
    page = _PROXY_PAGE.format(status=status, reason=_REASONS[status])
    return HTMLResponse(page, status_code=status)


def _retry_after(config: EmulatorConfig) -> dict[str, str]:
    wait = config.retry_after_seconds
    return {"Retry-After": str(max(0, int(-(-wait // 1)))), "retry-after-ms": str(int(wait * 1000))}


def too_many_in_flight(family: str | None, config: EmulatorConfig, stats: Stats) -> Response:
    """The 429 of a gateway that caps the tasks in flight (`max_in_flight`)."""
    stats.fault("in-flight")
    return error_response(
        family,
        429,
        f"Too many tasks in flight: at most {config.max_in_flight} at once, retry later.",
        code="too_many_tasks",
        headers=_retry_after(config),
    )


async def disturb(
    fault: Fault | None, family: str | None, *, config: EmulatorConfig, stats: Stats
) -> Response | None:
    """Apply an HTTP fault (or a burst's): an answer to send instead, or None to go on
    (after a delay for ``slow``). ``reset`` raises DropConnection; ``truncate`` is left to
    the sender."""
    if fault is None:
        return None
    stats.fault(fault.kind)
    kind = fault.kind.removeprefix("burst-")
    if kind == "slow":
        await config.sleep(config.slow_seconds)
        return None
    if kind == "reset":
        raise DropConnection()
    if kind == "429":
        return error_response(
            family,
            429,
            "Rate limit reached, retry later.",
            code="rate_limit_exceeded",
            headers=_retry_after(config),
        )
    if kind == "500":
        return error_response(
            family,
            500,
            "The server had an error processing the request.",
            code="internal_error",
        )
    if kind in ("502", "503", "504"):
        return proxy_page(int(kind))
    return None  # truncate


def lost_answer(fault: Fault, family: str | None, stats: Stats) -> Response:
    """The answer of a create whose task was made: ``created-502`` and the like."""
    stats.fault(fault.kind)
    status = int(fault.kind.split("-")[1])
    if not fault.kind.endswith("-json"):
        return proxy_page(status)
    code, message = _GATEWAY_ERRORS[status]
    return error_response(family, status, message, code=code)


def denied(fault: Fault, family: str | None, stats: Stats) -> Response:
    """A result URL refusing for now (``url-403``, ``url-404``): the CDN answers as object
    storage does (XML), the content route in the family's shape (`family` None: the CDN)."""
    stats.fault(fault.kind)
    status = int(fault.kind.split("-")[1])
    if family is None:
        code, message = _STORAGE_ERRORS[status]
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message></Error>\n"
        )
        return Response(body, status_code=status, media_type="application/xml")
    return error_response(
        family,
        status,
        "The content is not available right now.",
        code="content_forbidden" if status == 403 else "content_not_found",
    )
