"""One spec route: the spec operations that share it, the bearer check, the role that
answers, and a refused request turned into the family's error body."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .entries import Entry
from .faults import REQUEST_KINDS
from .instance import Emulator
from .problems import RequestProblem
from .schema_check import coerce_text
from .task import Task
from .wire.errors import error_response

__all__ = ["Role", "SpecRoute"]


class SpecRoute:
    """Serves one route for the spec operations that share it."""

    def __init__(self, emulator: Emulator, entries: Sequence[Entry], role: Role | None) -> None:
        self.emu = emulator
        self.entries = list(entries)
        self.family = entries[0].family
        self.role = role

    async def handle(self, request: Request) -> Response:
        try:
            if not self.emu.authorized(request):
                missing = "authorization" not in request.headers
                message = (
                    "You didn't provide an API key; send it as 'Authorization: Bearer KEY'."
                    if missing
                    else "Incorrect API key provided."
                )
                raise RequestProblem(message, code="invalid_api_key", status=401)
            if self.role is None:
                raise RequestProblem(
                    "The emulator does not implement this operation.",
                    code="not_implemented",
                    status=501,
                )
            return await self.role(self, request)
        except RequestProblem as problem:
            self.emu.stats.reject(problem.status)
            return error_response(
                self.family, problem.status, problem.message, code=problem.code, param=problem.param
            )

    async def disturbed(self, scope: str) -> Response | None:
        """The answer an API-call fault drawn for `scope` gives instead of the real one."""
        fault = self.emu.faults.draw(scope, REQUEST_KINDS)
        return await self.emu.disturb(fault, self.family)

    def task(self, request: Request) -> Task:
        """The task the path names; it must belong to one of this route's specs."""
        task_id = str(next(iter(request.path_params.values()), ""))
        task = self.emu.store.get(task_id)
        if task is None or not any(e.spec is task.spec for e in self.entries):
            if self.family == "videos":
                raise RequestProblem(
                    f"Video with id '{task_id}' not found.", code="video_not_found", status=404
                )
            raise RequestProblem(f"task_not_exist: {task_id}", code="task_not_exist", status=400)
        return task

    def entry_of(self, task: Task) -> Entry:
        return next(e for e in self.entries if e.spec is task.spec)

    def query(self, request: Request, entry: Entry) -> dict[str, Any]:
        """The query parameters `entry` declares, coerced and checked (defaults filled in)."""
        values: dict[str, Any] = {}
        for name, param in entry.query.items():
            raw = request.query_params.get(name)
            if raw is None:
                if param.required:
                    raise RequestProblem(f"Missing required parameter: '{name}'.", param=name)
                if "default" in param.schema:
                    values[name] = param.schema["default"]
                continue
            value = coerce_text(raw, param.schema)
            if not param.validator.is_valid(value):
                raise RequestProblem(f"Invalid value for '{name}': {raw!r}.", param=name)
            values[name] = value
        return values


#: What a role does on a route: create, status, content, remix.
Role = Callable[[SpecRoute, Request], Awaitable[Response]]
