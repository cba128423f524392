"""Everything a run checks before it sends anything."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from ..adapters import check_client
from ..dag import plan_order, select, unknown_shots
from ..errors import InputError, Problem, SpecError
from ..model import Storyboard
from ..requests import CreateRequest, build_requests
from ..specs import SpecRegistry, default_registry

__all__ = ["Checked", "check"]


@attrs.frozen
class Checked:
    """A storyboard that passed every check a run makes before it sends anything."""

    requests: Mapping[str, CreateRequest]
    selected: set[str]
    order: list[str]  # the selected shots, in DAG order


def _keyless(storyboard: Storyboard, shots: set[str]) -> list[Problem]:
    """Providers in use that point at a gateway but have no key: every call would be refused."""
    names = {storyboard.shot(s).provider for s in shots}
    return [
        Problem(
            f"provider {p.name!r}: api_key is empty, but base_url is a gateway, which needs "
            "its key (export the variable api_key names, or use base_url: embedded)",
            storyboard.source,
            p.lines.get("api_key", p.line),
        )
        for name, p in storyboard.providers.items()
        if name in names and not p.is_embedded and not p.api_key
    ]


def _stale_clients(
    storyboard: Storyboard, requests: Mapping[str, CreateRequest], shots: set[str]
) -> list[Problem]:
    """Specs in use whose generated client is missing or was made from another version."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for shot_id in sorted(shots & set(requests), key=storyboard.shot_ids.index):
        spec = requests[shot_id].spec
        if spec.name in seen:
            continue
        seen.add(spec.name)
        try:
            check_client(spec)
        except SpecError as exc:
            provider = storyboard.provider_for(storyboard.shot(shot_id))
            line = provider.lines.get("api", provider.line)
            problems.append(Problem(str(exc), storyboard.source, line))
    return problems


def check(
    storyboard: Storyboard,
    *,
    only: Sequence[str] = (),
    force: Sequence[str] = (),
    registry: SpecRegistry | None = None,
) -> Checked:
    """Everything a run checks before sending: every request against its spec, `--only`,
    `--force`, keys and the generated clients. Raises one InputError with all the problems found."""
    problems: list[Problem] = []
    requests: dict[str, CreateRequest] = {}
    try:
        requests = build_requests(storyboard, registry or default_registry())
    except InputError as exc:
        problems.extend(exc.problems)
    selected: set[str] = set()
    try:
        selected = select(storyboard, only)
    except InputError as exc:
        problems.extend(exc.problems)
    problems.extend(unknown_shots(storyboard, force, "--force"))
    problems.extend(_keyless(storyboard, selected))
    problems.extend(_stale_clients(storyboard, requests, selected))
    if problems:
        raise InputError(problems)
    order = [s for level in plan_order(storyboard) for s in level if s in selected]
    return Checked(requests, selected, order)
