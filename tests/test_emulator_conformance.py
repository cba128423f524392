"""Property-based conformance: every answer of the emulator fits its spec (schemathesis).

Each spec is tested under its API's prefix (``/{api}/...``), where only that API's specs
answer: on the shared root routes a model outside one spec's enum legitimately goes to a
spec that takes any model. Random ids never name a real task, so a second test sends the
task routes real ids in every state and checks those answers too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from vidpipe.emulator import EmbeddedEmulator, EmulatorConfig
from vidpipe.specs import Spec, default_registry

from .emulator_fixtures import Clock, apifree, form, happyhorse, newapi, seedance

KEY = {"Authorization": "Bearer test-key"}
CLOCK = Clock()
EMU = EmbeddedEmulator(EmulatorConfig(job_seconds=10, api_keys={"test-key"}, clock=CLOCK))
REGISTRY = default_registry()
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _rejects_negative_data(spec: Spec) -> Callable[..., bool | None]:
    """negative_data_rejection, on the bodies where "invalid" is well defined.

    A multipart form carries every value as text (and a lone part reads as a one-item
    array), so a "wrong type" there is often a valid value: `model=125618` is a fine string.
    Negative multipart cases are therefore not judged; JSON bodies, paths and queries are.
    """

    def check(ctx: Any, response: Any, case: schemathesis.Case[Any]) -> bool | None:
        if (case.media_type or "").startswith("multipart/"):
            return None
        return negative_data_rejection(ctx, response, case)

    return check


def _schema(spec: Spec) -> Any:
    config = schemathesis.Config.from_dict({"generation": {"mode": "all"}})
    schema = schemathesis.openapi.from_dict(copy.deepcopy(dict(spec.doc)), config=config)
    schema.app = EMU.app
    return schema


def _conformance_test(spec: Spec) -> Callable[..., None]:
    checks = [*CONFORMANCE, _rejects_negative_data(spec), ignored_auth]

    @_schema(spec).parametrize()  # type: ignore[untyped-decorator]
    @settings(
        max_examples=25,
        derandomize=True,  # the same examples on every run: CI is repeatable
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def test(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(base_url=f"http://testserver/{spec.api}", headers=KEY, checks=checks)

    return test  # type: ignore[no-any-return]


for _spec in REGISTRY:
    globals()[f"test_random_requests_conform_{_spec.name}"] = _conformance_test(_spec)


_CREATES: dict[str, tuple[str, dict[str, Any], bool]] = {
    "anyfast_sora": ("/v1/videos", {"model": "sora-2", "prompt": "x", "size": "720x1280"}, True),
    "apifree": ("/v1/videos", apifree(), False),
    "newapi": ("/v1/videos", newapi(), True),
    "anyfast_seedance": ("/v1/video/generations", seedance(), False),
    "anyfast_happyhorse": ("/v1/video/generations", happyhorse(), False),
}


async def _tasks(spec: Spec) -> dict[str, str]:
    """Ids of tasks of `spec` in each state: queued, running, completed, failed."""
    route, body, multipart = _CREATES[spec.name]
    ids: dict[str, str] = {}
    async with httpx.AsyncClient(
        transport=EMU.transport(), base_url=f"{EMU.base_url}/{spec.api}", headers=KEY
    ) as c:

        async def create(prompt_suffix: str) -> str:
            data = dict(body)
            if "prompt" in data:
                data["prompt"] = f"{data['prompt']}{prompt_suffix}"
            else:
                data["content"] = [{"type": "text", "text": f"x{prompt_suffix}"}]
            r = await (c.post(route, files=form(data)) if multipart else c.post(route, json=data))
            assert r.status_code == 200, r.text
            return str(r.json()["id"])

        ids["completed"] = await create(" done")
        ids["failed"] = await create(" [emulator:fail]")
        CLOCK.advance(10)
        for task_id in (ids["completed"], ids["failed"]):
            await c.get(f"{route}/{task_id}")
        ids["running"] = await create(" running")
        CLOCK.advance(5)
        ids["queued"] = await create(" queued")
    return ids


@pytest.mark.parametrize("name", sorted(_CREATES))
async def test_answers_about_real_tasks_conform(name: str) -> None:
    spec = REGISTRY[name]
    ids = await _tasks(spec)
    schema = _schema(spec)
    base = f"http://testserver/{spec.api}"
    calls = 0
    for role in ("status", "content", "remix"):
        if not spec.has(role):
            continue
        op = spec.operation(role)
        operation = schema[op.path][op.method]
        param = op.path.split("{")[1].split("}")[0]
        for state, task_id in ids.items():
            kwargs: dict[str, Any] = {"path_parameters": {param: task_id}}
            if role == "remix":
                kwargs.update(body={"prompt": f"remix of {state}"}, media_type="application/json")
            if role == "content":
                kwargs["query"] = {"variant": "video"}
            case = operation.Case(**kwargs)
            response = case.call(base_url=base, headers=KEY)
            case.validate_response(response, checks=CONFORMANCE)
            calls += 1
            if role == "status" and state == "completed":
                assert response.status_code == 200
    assert calls >= 4
