"""Warnings about the models a storyboard uses that their spec marks deprecated or shut down
(`x-vidpipe.lifecycle`): one line per model and spec, at the first shot that uses it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from .errors import Problem
from .model import Storyboard
from .requests import CreateRequest

__all__ = ["lifecycle_warnings"]


def lifecycle_warnings(
    storyboard: Storyboard,
    requests: Mapping[str, CreateRequest],
    *,
    today: dt.date | None = None,
) -> list[Problem]:
    """One warning per (spec, model) in use that its spec marks deprecated or shut down,
    naming the shots that use it; in file order. Nothing is refused: a gateway may still
    route a model its maker shut down."""
    today = today or dt.datetime.now(dt.UTC).date()
    users: dict[tuple[str, str], list[str]] = {}
    for shot_id in storyboard.shot_ids:
        req = requests.get(shot_id)
        if req is not None and req.model in req.spec.lifecycle:
            users.setdefault((req.spec.name, req.model), []).append(shot_id)
    warnings = []
    for (spec_name, model), shots in users.items():
        req = requests[shots[0]]
        entry = req.spec.lifecycle[model]
        first = storyboard.shot(shots[0])
        which = "shot" if len(shots) == 1 else "shots"
        message = f"{entry.warning(today)}; used by {which} {', '.join(shots)} (spec {spec_name})"
        warnings.append(Problem(message, storyboard.source, first.lines.get("model", first.line)))
    return warnings
