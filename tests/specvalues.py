"""Request values for tests, drawn from the specs: a model a spec accepts, its smallest
allowed size and its shortest duration. Tests that only need *some* valid, fast request take
them from here, so a provider document that tightens one enum breaks only the tests about it.
"""

from __future__ import annotations

import re
from typing import Any

from vidpipe.specs import Spec, default_registry

#: What a free-form size or duration field gets: small and fast to render.
FREE_SIZE = "64x48"
FREE_SECONDS = 1
_SIZE = re.compile(r"^(\d+)x(\d+)$")


def spec(name: str) -> Spec:
    return default_registry()[name]


def model(name: str, prefer: str = "") -> str:
    """`prefer` when spec `name` accepts it (or accepts any model), else its first model."""
    models = spec(name).models()
    if models is None:
        return prefer or "any-video-model"
    return prefer if prefer in models else models[0]


def _field(spec: Spec, unified: str) -> tuple[str, dict[str, Any]]:
    rule = spec.fields[unified]
    return rule.field, spec.field_schema(rule.field)


def smallest_size(name: str) -> str:
    """The size spec `name` allows with the fewest pixels (WIDTHxHEIGHT), or a small free one."""
    _, schema = _field(spec(name), "size")
    sizes = [str(v) for v in schema.get("enum") or () if _SIZE.match(str(v))]
    if not sizes:
        return FREE_SIZE

    def area(size: str) -> int:
        width, height = _SIZE.match(size).groups()  # type: ignore[union-attr]
        return int(width) * int(height)

    return min(sizes, key=area)


def shortest_duration(name: str) -> Any:
    """The shortest duration spec `name` allows, typed as its field takes it."""
    _, schema = _field(spec(name), "duration")
    options = [v for v in schema.get("enum") or () if str(v).isdigit()]
    if options:
        return min(options, key=lambda v: int(v))
    low = schema.get("minimum")
    return max(int(low), FREE_SECONDS) if isinstance(low, int | float) else FREE_SECONDS
