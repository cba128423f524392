"""Takes and sweeps: `takes: N` and `matrix:` make variants of a shot, each its own task;
`vidpipe pick` records which one the final cut and the shots built on it use."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from vidpipe.errors import InputError
from vidpipe.loading import load
from vidpipe.requests import build_requests
from vidpipe.runner import plan
from vidpipe.specs import default_registry
from vidpipe.states import ShotState

from .runs import PROVIDERS, TINY_VALUES, InProcess, in_process_env, run_board
from .test_cli import vidpipe

BOARD = (
    """\
version: 1
name: takes
seed: 11
"""
    + PROVIDERS
    + """\
defaults:
  provider: free
  model: {free_model}
  duration: {free_duration}
  size: {free_size}
shots:
  - id: hero
    provider: gateway
    model: {kite_model}
    duration: {kite_duration}
    size: {kite_size}
    prompt: a red kite over a beach
    takes: 3
  - id: after
    prompt: the kite lands
    image: {{shot: hero, frame: last}}
  - id: other
    prompt: a quiet harbour
final: {{concat: [hero, after, other]}}
"""
)


def board(folder: Path, text: str = BOARD) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "takes.yaml"
    path.write_text(text.format(**TINY_VALUES))
    return path


TAKES = ["hero[take=1]", "hero[take=2]", "hero[take=3]"]


def test_takes_are_distinct_tasks_with_distinct_files(tmp_path: Path) -> None:
    emulator = InProcess.start()
    result = run_board(board(tmp_path), emulator, tmp_path)
    assert result.ok, result.to_json()
    takes = [result.shots[t] for t in TAKES]
    assert len({t.task_id for t in takes}) == 3
    assert len({t.sha256 for t in takes}) == 3
    assert len({t.fingerprint for t in takes}) == 3
    assert emulator.stats()["creates"]["total"] == 5
    # Unpicked, the first take is the one the others build on and the cut uses.
    assert result.shots["after"].source_task == result.shots["hero[take=1]"].task_id
    assert result.final is not None and result.final.shots[0] == "hero[take=1]"


def test_each_take_has_its_own_seed_and_the_first_keeps_the_shot_s(tmp_path: Path) -> None:
    plain = load(board(tmp_path / "a", BOARD.replace("    takes: 3\n", "")), env=in_process_env())
    taken = load(board(tmp_path / "b"), env=in_process_env())
    registry = default_registry()
    seeds = {k: r.seed for k, r in build_requests(taken, registry).items()}
    assert len({seeds[t] for t in TAKES}) == 3
    assert seeds["hero[take=1]"] == build_requests(plain, registry)["hero"].seed


def test_without_a_seed_the_take_number_still_tells_the_tasks_apart(tmp_path: Path) -> None:
    # apifree takes no seed: the requests of the takes are the same.
    text = BOARD.replace("    provider: gateway\n", "", 1).replace("seed: 11\n", "")
    text = text.replace(
        "model: {kite_model}\n    duration: {kite_duration}\n    size: {kite_size}\n    prompt: a red",
        "prompt: a red",
    )
    planned = plan(load(board(tmp_path, text), env=in_process_env()), state_dir=tmp_path / "s")
    prints = {p.shot_id: p.fingerprint for p in planned}
    assert len({prints[t] for t in TAKES}) == 3


def test_pick_changes_exactly_the_shots_built_on_it(tmp_path: Path) -> None:
    emulator = InProcess.start()
    path = board(tmp_path)
    first = run_board(path, emulator, tmp_path)
    emulator.reset_stats()
    picked = vidpipe("pick", "hero", "2", path, env=in_process_env())
    assert picked.exit_code == 0, picked.output
    assert "hero: picked take=2" in picked.stdout and "1 shot built on it (after)" in picked.stdout
    assert (tmp_path / "takes.lock").read_text().endswith("picks:\n  hero: take=2\n")
    second = run_board(path, emulator, tmp_path)
    made = {s for s, r in second.shots.items() if r.status == ShotState.DONE}
    assert made == {"after"}
    assert second.shots["after"].source_task == first.shots["hero[take=2]"].task_id
    assert second.final is not None and second.final.shots[0] == "hero[take=2]"
    assert second.final.sha256 != (first.final.sha256 if first.final else None)
    assert emulator.stats()["creates"]["total"] == 1
    # Back to the first pick: everything is in the cache.
    assert vidpipe("pick", "hero", "take=1", path, env=in_process_env()).exit_code == 0
    emulator.reset_stats()
    third = run_board(path, emulator, tmp_path)
    assert {r.status for r in third.shots.values()} == {ShotState.CACHED}
    assert emulator.stats()["creates"]["total"] == 0
    assert third.final is not None and third.final.sha256 == first.final.sha256  # type: ignore[union-attr]


def test_a_bad_pick_is_refused_and_a_bad_lock_names_its_line(tmp_path: Path) -> None:
    path = board(tmp_path)
    result = vidpipe("pick", "hero", "4", path, env=in_process_env())
    assert result.exit_code == 2
    assert "pick: hero has no take '4' (it has take=1, take=2, take=3)" in result.stderr
    result = vidpipe("pick", "other", "1", path, env=in_process_env())
    assert result.exit_code == 2 and "shot 'other' has no takes or matrix" in result.stderr
    assert not (tmp_path / "takes.lock").exists()
    (tmp_path / "takes.lock").write_text("picks:\n  hero: take=9\n  heroo: take=1\n")
    with pytest.raises(InputError) as caught:
        load(path, env=in_process_env())
    found = {(p.file, p.line, p.message) for p in caught.value.problems}
    lock = str(tmp_path / "takes.lock")
    assert (lock, 2, "picks: hero has no variant 'take=9' (it has take=1, take=2, take=3)") in found
    assert (lock, 3, "picks: shot 'heroo' has no takes or matrix (did you mean 'hero'?)") in found


def test_only_and_force_take_the_written_id_for_all_its_takes(tmp_path: Path) -> None:
    emulator = InProcess.start()
    path = board(tmp_path)
    only = run_board(path, emulator, tmp_path, only=("hero",))
    assert set(only.shots) == set(TAKES)
    forced = run_board(path, emulator, tmp_path, force=("hero",))
    assert all(forced.shots[t].status == ShotState.DONE for t in TAKES)


SWEEP = """\
version: 1
name: sweep
seed: 2
providers:
  gateway: {{api: newapi}}
