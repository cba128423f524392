"""Everything a run checks before it sends anything."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from ..adapters import check_client
from ..dag import forced_but_left_out, plan_order, select, unknown_shots
from ..errors import InputError, Problem, SpecError
from ..fingerprint import safe_filename
from ..lifecycle import lifecycle_warnings
from ..model import Storyboard
from ..requests import CreateRequest, build_requests
from ..specs import SpecRegistry, default_registry

__all__ = ["Checked", "check", "check_outputs"]


@attrs.frozen
class Checked:
    """A storyboard that passed every check a run makes before it sends anything."""

    requests: Mapping[str, CreateRequest]
    selected: set[str]
    order: list[str]  # the selected shots, in DAG order
    #: What is worth saying but refuses nothing (a model its spec marks shut down).
    warnings: tuple[Problem, ...] = ()


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
    position = {shot_id: index for index, shot_id in enumerate(storyboard.shot_ids)}
    for shot_id in sorted(shots & set(requests), key=position.__getitem__):
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
        registry = (registry or default_registry()).with_dirs(storyboard.spec_dirs)
        requests = build_requests(storyboard, registry)
    except InputError as exc:
        problems.extend(exc.problems)
    selected: set[str] = set()
    try:
        selected = select(storyboard, only)
    except InputError as exc:
        problems.extend(exc.problems)
    problems.extend(unknown_shots(storyboard, force, "--force"))
    if only and selected:
        problems.extend(forced_but_left_out(storyboard, force, selected))
    problems.extend(_keyless(storyboard, selected))
    problems.extend(_stale_clients(storyboard, requests, selected))
    if problems:
        raise InputError(problems)
    order = [s for level in plan_order(storyboard) for s in level if s in selected]
    warnings = lifecycle_warnings(storyboard, {s: requests[s] for s in order})
    return Checked(requests, selected, order, tuple(warnings))


def _output_problem(root: Path, names: Iterable[str]) -> str | None:
    """Why the files `names` cannot be written in the folder `root`, or None."""
    existing = root
    while not os.path.lexists(existing) and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    for name in names:
        target = root / name
        try:
            mode = os.lstat(target).st_mode
        except FileNotFoundError:
            continue
        except OSError as exc:
            return f"cannot use {target}: {exc.strerror}"
        if stat.S_ISDIR(mode):
            return f"{target} is a folder; a file is written there (move it away)"
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            return f"{target} is not a regular file; a file is written there"
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root):
            pass
    except OSError as exc:
        return f"cannot write in {root}: {exc.strerror or exc}"
    return None


def check_outputs(storyboard: Storyboard, out_dir: Path, shots: Iterable[str]) -> None:
    """The output folder `out_dir/<name>` exists (it is made here) and takes files, and no
    file a run of `shots` writes there is blocked (by a folder of that name, say).

    Called before anything is sent; raises InputError naming `--out`.
    """
    names = [f"{safe_filename(s)}.mp4" for s in shots]
    names += ["final.mp4", "manifest.json", "report.html"]
    problem = _output_problem(out_dir / storyboard.name, names)
    if problem is not None:
        raise InputError(Problem(f"--out {out_dir}: {problem}", storyboard.source))
