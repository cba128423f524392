"""The remix DAG: remix levels, cycles and the `--only` closure."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidpipe.dag import dag, find_cycles, plan_order, select
from vidpipe.errors import InputError
from vidpipe.loading import load
from vidpipe.model import Shot, Storyboard


def board(remixes: dict[str, str | None]) -> Storyboard:
    """A storyboard built directly (so cycles the loader would refuse can be tested)."""
    shots = [
        Shot(
            id=shot_id,
            index=i,
            provider="p",
            prompt="x",
            remix=remix,
            depends_on=(remix,) if remix else (),
            line=10 * (i + 1),
            lines={"remix": 10 * (i + 1) + 2} if remix else {},
        )
        for i, (shot_id, remix) in enumerate(remixes.items())
    ]
    path = Path("/tmp/board.yaml")
    return Storyboard(path=path, base_dir=path.parent, name="b", shots=shots)


def test_levels_follow_remix_edges_in_file_order() -> None:
    sb = board({"night": "day", "day": None, "dawn": None, "storm": "night", "dusk": "day"})
    assert plan_order(sb) == [["day", "dawn"], ["night", "dusk"], ["storm"]]
    assert dag(sb) == [("day", "night"), ("night", "storm"), ("day", "dusk")]


def test_no_remixes_is_one_level() -> None:
    sb = board({"a": None, "b": None, "c": None})
    assert plan_order(sb) == [["a", "b", "c"]]
    assert dag(sb) == []


def test_long_chain_plans_without_recursion_limits() -> None:
    ids = [f"s{i:03d}" for i in range(400)]
    sb = board({ids[i]: (ids[i - 1] if i else None) for i in reversed(range(400))})
    levels = plan_order(sb)
    assert len(levels) == 400 and levels[0] == ["s000"] and levels[-1] == ["s399"]


def test_cycles_raise_with_shots_and_lines() -> None:
    sb = board({"a": "c", "b": "a", "c": "b", "ok": None, "after": "a"})
    with pytest.raises(InputError) as info:
        plan_order(sb)
    err = info.value
    assert len(err.problems) == 1
    problem = err.problems[0]
    assert problem.file == "/tmp/board.yaml" and problem.line == 12
    assert "a (line 12)" in problem.message and "b (line 22)" in problem.message
    assert "c (line 32)" in problem.message and "after" not in problem.message
    assert "board.yaml:12: remix cycle" in str(err)


def test_find_cycles() -> None:
    assert find_cycles({"a": [], "b": ["a"]}) == []
    assert find_cycles({"a": ["a"]}) == [["a"]]
    cycles = find_cycles({"a": ["b"], "b": ["a"], "c": ["d"], "d": ["c"], "e": ["a"], "f": []})
    assert sorted(sorted(c) for c in cycles) == [["a", "b"], ["c", "d"]]
    assert find_cycles({"a": ["missing"]}) == []


def test_select_adds_remix_ancestors() -> None:
    sb = board({"day": None, "night": "day", "storm": "night", "other": None})
    assert select(sb, ["storm"]) == {"storm", "night", "day"}
    assert select(sb, ["other", "night"]) == {"other", "night", "day"}
    assert select(sb, ["day"]) == {"day"}
    assert select(sb, []) == {"day", "night", "storm", "other"}


def test_select_unknown_ids() -> None:
    sb = board({"establish": None, "night": "establish"})
    with pytest.raises(InputError) as info:
        select(sb, ["establsh", "zzz", "night"])
    text = str(info.value)
    assert "no shot 'establsh' (did you mean 'establish'?)" in text
    assert "no shot 'zzz'" in text and len(info.value.problems) == 2
    assert all(p.file == "/tmp/board.yaml" for p in info.value.problems)


def test_plan_from_a_loaded_storyboard(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "providers: {anyfast: {}}\n"
        "shots:\n"
        "  - {id: night, prompt: n, remix: day}\n"
        "  - {id: day, prompt: d}\n"
    )
    sb = load(path, env={})
    assert plan_order(sb) == [["day"], ["night"]]
    assert select(sb, ["night"]) == {"day", "night"}
