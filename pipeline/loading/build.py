"""A checked storyboard document into the frozen Storyboard, or one InputError with every problem.

In order: `${VAR}` in provider values, the structure against the JSON Schema, then the
checks of meaning (the provider APIs, ids, remix targets and cycles, files, templates
and their variables) on whatever the structure check left usable. All the problems of a
document are raised together, ordered by line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ..errors import InputError, Problem
from ..limits import MAX_SHOTS
from ..model import FrozenDict, Shot, Storyboard, freeze
from ..specs import SpecRegistry, default_registry
from .envvars import expand_providers
from .findings import Findings, suggest
from .picks import read_picks
from .prices import storyboard_prices
from .providers import build_providers
from .references import check_remixes, final_cut, shot_ids
from .schema import RESERVED_VARS, SLUG, VAR_NAME
from .shots import (
    ShotSetting,
    UsedNames,
    build_shots,
    field_values,
    read_fields,
    resolve_image,
)
from .specdirs import with_storyboard_specs
from .structure import check_structure
from .variants import expand_variants
from .yamllines import LoadedDocument

__all__ = ["validate"]


def validate(
    doc: LoadedDocument,
    *,
    env: Mapping[str, str] | None = None,
    vars: Mapping[str, object] | None = None,
    registry: SpecRegistry | None = None,
) -> Storyboard:
    """Check a LoadedDocument and build the frozen Storyboard (InputError lists all problems).

    `env` replaces os.environ for `${VAR}`; `vars` override every other variable;
    `registry` (default: the shipped specs) says which APIs a provider may speak.
    """
    findings = Findings(doc, doc.problems)
    data = doc.data
    if data is None:
        findings.add("the storyboard is empty", ())
        raise InputError(findings.sorted())
    shots = data.get("shots") if isinstance(data, dict) else None
    if isinstance(shots, list) and len(shots) > MAX_SHOTS:
        findings.add(
            f"{len(shots):,} shots; a storyboard may have at most {MAX_SHOTS:,} "
            "(split it into several)",
            ("shots",),
        )
        raise InputError(findings.sorted())
    if isinstance(data, dict):
        data, problems, failed = expand_providers(doc, data, os.environ if env is None else env)
        findings.problems.extend(problems)
        for path in failed:
            findings.broken.add(path)
    data = check_structure(findings, data)
    if not isinstance(data, dict):
        raise InputError(findings.sorted())

    registry, spec_dirs = with_storyboard_specs(
        findings, data.get("specs"), doc.base_dir, registry or default_registry()
    )
    apis = registry.apis()
    providers = build_providers(findings, data.get("providers"), apis)
    prices = storyboard_prices(findings, data.get("prices"), doc.base_dir)
    budget = data.get("budget") if findings.usable(("budget",)) else None
    items = data["shots"] if isinstance(data.get("shots"), list) else []
    if items and not providers:
        findings.add("no providers defined; add a `providers:` section", ("providers",))
    name = _name(findings, data)
    seed = data.get("seed") if findings.usable(("seed",)) else None
    defaults = read_fields(data.get("defaults"), ("defaults",))
    image = defaults.get("image")
    if image is not None and isinstance(image.value, dict):
        findings.add(
            "defaults.image: a frame of another shot belongs on a shot, not in defaults",
            image.path,
            breaks=True,
        )
    variables = _variables(findings, data.get("vars"))
    overrides = _overrides(findings, vars or {})
    assets = _assets(findings, data.get("assets"))
    setting = ShotSetting(
        assets=assets,
        providers=tuple(providers),
        variables=None if variables is None else {**variables, **overrides},
        overrides=overrides,
        defaults=defaults,
        storyboard={"name": name, "seed": seed},
    )
    ids = shot_ids(findings, items)
    check_remixes(findings, items, ids)
    takes = defaults.get("takes")
    variants, groups = expand_variants(findings, items, ids, takes.value if takes else 1)
    picks, lock_problems = read_picks(doc.path, groups)
    findings.problems.extend(lock_problems)
    used = UsedNames(set(variables or ()))
    shots = [_picked(shot, picks) for shot in build_shots(findings, variants, setting, used)]
    _frame_times(findings, shots)
    if used.complete and variables is not None:
        _unused_overrides(findings, overrides, used.names)
    final = final_cut(findings, data.get("final"), items)
    if final is not None:
        final = attrs.evolve(
            final,
            concat=tuple(picks.get(s, s) for s in final.concat),
            clips=tuple(attrs.evolve(c, shot=picks.get(c.shot, c.shot)) for c in final.clips),
        )

    if findings.problems or name is None:
        raise InputError(findings.sorted())
    return Storyboard(
        path=doc.path or doc.base_dir / doc.source,
        base_dir=doc.base_dir,
        source=doc.source,
        name=name,
        seed=seed,
        providers=FrozenDict(providers),
        defaults=freeze(field_values(findings, defaults)),
        vars=freeze(setting.variables),
        shots=tuple(shots),
        final=final,
        spec_dirs=spec_dirs,
        prices=FrozenDict(prices),
        budget=None if budget is None else float(budget["usd"]),
        assets=FrozenDict({k: v for k, v in assets.items() if v is not None}),
        variants=FrozenDict({base: tuple(group) for base, group in groups.items()}),
        picks=FrozenDict(picks),
    )


def _frame_times(findings: Findings, shots: list[Shot]) -> None:
    """A frame image at a time past the end its source shot asks for is a mistake."""
    lengths = {s.id: s.duration for s in shots}
    for shot in shots:
        frame = shot.frame_of
        length = lengths.get(frame.shot) if frame else None
        if frame is None or isinstance(frame.frame, str) or not isinstance(length, int | float):
            continue
        if frame.frame > length:
            findings.problems.append(
                Problem(
                    f"shot {shot.id!r}: image: {frame.describe()}: {frame.shot} is"
                    f" {length:g} s long",
                    findings.doc.source,
                    shot.lines.get("image", shot.line),
                )
            )


def _picked(shot: Shot, picks: Mapping[str, str]) -> Shot:
    """The shot with each shot it builds on that has variants replaced by the one picked."""
    if not any(d in picks for d in shot.depends_on):
        return shot
    frame = shot.frame_of
    return attrs.evolve(
        shot,
        remix=picks.get(shot.remix, shot.remix) if shot.remix else None,
        image=attrs.evolve(frame, shot=picks.get(frame.shot, frame.shot)) if frame else shot.image,
        depends_on=tuple(picks.get(d, d) for d in shot.depends_on),
    )


def _assets(findings: Findings, value: Any) -> dict[str, Path | str | None]:
    """`assets:`, each name's image (None when it is broken: its problem is found here)."""
    if not isinstance(value, dict) or not findings.usable(("assets",)):
        return {}
    return {
        name: resolve_image(findings, text, ("assets", name))
        if findings.usable(("assets", name)) and isinstance(text, str)
        else None
        for name, text in value.items()
    }


