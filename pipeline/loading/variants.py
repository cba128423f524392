"""Variants of a shot: `takes: N` (in a shot or in defaults) and `matrix:` (over models and
vars) make several shots of one written shot, each a task of its own.

A variant's id is its shot's id with its label: `closeup[take=2]`, `closeup[model=veo3]`,
`closeup[model=veo3,emotion=sleepy,take=2]`. The shots built on the written id (a remix, a
frame image, the final cut) use the variant the lock file picks (`vidpipe pick`), else the
first. A take's seed is its own (derived from its id), except the first take's, which is the
shot's as if it had no takes; the variants of a matrix share the shot's seed, so that they
differ only by what the matrix varies.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .findings import Findings, shot_label
from .yamllines import YamlPath

__all__ = ["Variant", "expand_variants", "variant_id"]


@attrs.frozen
class Variant:
    """One shot to build from written shot `index`: `item` holds its own values."""

    index: int
    item: Mapping[str, Any]
    id: str
    base: str
    label: str | None = None
    take: int | None = None
    seed_key: str | None = None


def variant_id(base: str, label: str | None) -> str:
    """ "closeup[take=2]" for ("closeup", "take=2"); the base id without a label."""
    return f"{base}[{label}]" if label else base


def _takes(findings: Findings, item: Mapping[str, Any], index: int, default: Any) -> int:
    if "takes" in item:
        value = item["takes"] if findings.usable(("shots", index, "takes")) else 1
    else:
        value = default
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def _axes(findings: Findings, item: Mapping[str, Any], index: int) -> list[list[tuple[str, Any]]]:
    """The matrix of a shot as a list of axes, each a list of (name, value)."""
    path: YamlPath = ("shots", index, "matrix")
    matrix = item.get("matrix")
    if not isinstance(matrix, dict) or not findings.usable(path):
        return []
    axes = []
    if isinstance(matrix.get("model"), list):
        axes.append([("model", m) for m in matrix["model"]])
    for name, values in (matrix.get("vars") or {}).items():
        if isinstance(values, list):
            axes.append([(str(name), v) for v in values])
    return axes


def _with(item: Mapping[str, Any], combo: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """The item with one matrix combination's model and vars written into it."""
    own = {k: v for k, v in item.items() if k not in ("matrix", "takes")}
    shot_vars = dict(own.get("vars") or {})
    for name, value in combo:
        if name == "model":
            own["model"] = value
        else:
            shot_vars[name] = value
    if shot_vars:
        own["vars"] = shot_vars
    return own


def expand_variants(
    findings: Findings, items: Sequence[Any], ids: Mapping[int, str], default_takes: Any
) -> tuple[list[Variant], dict[str, list[str]]]:
    """Every shot to build, and the variant ids of each written shot that has several."""
    variants: list[Variant] = []
    groups: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        base = ids.get(index)
        if base is None:
            variants.append(Variant(index, item, "", ""))  # its problems are found in build
            continue
        takes = _takes(findings, item, index, default_takes)
        axes = _axes(findings, item, index)
        combos = list(itertools.product(*axes)) if axes else [()]
        if len(combos) * takes > 1:
            _check_labels(findings, combos, index, base)
        for combo in combos:
            for take in range(1, takes + 1):
                parts = [f"{name}={value}" for name, value in combo]
                if takes > 1:
                    parts.append(f"take={take}")
                label = ",".join(parts) or None
                vid = variant_id(base, label)
                # Take 1 keeps the shot's seed; later takes get their own.
                seed_key = base if take == 1 else variant_id(base, f"take={take}")
                variants.append(
                    Variant(
                        index,
                        _with(item, combo),
                        vid,
                        base,
                        label,
                        take if takes > 1 else None,
                        seed_key,
                    )
                )
                if label:
                    groups.setdefault(base, []).append(vid)
    return variants, groups


def _check_labels(
    findings: Findings, combos: Sequence[Sequence[tuple[str, Any]]], index: int, base: str
) -> None:
    """Matrix values must be text or numbers (they name the variants)."""
    for combo in combos:
        for name, value in combo:
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                findings.add(
                    f"{shot_label(index, base)}: matrix {name}: {value!r} cannot name a variant"
                    " (use text or a number)",
                    ("shots", index, "matrix"),
                    breaks=True,
                )
                return