defaults: {{provider: gateway, model: {kite_model}, duration: {kite_duration}, size: {kite_size}}}
shots:
  - id: closeup
    prompt: "a kite, {{{{ mood }}}}"
    vars: {{mood: calm}}
    matrix:
      model: [{kite_model}, {other_model}]
      vars: {{mood: [calm, wild]}}
  - id: end
    remix: closeup
    prompt: the same at night
"""


def test_a_matrix_makes_named_variants_that_share_the_seed(tmp_path: Path) -> None:
    other = "veo3-fast" if TINY_VALUES["kite_model"] != "veo3-fast" else "veo3"
    path = tmp_path / "sweep.yaml"
    path.write_text(textwrap.dedent(SWEEP.format(other_model=other, **TINY_VALUES)))
    storyboard = load(path)
    kite = TINY_VALUES["kite_model"]
    assert storyboard.variants["closeup"] == (
        f"closeup[model={kite},mood=calm]",
        f"closeup[model={kite},mood=wild]",
        f"closeup[model={other},mood=calm]",
        f"closeup[model={other},mood=wild]",
    )
    assert storyboard.shot(f"closeup[model={other},mood=wild]").prompt == "a kite, wild"
    requests = build_requests(storyboard, default_registry())
    assert len({requests[v].seed for v in storyboard.variants["closeup"]}) == 1
    assert storyboard.shot("end").remix == f"closeup[model={kite},mood=calm]"
    assert vidpipe("pick", "closeup", f"model={other},mood=wild", path).exit_code == 0
    assert load(path).shot("end").remix == f"closeup[model={other},mood=wild]"


def test_the_report_shows_the_takes_side_by_side_with_the_pick(tmp_path: Path) -> None:
    emulator = InProcess.start()
    path = board(tmp_path)
    run_board(path, emulator, tmp_path)
    assert vidpipe("pick", "hero", "3", path, env=in_process_env()).exit_code == 0
    result = run_board(path, emulator, tmp_path)
    out = result.out_dir
    report = (out / "report.html").read_text()
    assert report.count('<figure class="take') == 3
    assert report.count('data-picked="true"') == 1
    assert '<figure class="take picked" data-shot="hero[take=3]" data-picked="true">' in report
    sheets = sorted((out / "sheets").glob("*.png"))
    assert len(sheets) == 3
    for sheet in sheets:
        assert f'src="sheets/{sheet.name}"' in report
        with Image.open(sheet) as picture:
            assert picture.height == 90 and picture.width > 3 * 90  # three 16:9 frames
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["picks"] == {"hero": "hero[take=3]"}
    assert manifest["variants"] == {"hero": TAKES}


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        ("    takes: 0\n", 25, "shot 'hero': takes must be 1 or more, not 0"),
        ("    takes: two\n", 25, "shot 'hero': takes must be an integer, not a string"),
        ("    matrix: {{model: []}}\n", 25, "shot 'hero': matrix.model must not be empty"),
        ("    matrix: {{models: [a]}}\n", 25, "unknown key 'models' in shot 'hero': matrix"),
        (
            "    matrix: {{vars: {{mood: calm}}}}\n",
            25,
            "shot 'hero': matrix.vars.mood must be a list",
        ),
    ],
)
def test_bad_takes_and_matrices_name_their_line(
    tmp_path: Path, edit: str, line: int, message: str
) -> None:
    path = board(tmp_path, BOARD.replace("    takes: 3\n", edit))
    result = vidpipe("validate", path, env=in_process_env())
    assert result.exit_code == 2, result.output
    assert f"{path}:{line}: {message}" in result.stderr, result.stderr
