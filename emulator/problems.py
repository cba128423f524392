"""A request the emulator refuses, turned by the route into the family's error body."""

from __future__ import annotations

__all__ = ["RequestProblem"]


class RequestProblem(Exception):
    """A request the emulator refuses; the app turns it into the family's error body."""

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str = "invalid_request",
        status: int = 400,
    ) -> None:
        self.message = message
        self.param = param
        self.code = code
        self.status = status
        super().__init__(message)
