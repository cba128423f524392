"""The lock file of picks: which variant (take, or cell of a matrix) of a shot the final cut
and the shots built on it use. It sits next to the storyboard (`storyboard.lock` for
`storyboard.yaml`) and is meant to be committed with it; `vidpipe pick SHOT TAKE` writes it.

    # vidpipe picks: ...
    picks:
      closeup: take=2
      hero: model=veo3
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from ..errors import InputError, Problem
from .findings import suggest
from .variants import variant_id
from .yamllines import parse

__all__ = ["lock_path", "read_picks", "resolve_label", "write_pick"]

_HEADER = (
    "# vidpipe picks: which take (or matrix variant) of each shot the final cut and the\n"
    "# shots built on it use. Written by `vidpipe pick SHOT TAKE`; commit it with the storyboard.\n"
)


def lock_path(storyboard: Path) -> Path:
    """Where the picks of `storyboard` are kept: beside it, `<name>.lock`."""
    return storyboard.with_suffix(".lock")


def _labels(base: str, group: Sequence[str]) -> list[str]:
    return [v[len(base) + 1 : -1] for v in group]


def read_picks(
    storyboard: Path | None, groups: Mapping[str, Sequence[str]]
) -> tuple[dict[str, str], list[Problem]]:
    """The variant picked for each shot with variants (the first where none is picked),
    and the problems of the lock file, each at its line."""
    chosen = {base: group[0] for base, group in groups.items()}
    if storyboard is None or not lock_path(storyboard).is_file():
        return chosen, []
    path = lock_path(storyboard)
    try:
        doc = parse(path)
    except InputError as exc:
        return chosen, exc.problems
    problems = list(doc.problems)
    data = doc.data
    picks = data.get("picks") if isinstance(data, dict) else None
    if data is not None and not isinstance(picks, dict | None):
        return chosen, [
            *problems,
            doc.problem("picks: must be a mapping of shot: take", ("picks",)),
        ]
    for base, label in (picks or {}).items():
        where = ("picks", base)
        if base not in groups:
            hint = suggest(str(base), groups)
            problems.append(
                doc.problem(f"picks: shot {base!r} has no takes or matrix{hint}", where)
            )
            continue
        vid = variant_id(str(base), str(label))
        if vid not in groups[base]:
            offered = ", ".join(_labels(base, groups[base]))
            problems.append(
                doc.problem(
                    f"picks: {base} has no variant {label!r} (it has {offered})", where, value=True
                )
            )
            continue
        chosen[base] = vid
    return chosen, problems


def resolve_label(base: str, choice: str, group: Sequence[str]) -> str | None:
    """The label of the variant `choice` names: a take number, a label or a whole id."""
    labels = _labels(base, group)
    for candidate in (choice, f"take={choice}", choice[len(base) + 1 : -1]):
        if candidate in labels:
            return candidate
    return None


def write_pick(storyboard: Path, base: str, label: str) -> Path:
    """Record that `base` uses its variant `label`; other picks are kept. Returns the file."""
    path = lock_path(storyboard)
    picks: dict[str, str] = {}
    if path.is_file():
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("picks"), dict):
            picks = {str(k): str(v) for k, v in data["picks"].items()}
    picks[base] = label
    text = _HEADER + yaml.safe_dump({"picks": dict(sorted(picks.items()))}, sort_keys=False)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path
