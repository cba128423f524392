"""`vidpipe gc`: prunes cached videos that no storyboard given needs; a dry run (with sizes)
unless `--yes`; never a file a given storyboard's shot last received, nor one its current
fingerprints need; names the storyboards considered and those left out."""

from __future__ import annotations

import json
import re
from pathlib import Path

from vidpipe.statedir import StateDir

from .test_cli import TINY, run_tiny, tiny, vidpipe


def cached(state: Path) -> dict[str, int]:
    """The cache's files (by digest) and their sizes."""
    return {e.sha256 or e.path.name: e.size for e in StateDir(state).cache.entries()}


def files_of(board: Path) -> dict[str, str]:
    """Each shot's file digest as the last run reported it."""
    result = run_tiny(board, "--json")
    assert result.exit_code == 0, result.output
    return {s: v["sha256"] for s, v in json.loads(result.stdout)["shots"].items()}


def edit(board: Path, old: str, new: str) -> None:
    board.write_text(board.read_text().replace(old, new))


def ran_once(tmp_path: Path) -> tuple[Path, Path, dict[str, int]]:
    """A storyboard run once: the storyboard, its state dir and what the cache then holds."""
    board = tiny(tmp_path)
    files_of(board)
    state = tmp_path / ".vidpipe"
    return board, state, cached(state)


def test_gc_lists_unneeded_files_with_sizes_and_deletes_them_only_with_yes(
    tmp_path: Path,
) -> None:
    board = tiny(tmp_path)
    old = files_of(board)
    edit(board, "over the sea", "over the hills")  # one changes, and three (its remix) too
    new = files_of(board)
    state = tmp_path / ".vidpipe"
    before = cached(state)
    stale = {old["one"], old["three"]}
    assert set(before) == set(new.values()) | stale

    dry = vidpipe("gc", board)
    assert dry.exit_code == 0, dry.output
    lines = dry.stdout.splitlines()
    assert lines[0] == f"considered: {board} (3 shots)"
    assert re.fullmatch(rf"{state}: 5 files; 3 needed \(.+B\), 2 not needed \((.+B)\)", lines[1])
    listed = {line.split()[1]: line for line in lines if line.startswith("  unneeded  ")}
    assert {Path(p).stem for p in listed} == stale
    for path, line in listed.items():
        size = before[Path(path).stem]
        assert line.endswith(f"{size / 1000:.1f} kB"), line  # rich's decimal units
    assert lines[-1].startswith("dry run: nothing deleted; add --yes to delete ")
    assert cached(state) == before

    done = vidpipe("gc", board, "--yes")
    assert done.exit_code == 0, done.output
    assert sum(line.startswith("  deleted  ") for line in done.stdout.splitlines()) == 2
    assert set(cached(state)) == set(new.values())
    again = run_tiny(board, "--json")  # what is needed is all still there
    assert json.loads(again.stdout)["counts"] == {"cached": 3}
    assert vidpipe("gc", board).stdout.splitlines()[1].endswith("0 not needed (0 bytes)")


def test_gc_keeps_what_a_shot_last_received_after_it_was_edited(tmp_path: Path) -> None:
    board = tiny(tmp_path)
    made = files_of(board)
    edit(board, "at dusk", "at dawn")  # not run again: out/ still shows the old `two`
    result = vidpipe("gc", board, "--yes")
    assert result.exit_code == 0, result.output
    assert "deleted  " not in result.stdout
    assert set(cached(tmp_path / ".vidpipe")) == set(made.values())


def test_gc_names_the_storyboards_it_considered_and_those_it_did_not(tmp_path: Path) -> None:
    first = tiny(tmp_path)
    second = tmp_path / "other.yaml"
    second.write_text(TINY.replace("name: tiny", "name: other").replace("a red kite", "a gull"))
    files_of(first)
    theirs = files_of(second)
    state = tmp_path / ".vidpipe"

    alone = vidpipe("gc", first)
    assert alone.exit_code == 0, alone.output
    assert f"  not considered (ran here too; give it to keep its files): {second}" in (
        alone.stdout.splitlines()
    )
    listed = {
        Path(line.split()[1]).stem for line in alone.stdout.splitlines() if "unneeded" in line
    }
    assert listed == set(theirs.values())

    both = vidpipe("gc", first, second, "--yes")
    assert both.exit_code == 0, both.output
    assert both.stdout.splitlines()[0] == f"considered: {first} (3 shots), {second} (3 shots)"
    assert "not considered" not in both.stdout and "deleted  " not in both.stdout
    assert len(cached(state)) == 6


def test_gc_removes_partial_files_a_crash_left_in_the_cache(tmp_path: Path) -> None:
    board = tiny(tmp_path)
    files_of(board)
    cache = tmp_path / ".vidpipe" / "cache"
    partial = cache / "ab" / f".{'ab' * 32}.123.456.tmp"
    partial.parent.mkdir(exist_ok=True)
    partial.write_bytes(b"x" * 10)
    result = vidpipe("gc", board, "--yes")
    assert f"  deleted  cache/ab/{partial.name}  10 bytes" in result.stdout.splitlines()
    assert not partial.parent.exists()  # its folder was left empty
    assert len(cached(tmp_path / ".vidpipe")) == 3


def test_gc_deletes_nothing_while_a_run_holds_the_state_dir(tmp_path: Path) -> None:
    board, state, _ = ran_once(tmp_path)
    edit(board, "over the sea", "over the hills")
    files_of(board)
    before = cached(state)
    with StateDir(state).lock(["vidpipe", "run", "tiny.yaml"]):
        result = vidpipe("gc", board, "--yes")
    assert result.exit_code == 2
    assert "is in use by pid" in result.stderr
    assert cached(state) == before


def test_gc_of_a_bad_storyboard_is_exit_2_and_deletes_nothing(tmp_path: Path) -> None:
    board, state, before = ran_once(tmp_path)
    edit(board, "remix: one", "remix: nine")
    result = vidpipe("gc", board, "--yes")
    assert result.exit_code == 2 and "nine" in result.stderr
    assert cached(state) == before


def test_gc_never_empties_a_cache_whose_ledger_is_gone(tmp_path: Path) -> None:
    board, state, before = ran_once(tmp_path)
    for ledger in state.glob("ledger.sqlite3*"):
        ledger.unlink()
    for args in ((), ("--yes",)):
        result = vidpipe("gc", board, *args)
        assert result.exit_code == 2, result.output
        assert "its ledger records no run" in result.stderr
    (state / "ledger.sqlite3").write_bytes(b"")  # an empty file opens as an empty ledger
    assert vidpipe("gc", board, "--yes").exit_code == 2
    assert cached(state) == before
