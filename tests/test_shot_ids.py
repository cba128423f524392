"""`--only` and `--force` take several shot ids: after one flag, by repeating it, or joined
by commas, all through `vidpipe run`; unknown ids are exit 2 with a "did you mean"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vidpipe.shotargs import spread_ids

from .test_cli import run_tiny, tiny, vidpipe

ONLY = [
    ("--only", "one", "two"),
    ("--only", "one", "--only", "two"),
    ("--only", "one,two"),
    ("--only=one", "two"),
    ("--only", "two, one"),
]


@pytest.mark.parametrize("flags", ONLY, ids=" ".join)
def test_only_takes_several_ids_in_every_spelling(tmp_path: Path, flags: tuple[str, ...]) -> None:
    result = run_tiny(tiny(tmp_path), *flags, "--json")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)["shots"]) == {"one", "two"}


def test_the_ids_may_come_before_the_storyboard(tmp_path: Path) -> None:
    board = tiny(tmp_path)
    out = tmp_path / "out"
    # `tiny.yaml` is not a shot id, so it ends the list and is the storyboard.
    result = vidpipe("run", "--only", "one", "two", board, "--out", out, "--job-seconds", "0")
    assert result.exit_code == 0, result.output
    assert {p.stem for p in (out / "tiny").glob("*.mp4")} == {"one", "two"}


def test_force_takes_several_ids(tmp_path: Path) -> None:
    board = tiny(tmp_path)
    first = json.loads(run_tiny(board, "--json").stdout)["shots"]
    again = run_tiny(board, "--force", "one", "two", "--json")
    assert again.exit_code == 0, again.output
    shots = json.loads(again.stdout)["shots"]
    for shot in ("one", "two"):
        assert shots[shot]["status"] == "done"
        assert shots[shot]["task_id"] != first[shot]["task_id"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--only", "one", "tow"), "--only: no shot 'tow' (did you mean 'two'?)"),
        (("--force", "thre,one"), "--force: no shot 'thre' (did you mean 'three'?)"),
        (
            ("--only", "one", "--force", "two"),
            "--force: 'two' is not run, --only leaves it out; add it to --only to make it again",
        ),
    ],
)
def test_an_unknown_id_is_exit_2_with_a_suggestion_and_nothing_sent(
    tmp_path: Path, flags: tuple[str, ...], message: str
) -> None:
    board = tiny(tmp_path)
    result = run_tiny(board, *flags)
    assert result.exit_code == 2
    assert result.stderr == f"error: {board}: {message}\n"
    assert not (tmp_path / ".vidpipe").exists() and not (tmp_path / "out").exists()


def test_an_empty_id_is_a_usage_error(tmp_path: Path) -> None:
    result = run_tiny(tiny(tmp_path), "--only", "one,")
    assert result.exit_code == 2
    assert "empty shot id in 'one,'" in result.stderr
    assert not (tmp_path / ".vidpipe").exists()


def test_the_list_ends_at_an_option_a_non_id_a_file_or_double_dash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flags = ("--only", "--force")
    assert spread_ids(["--only", "a", "b", "--out", "c", "d"], flags) == [
        "--only", "a", "--only", "b", "--out", "c", "d",
    ]  # fmt: skip
    # The flag's own value is taken whatever it is; the words after it only if they are ids.
    assert spread_ids(["--force", "Bad", "x,y", "board.yaml", "z"], flags) == [
        "--force", "Bad", "--force", "x,y", "board.yaml", "z",
    ]  # fmt: skip
    assert spread_ids(["--only", "a", "--", "b"], flags) == ["--only", "a", "--", "b"]
    monkeypatch.chdir(tmp_path)
    Path("board").write_text("")  # a storyboard named like a shot id
    assert spread_ids(["--only", "a", "board", "b"], flags) == ["--only", "a", "board", "b"]