def _name(findings: Findings, data: Mapping[str, Any]) -> str | None:
    """`name:`, or the file's name made a slug."""
    if "name" in data:
        return data["name"] if findings.usable(("name",)) else None
    path = findings.doc.path
    stem = re.sub(r"[^a-z0-9_-]+", "-", path.stem.lower()).strip("-_")[:64] if path else ""
    if not SLUG.match(stem):
        why = "it cannot be derived from the file name" if path else "there is no file name"
        findings.add(f"add a `name:` (a slug); {why}", ())
        return None
    return stem


def _variables(findings: Findings, value: Any) -> dict[str, Any] | None:
    """The storyboard's `vars:`, or None when they are broken (prompts are then not rendered)."""
    if not findings.usable(("vars",)):
        return None
    return dict(value or {})


def _unused_overrides(findings: Findings, overrides: Mapping[str, Any], used: set[str]) -> None:
    """`--var` names that no prompt or template reads and no `vars:` sets: a misspelling."""
    for name in overrides:
        if name not in used:
            findings.problems.append(
                Problem(
                    f"--var {name!r}: no prompt, template or vars use this name"
                    + suggest(name, sorted(used)),
                    findings.doc.source,
                )
            )


def _overrides(findings: Findings, overrides: Mapping[str, object]) -> dict[str, Any]:
    """`--var` values with usable names; the others are problems."""
    usable: dict[str, Any] = {}
    for name, value in overrides.items():
        if not VAR_NAME.match(name) or name in RESERVED_VARS:
            findings.problems.append(
                Problem(f"--var {name!r}: not a usable variable name", findings.doc.source)
            )
            continue
        usable[name] = value
    return usable
