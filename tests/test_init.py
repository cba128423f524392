"""`vidpipe init [DIR]`: a starter storyboard that validates and runs on the embedded
emulator, a template in templates/, .gitignore entries for .vidpipe/ and out/ (appended,
never twice), no file overwritten without --force, and what to run next."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .test_cli import vidpipe


def test_init_writes_a_project_that_validates_and_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = vidpipe("init", "film")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "film"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == [
        ".gitignore",
        "storyboard.yaml",
        "templates",
        "templates/scene.j2",
    ]
    assert (folder / ".gitignore").read_text().splitlines()[1:] == [".vidpipe/", "out/"]
    assert result.stdout.splitlines()[-4:] == [
        "  cd film",
        "  vidpipe validate storyboard.yaml    # check it against the provider's spec",
        "  vidpipe plan storyboard.yaml        # the prompts and requests; sends nothing",
        "  vidpipe run storyboard.yaml         # videos in out/, then open its report.html",
    ]

    # What it says to run next works, from the folder it names.
    monkeypatch.chdir(folder)
    checked = vidpipe("validate", "storyboard.yaml")
    assert checked.stdout == "storyboard.yaml: ok (3 shots, 1 provider)\n", checked.output
    plan = json.loads(vidpipe("plan", "storyboard.yaml", "--json").stdout)
    # The template renders with its filters (sentence, oxford, the seeded random).
    assert plan["shots"]["opening"]["prompt"].startswith(
        "A paper boat drifts along the gutter through a rainy city street. "
        "We see neon reflections and falling rain. "
    )
    ran = vidpipe("run", "storyboard.yaml", "--job-seconds", "0", "--json")
    assert ran.exit_code == 0, ran.output
    summary = json.loads(ran.stdout)
    assert summary["counts"] == {"done": 3} and summary["final"]["status"] == "done"
    assert (folder / "out" / "first-film" / "final.mp4").is_file()


def test_init_refuses_to_overwrite_and_names_the_files(tmp_path: Path) -> None:
    assert vidpipe("init", tmp_path).exit_code == 0
    storyboard = tmp_path / "storyboard.yaml"
    storyboard.write_text("mine\n")
    again = vidpipe("init", tmp_path)
    assert again.exit_code == 2 and again.stdout == ""
    assert again.stderr.splitlines() == [
        f"error: {path}: exists already; nothing was written (--force overwrites it)"
        for path in (storyboard, tmp_path / "templates" / "scene.j2")
    ]
    assert storyboard.read_text() == "mine\n"

    forced = vidpipe("init", tmp_path, "--force")
    assert forced.exit_code == 0, forced.output
    assert storyboard.read_text().startswith("# A starter storyboard")
    assert "to " + str(tmp_path / ".gitignore") not in forced.stdout  # nothing to add
    assert (tmp_path / ".gitignore").read_text().count(".vidpipe/") == 1


def test_init_appends_only_the_missing_gitignore_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".gitignore").write_text("node_modules/\n/.vidpipe")  # no final newline
    result = vidpipe("init")
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".gitignore").read_text() == (
        "node_modules/\n/.vidpipe\n# vidpipe: its state dir and outputs\nout/\n"
    )
    assert f"added out/ to {Path('.gitignore')}" in result.stdout.splitlines()
    assert "  cd " not in result.stdout  # already there


def test_init_into_a_path_that_is_a_file_is_exit_2(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("")
    result = vidpipe("init", target)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {target}")
