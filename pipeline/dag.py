"""Run order over remix edges, and `--only` selection.

A shot that remixes another needs that shot's video first, so remix edges form a DAG.
`plan_order` groups shots into levels: every shot in a level depends only on shots in
earlier levels, so a level can run concurrently. `priorities` orders submissions along the
critical path: the shot with the longest chain of shots waiting on it goes first.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence

from .errors import InputError, Problem
from .model import Storyboard


def find_cycles(deps: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Every dependency cycle, each as [a, b, ...] meaning a needs b needs ... needs a.

    Nodes that only depend on a cycle are not reported. Unknown dependencies are ignored.
    """
    remaining = {node: [d for d in ds if d in deps] for node, ds in deps.items()}
    # Peel off everything that is not blocked by a cycle (Kahn's algorithm).
    changed = True
    while changed:
        changed = False
        for node in list(remaining):
            if not any(d in remaining for d in remaining[node]):
                del remaining[node]
                changed = True
    cycles: list[list[str]] = []
    seen: set[str] = set()
    for start in remaining:
        if start in seen:
            continue
        # Every remaining node has a remaining dependency, so this walk must loop.
        path: list[str] = []
        position: dict[str, int] = {}
        node = start
        while node not in position and node not in seen:
            position[node] = len(path)
            path.append(node)
            node = next(d for d in remaining[node] if d in remaining)
        if node in position:
            cycle = path[position[node] :]
            cycles.append(cycle)
            seen.update(cycle)
        seen.update(path)
    return cycles


def cycle_problems(
    cycles: Iterable[Sequence[str]],
    lines: Mapping[str, int | None],
    file: str,
    frames: Iterable[str] = (),
) -> list[Problem]:
    """One Problem per cycle, at the first shot's line, naming every shot and its line."""
    problems = []
    frames = set(frames)  # shots whose edge is a frame image, not a remix
    for cycle in cycles:
        steps = [f"{s} (line {lines.get(s)})" for s in cycle] + [cycle[0]]
        how = "remixes the next" if not frames & set(cycle) else "builds on the next: a remix,"
        how += " or takes a frame of it as its image" if frames & set(cycle) else ""
        problems.append(
            Problem(
                "remix cycle: " + " -> ".join(steps) + f" (each shot {how})",
                file,
                lines.get(cycle[0]),
            )
        )
    return problems


def dag(storyboard: Storyboard) -> list[tuple[str, str]]:
    """Edges (source, shot): `shot` needs `source`'s video first. In file order."""
    return [(dep, shot.id) for shot in storyboard.shots for dep in shot.depends_on]


def _remix_lines(storyboard: Storyboard) -> dict[str, int | None]:
    return {s.id: s.lines.get("remix", s.lines.get("image", s.line)) for s in storyboard.shots}


def plan_order(storyboard: Storyboard) -> list[list[str]]:
    """Shot ids grouped into levels that can run in order; file order within a level.

    Raises InputError naming the shots and lines of any remix cycle.
    """
    deps = {s.id: list(s.depends_on) for s in storyboard.shots}
    cycles = find_cycles(deps)
    if cycles:
        raise InputError(cycle_problems(cycles, _remix_lines(storyboard), storyboard.source))
    levels: list[list[str]] = []
    done: set[str] = set()
    pending = [s.id for s in storyboard.shots]
    while pending:
        level = [i for i in pending if all(d in done or d not in deps for d in deps[i])]
        if not level:  # unreachable after the cycle check; guards against a hang
            raise InputError(Problem("cannot order shots", storyboard.source))
        levels.append(level)
        done.update(level)
        pending = [i for i in pending if i not in done]
    return levels


def priorities(storyboard: Storyboard) -> dict[str, tuple[int, int, int]]:
    """Each shot's place in the submission order, lowest first: (-chain, -depth, position).

    `chain` is the number of shots in the longest chain of shots that depend on it (its
    remixes, their remixes...), so the start of the longest chain goes first; `depth` is the
    number of shots it waits for, so a dependent whose source is ready goes ahead of shots
    with an equal chain that have not started; then file order. Needs an acyclic storyboard
    (`plan_order` checks).
    """
    dependents: dict[str, list[str]] = {s.id: [] for s in storyboard.shots}
    for source, shot in dag(storyboard):
        if source in dependents:
            dependents[source].append(shot)
    chain: dict[str, int] = {}
    depth: dict[str, int] = {}
    levels = plan_order(storyboard)
    for level in reversed(levels):
        for shot_id in level:
            chain[shot_id] = max((chain[d] + 1 for d in dependents[shot_id]), default=0)
    for level in levels:
        for shot_id in level:
            sources = [d for d in storyboard.shot(shot_id).depends_on if d in depth]
            depth[shot_id] = max((depth[d] + 1 for d in sources), default=0)
    return {
        shot_id: (-chain[shot_id], -depth[shot_id], position)
        for position, shot_id in enumerate(storyboard.shot_ids)
    }


def unknown_shots(storyboard: Storyboard, wanted: Sequence[str], flag: str) -> list[Problem]:
    """One problem for each id in `wanted` that names no shot, with a "did you mean"."""
    ids = (*storyboard.shot_ids, *storyboard.variants)
    problems = []
    for shot_id in wanted:
        if shot_id not in ids:
            close = difflib.get_close_matches(shot_id, ids, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(Problem(f"{flag}: no shot {shot_id!r}{hint}", storyboard.source))
    return problems


def forced_but_left_out(
    storyboard: Storyboard, force: Sequence[str], selected: set[str]
) -> list[Problem]:
    """One problem for each `--force` id that `--only` leaves out: it would not be made."""
    problems = []
    for shot_id in force:
        variants = storyboard.expand([shot_id])
        known = shot_id in storyboard.shot_ids or shot_id in storyboard.variants
        if known and not any(v in selected for v in variants):
            problems.append(
                Problem(
                    f"--force: {shot_id!r} is not run, --only leaves it out; add it to --only"
                    " to make it again",
                    storyboard.source,
                )
            )
    return problems


def select(storyboard: Storyboard, only: Sequence[str]) -> set[str]:
    """The shots to run for `--only A B`: those named plus every remix ancestor they need.

    An empty `only` selects every shot. Unknown ids raise InputError with a suggestion.
    """
    if not only:
        return set(storyboard.shot_ids)
    problems = unknown_shots(storyboard, only, "--only")
    if problems:
        raise InputError(problems)
    selected: set[str] = set()
    stack = storyboard.expand(only)
    while stack:
        shot_id = stack.pop()
        if shot_id in selected:
            continue
        selected.add(shot_id)
        stack.extend(storyboard.shot(shot_id).depends_on)
    return selected
