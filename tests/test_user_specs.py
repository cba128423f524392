"""A provider is a spec file: an invented gateway (Reelsmith, its own field names and status
words) added with `vidpipe specs draft`, edits to that one spec file and nothing else, runs a
storyboard on the embedded emulator; and a user's folder of specs (`specs:`, `--specs`,
VIDPIPE_SPECS) gets generated clients, validation and the emulator like the shipped specs."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from vidpipe.adapters import check_client, client_index, clientcache
from vidpipe.cli import main
from vidpipe.errors import SpecError
from vidpipe.ledger import Ledger
from vidpipe.openapi import SPEC_DIR
from vidpipe.specs import default_registry, load_spec
from vidpipe.states import ShotState

from .reelsmith import DOCUMENT, FIELDS, WORDS, settle_todos, write_spec
from .specvalues import smallest_size

REELSMITH = "reelsmith"


def vidpipe(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env=env).invoke(main, [str(a) for a in args], catch_exceptions=False)


def smallest(spec_path: Path) -> dict[str, Any]:
    """The smallest size and the shortest duration the spec allows (read from the spec file,
    which may still be a draft)."""
    doc = yaml.safe_load(spec_path.read_text())
    fields = doc["components"]["schemas"]["CreateVideoRequest"]["properties"]
    size, duration = fields[FIELDS["size"]], fields[FIELDS["duration"]]
    width_height = [tuple(map(int, str(s).split("x"))) for s in size["enum"]]
    small = min(width_height, key=lambda wh: wh[0] * wh[1])
    return {"size": f"{small[0]}x{small[1]}", "duration": duration["minimum"]}


def storyboard(folder: Path, spec_path: Path, *, specs_key: bool = True) -> Path:
    values = smallest(spec_path)
    board: dict[str, Any] = {
        "version": 1,
        "name": "reels",
        "seed": 11,
        "providers": {"reel": {"api": REELSMITH}},
        "defaults": {"model": "reel-1", **values},
        "shots": [
            {"id": "storm", "prompt": "a lighthouse in a storm"},
            {"id": "calm", "remix": "storm", "prompt": "the same lighthouse, calm sea"},
        ],
        "final": {"concat": ["storm", "calm"]},
    }
    if specs_key:
        board = {"specs": spec_path.parent.name, **board}
    path = folder / "reels.yaml"
    path.write_text(yaml.safe_dump(board, sort_keys=False))
    return path


def test_a_new_provider_is_one_spec_file_drafted_from_its_document(
    tmp_path: Path, client_cache: Path
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    spec_path = specs / "reelsmith.yaml"

    drafted = vidpipe(
        "specs", "draft", DOCUMENT, "--family", "videos", "--name", REELSMITH, "--out", spec_path
    )
    assert drafted.exit_code == 0, drafted.output
    assert "9 TODOs to settle" in drafted.output
    board = storyboard(tmp_path, spec_path)
    refused = vidpipe("validate", board)
    assert refused.exit_code == 2
    assert "is a draft: replace the TODO at x-vidpipe.fields.prompt" in refused.output

    # The edits a maintainer makes, all in that one file.
    spec_path.write_text(settle_todos(spec_path.read_text(), {**FIELDS, **WORDS}))
    checked = vidpipe("specs", "check-docs", DOCUMENT, spec_path)
    assert checked.exit_code == 0, checked.output
    assert vidpipe("validate", board).exit_code == 0

    out = tmp_path / "out"
    ran = vidpipe("run", board, "--out", out, "--job-seconds", "0")
    assert ran.exit_code == 0, ran.output
    assert (out / "reels" / "storm.mp4").stat().st_size > 0
    assert (out / "reels" / "final.mp4").stat().st_size > 0
    spec = load_spec(spec_path)
    folder = clientcache.client_folder(spec)
    assert folder.parent.parent == client_cache and folder.name == spec.sha256
    assert (folder / REELSMITH / "index.py").is_file()
    # The emulator answered in Reelsmith's own words, and the runner read them.
    with Ledger.open(tmp_path / ".vidpipe") as ledger:
        rows = [ledger.lookup(p) for p in (s["fingerprint"] for s in _shots(board))]
    assert {(r.state, r.raw_status) for r in rows if r} == {(ShotState.DONE, "DONE")}
    sent = json.loads((out / "reels" / "manifest.json").read_text())["shots"]["storm"]
    assert sent["spec"] == {"name": REELSMITH, "sha256": spec.sha256}
    assert set(sent["request"]) == {"model", "scene", "length_s", "frame", "noise_seed"}


def _shots(board: Path) -> list[dict[str, Any]]:
    status = json.loads(vidpipe("status", board, "--json").output)
    return list(status["shots"].values())


def test_a_new_spec_needs_no_python_and_no_generated_code_in_the_project() -> None:
    """The shipped registry is untouched by the test above: nothing was added to vidpipe."""
    assert REELSMITH not in default_registry().specs
    assert not (SPEC_DIR.parent / "generated" / REELSMITH).exists()


@pytest.fixture
def reelsmith(tmp_path: Path) -> Path:
    return write_spec(tmp_path / "mine")


def test_specs_from_the_command_line_or_the_environment(tmp_path: Path, reelsmith: Path) -> None:
    board = storyboard(tmp_path, reelsmith, specs_key=False)
    missing = vidpipe("validate", board)
    assert missing.exit_code == 2 and "provider 'reel': api must be one of" in missing.output
    assert vidpipe("validate", board, "--specs", reelsmith.parent).exit_code == 0
    assert vidpipe("validate", board, env={"VIDPIPE_SPECS": str(reelsmith.parent)}).exit_code == 0
    listed = vidpipe("specs", "list", "--specs", reelsmith.parent)
    assert f"{REELSMITH}" in listed.output and str(reelsmith) in listed.output
    bad = vidpipe("validate", board, "--specs", tmp_path / "nothing")
    assert bad.exit_code == 2 and "is not a folder of specs" in bad.output


def test_a_broken_user_spec_is_bad_input_at_the_specs_line(tmp_path: Path, reelsmith: Path) -> None:
    reelsmith.write_text(reelsmith.read_text().replace("family: videos", "family: clips"))
    board = storyboard(tmp_path, reelsmith)
    result = vidpipe("validate", board)
    assert result.exit_code == 2
    assert f"reels.yaml:1: specs: {reelsmith}: x-vidpipe.family must be one of" in result.output


def test_a_user_adds_a_model_to_a_shipped_provider(tmp_path: Path) -> None:
    """The 'wan-3.0-pro' case: copy the shipped spec, add the model, no fork of vidpipe."""
    mine = tmp_path / "mine"
    mine.mkdir()
    doc = yaml.safe_load((SPEC_DIR / "newapi.yaml").read_text())
    doc["components"]["schemas"]["CreateVideoRequest"]["properties"]["model"]["enum"].append(
        "wan-3.0-pro"
    )
    (mine / "newapi.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    board = tmp_path / "board.yaml"
    size = smallest_size("newapi")
    board.write_text(
        "name: wan\nproviders: {gw: {api: newapi}}\n"
        f"shots: [{{id: a, prompt: x, model: wan-3.0-pro, duration: 1, size: {size}}}]\n"
    )
    stock = vidpipe("validate", board)
    assert stock.exit_code == 2 and "board.yaml:3" in stock.output and "wan-3.0-pro" in stock.output
    assert vidpipe("validate", board, "--specs", mine).exit_code == 0
    out = tmp_path / "out"
    ran = vidpipe("run", board, "--specs", mine, "--out", out, "--job-seconds", "0")
    assert ran.exit_code == 0, ran.output


def test_a_missing_generator_is_a_clear_error(
    tmp_path: Path, reelsmith: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIDPIPE_CLIENT_CACHE", str(tmp_path / "empty-cache"))
    real = importlib.util.find_spec

    def without_generator(name: str, *args: Any) -> Any:
        return None if name == "openapi_python_client" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_generator)
    spec = default_registry().with_dirs([reelsmith.parent])[REELSMITH]
    with pytest.raises(SpecError) as info:
        check_client(spec)
    assert str(info.value) == (
        f"{reelsmith}: is not shipped with vidpipe, and generating its client needs "
        "openapi-python-client: pip install 'vidpipe[specs]'"
    )
    board = storyboard(tmp_path, reelsmith)
    result = vidpipe("validate", board)
    assert result.exit_code == 2 and "pip install 'vidpipe[specs]'" in result.output


def test_a_cached_client_of_another_version_is_stale(tmp_path: Path, reelsmith: Path) -> None:
    spec = default_registry().with_dirs([reelsmith.parent])[REELSMITH]
    index = client_index(spec)
    assert (REELSMITH, spec.sha256) == (index.SPEC, index.SPEC_SHA256)
    edited = tmp_path / "edited"
    edited.mkdir()
    (edited / "reelsmith.yaml").write_text(reelsmith.read_text() + "# changed\n")
    changed = load_spec(edited / "reelsmith.yaml")
    assert changed.sha256 != spec.sha256  # another key: a client of its own
    folder = clientcache.client_folder(changed)
    (folder / REELSMITH).mkdir(parents=True)
    source = clientcache.client_folder(spec) / REELSMITH
    for path in source.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            target = folder / REELSMITH / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    with pytest.raises(SpecError, match=r"generated client for reelsmith in .* is stale"):
        client_index(changed)


async def test_the_emulator_serves_a_users_spec_in_its_own_words(reelsmith: Path) -> None:
    from .emulator_fixtures import client, emulator, form

    registry = default_registry().with_dirs([reelsmith.parent])
    emu = emulator(specs=registry, job_seconds=10)
    body = {"model": "reel-1", "scene": "a lighthouse", "length_s": 1, "frame": "256x144"}
    async with client(emu) as c:
        created = await c.post(f"/{REELSMITH}/v1/videos", files=form(body))
        refused = await c.post(f"/{REELSMITH}/v1/videos", files=form({**body, "frame": "64x48"}))
    assert created.status_code == 200 and created.json()["status"] == "WAITING"
    assert refused.status_code == 400


def test_the_emulator_command_takes_specs_and_refuses_a_bad_folder(tmp_path: Path) -> None:
    result = vidpipe("emulator", "--specs", tmp_path / "nothing")
    assert result.exit_code == 2 and "is not a folder of specs" in result.output


def test_the_python_api_runs_a_storyboard_with_its_own_specs(
    tmp_path: Path, reelsmith: Path
) -> None:
    import vidpipe

    board = storyboard(tmp_path, reelsmith)
    loaded = vidpipe.load(board)
    assert loaded.spec_dirs == (reelsmith.parent.resolve(),)
    planned = vidpipe.plan(board)
    assert {p.request.spec.name for p in planned} == {REELSMITH}
    result = vidpipe.run(board, vidpipe.RunOptions(out_dir=tmp_path / "out"))
    assert result.ok, result.to_json()


def test_specs_must_name_folders(tmp_path: Path) -> None:
    board = tmp_path / "board.yaml"
    board.write_text(
        "name: x\nspecs: 3\nproviders: {gw: {api: newapi}}\nshots: [{id: a, prompt: x}]\n"
    )
    result = vidpipe("validate", board)
    assert result.exit_code == 2 and "board.yaml:2" in result.output


def test_api_names_one_spec_of_a_group(tmp_path: Path) -> None:
    board = tmp_path / "board.yaml"
    board.write_text(
        "name: x\nproviders: {sora: {api: anyfast_sora}}\n"
        "shots:\n  - {id: a, prompt: x, model: sora-2}\n  - {id: b, prompt: y, model: seedance-fast}\n"
    )
    result = vidpipe("validate", board)
    assert result.exit_code == 2
    assert "board.yaml:5" in result.output and "seedance-fast" in result.output
    assert "board.yaml:4" not in result.output


async def test_the_emulator_serves_one_spec_of_a_group_under_its_name() -> None:
    from .emulator_fixtures import client, emulator, form

    sora = {"model": "sora-2", "prompt": "x", "seconds": "4", "size": "720x1280"}
    seedance = {"model": "seedance-fast", "content": [{"type": "text", "text": "x"}]}
    async with client(emulator()) as c:
        alone = await c.post("/anyfast_sora/v1/videos", files=form(sora))
        other = await c.post("/anyfast_sora/v1/video/generations", json=seedance)
        grouped = await c.post("/anyfast/v1/video/generations", json=seedance)
    assert alone.status_code == 200
    assert other.status_code == 404 and grouped.status_code == 200
