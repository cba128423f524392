"""`vidpipe gc`: which cached videos no storyboard needs any more, and removing them.

For each state dir, a cached file is kept when, for one of the storyboards given that use
that dir, the ledger holds it as

* the file of a shot's current fingerprint (what the next run would reuse), or
* the latest file of one of the storyboard's shots (what its output folder last received,
  even after the shot was edited and before it is run again).

Everything else under the cache root is unneeded: videos of old versions of shots, of
storyboards not given, and partial copies a crash left behind; so are the frames runs
extracted for continuity shots (taken again whenever a create needs one). The storyboards
that ran in a state dir but were not given are named, so that nobody prunes them by
accident.
Deleting happens under the state dir's lock, so that no run adds a file while the
decision is taken. A cache with no ledger, or a ledger with no run, is never pruned:
nothing would say which file is whose.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from contextlib import suppress
from pathlib import Path

import attrs

from .errors import StateError
from .ledger import Ledger
from .model import Storyboard
from .runner import plan
from .statedir import CacheEntry, StateDir

__all__ = ["CachePrune", "find_unneeded", "prune"]


@attrs.frozen
class CachePrune:
    """One state dir's cache, split into what the storyboards given need and what they do not."""

    state: StateDir
    storyboards: tuple[Storyboard, ...]  # the storyboards considered
    others: tuple[str, ...]  # storyboards that ran in this state dir but were not given
    keep: tuple[CacheEntry, ...]
    unneeded: tuple[CacheEntry, ...]

    @property
    def unneeded_bytes(self) -> int:
        return sum(e.size for e in self.unneeded)

    @property
    def kept_bytes(self) -> int:
        return sum(e.size for e in self.keep)


def _needed(storyboards: Iterable[Storyboard], state: StateDir, ledger: Ledger) -> set[str]:
    """The digests the storyboards' current fingerprints and latest results point at."""
    needed: set[str] = set()
    for storyboard in storyboards:
        for shot in plan(storyboard, state_dir=state.path):
            if shot.fingerprint is None:  # a remix of a source with no known task yet
                continue
            record = ledger.lookup(shot.fingerprint)
            if record is not None and record.sha256:
                needed.add(record.sha256)
        for record in ledger.latest_files(str(storyboard.path)):
            if record.sha256:
                needed.add(record.sha256)
    return needed


def _split(state: StateDir, storyboards: tuple[Storyboard, ...]) -> CachePrune:
    given = {str(s.path) for s in storyboards}
    entries = state.cache.entries()
    frames = tuple(state.frame_files())
    if not entries:
        return CachePrune(state, storyboards, (), (), frames)
    if not state.ledger_path.exists():
        raise _no_ledger(state)
    with state.open_ledger() as ledger:
        others = tuple(ledger.storyboards())
        if not others:
            raise _no_ledger(state)
        needed = _needed(storyboards, state, ledger)
    others = tuple(p for p in others if p not in given)
    keep = tuple(e for e in entries if e.sha256 in needed)
    unneeded = tuple(e for e in entries if e.sha256 not in needed) + frames
    return CachePrune(state, storyboards, others, keep, unneeded)


def _no_ledger(state: StateDir) -> StateError:
    # Without the ledger nothing says which file is whose: a lost ledger must not empty
    # the cache, which may be all that is left of videos already paid for.
    return StateError(
        f"{state.path} has cached videos but its ledger records no run, so which of them"
        " are needed cannot be told; nothing was deleted"
    )


def _by_state_dir(
    storyboards: Sequence[Storyboard], state_dir: Path | None
) -> dict[StateDir, tuple[Storyboard, ...]]:
    groups: dict[StateDir, list[Storyboard]] = {}
    for storyboard in storyboards:
        state = StateDir.for_storyboard(storyboard.path, state_dir)
        group = groups.setdefault(state, [])
        if storyboard.path not in {s.path for s in group}:
            group.append(storyboard)
    return {state: tuple(group) for state, group in groups.items()}


def find_unneeded(
    storyboards: Sequence[Storyboard], state_dir: Path | None = None
) -> list[CachePrune]:
    """For each state dir the storyboards use (`state_dir` overrides), what its cache holds
    that none of them needs. Reads only: nothing is deleted or locked."""
    return [_split(state, group) for state, group in _by_state_dir(storyboards, state_dir).items()]


def prune(
    storyboards: Sequence[Storyboard], state_dir: Path | None = None, argv: Sequence[str] = ()
) -> list[CachePrune]:
    """Delete what `find_unneeded` would list, deciding under each state dir's lock.

    Returns what was deleted, per state dir. Raises StateLocked while a run holds a state
    dir (the dirs before it are pruned already), StateError if a file cannot be removed.
    """
    done = []
    for state, group in _by_state_dir(storyboards, state_dir).items():
        with state.lock(argv):
            found = _split(state, group)
            _delete(found.unneeded)
        done.append(found)
    return done


def _delete(entries: Iterable[CacheEntry]) -> None:
    folders = set()
    for entry in entries:
        try:
            with suppress(FileNotFoundError):
                entry.path.unlink()
        except OSError as exc:
            raise StateError(f"cannot delete {entry.path}: {exc.strerror}") from exc
        folders.add(entry.path.parent)
    for folder in folders:
        with suppress(OSError):
            os.rmdir(folder)  # only when empty
