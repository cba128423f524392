"""Reproducibility through the whole pipeline: same seed same bytes, another seed other bytes,
and a manifest that is enough to send every request again by hand."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Any

import httpx

from vidpipe.manifest import RunResult
from vidpipe.specs import default_registry

from .runs import (
    EXAMPLES,
    TEST_KEY,
    InProcess,
    manifest,
    run_board,
    server,
    sha256_of,
    write_tiny,
)

#: The example's shots whose API takes a seed (happyhorse and newapi); the others do not.
SEEDED = {
    "poster",
    "finale",
    "hillside[take=1]",
    "hillside[take=2]",
    "portrait[model=kling-video]",
    "portrait[model=veo3]",
}
#: Not seeded itself, but it starts on a frame of a seeded shot (hillside).
BUILT_ON_SEEDED = {"onward"}


def _example(tmp: Path, seed: int) -> Path:
    """A copy of the example storyboard with its master seed replaced."""
    shutil.copytree(EXAMPLES, tmp)
    board = tmp / "storyboard.yaml"
    text, count = re.subn(r"(?m)^seed: \d+", f"seed: {seed}", board.read_text())
    assert count == 1
    board.write_text(text)
    return board


def _digests(result: RunResult) -> dict[str, str]:
    assert result.ok, result.to_json()
    return {s.shot_id: str(s.sha256) for s in result.shots.values()}


def test_same_seed_same_files_another_seed_other_files_for_seeded_shots(tmp_path: Path) -> None:
    runs: dict[str, RunResult] = {}
    emulators = {"a": InProcess.start(), "b": InProcess.start()}
    emulators["c"] = emulators["b"]  # saves renders; the seeded requests differ anyway
    for name, seed in (("a", 1234), ("b", 1234), ("c", 99)):
        # A fresh state dir and output folder for every run, and a fresh emulator for a, b.
        folder = tmp_path / name
        runs[name] = run_board(_example(folder / "example", seed), emulators[name], folder)
    a, b, c = (_digests(runs[n]) for n in "abc")
    assert a == b
    for result in runs.values():
        assert result.final is not None and result.final.file is not None
        assert sha256_of(result.final.file) == result.final.sha256
    assert runs["a"].final and runs["b"].final
    assert runs["a"].final.sha256 == runs["b"].final.sha256
    assert {s for s in a if a[s] != c[s]} == SEEDED | BUILT_ON_SEEDED
    # The requests match as well, shot by shot, and so do the fingerprints.
    for one, two in zip(runs["a"].shots.values(), runs["b"].shots.values(), strict=True):
        assert (one.request, one.fingerprint, one.seed) == (two.request, two.fingerprint, two.seed)
    seeds = {s.shot_id: s.seed for s in runs["c"].shots.values()}
    assert all(
        seeds[s] != o.seed for s in SEEDED for o in runs["a"].shots.values() if o.shot_id == s
    )

    doc = manifest(tmp_path / "a" / "out", "sunflower-cat")
    assert doc["seed"] == 1234
    for shot_id, entry in doc["shots"].items():
        assert entry["seed_reproducible"] is (shot_id in SEEDED)
        if shot_id in SEEDED:
            assert entry["seed"] == entry["request"]["seed"] and entry["seed"] is not None
        else:
            assert entry["seed"] is None and "seed" not in entry["request"]


def test_a_shot_seed_is_stable_and_its_own(tmp_path: Path) -> None:
    board = write_tiny(tmp_path / "board", seed=7)
    first = run_board(board, InProcess.start(), tmp_path / "one")
    again = run_board(board, InProcess.start(), tmp_path / "two")
    other = run_board(write_tiny(tmp_path / "other", seed=8), InProcess.start(), tmp_path / "x")
    kite = [r["kite"] for r in (first, again, other)]
    assert kite[0].seed_sent and kite[0].request["seed"] == kite[0].seed
    assert kite[0].seed == kite[1].seed != kite[2].seed
    assert kite[0].sha256 == kite[1].sha256 != kite[2].sha256
    # A shot id is part of its seed: two shots never share a derived seed.
    assert len({s.seed for s in first.shots.values()}) == len(first.shots)


def _form(fields: dict[str, Any]) -> list[tuple[str, tuple[None, str, None]]]:
    return [(k, (None, str(v), None)) for k, v in fields.items()]


def _replay(entry: dict[str, Any], client: httpx.Client, tasks: dict[str, str]) -> str:
    """Send one manifest entry's request by hand; return the new task id."""
    spec = default_registry()[entry["spec"]["name"]]
    assert spec.sha256 == entry["spec"]["sha256"]
    api = f"/{entry['api']}"
    request = dict(entry["request"])
    source = entry["remix_of"]
    if source is not None and spec.remix_via == "endpoint":
        path = re.sub(r"\{[^}]+\}", tasks[source], spec.operation("remix").path)
        answer = client.post(api + path, json={"prompt": request["prompt"]})
    else:
        assert source is None  # the tiny storyboard remixes only through the endpoint
        path = spec.operation("create").path
        if spec.create_content_type == "multipart/form-data":
            answer = client.post(api + path, files=_form(request))
        else:
            answer = client.post(api + path, json=request)
    answer.raise_for_status()
    task_id: str = answer.json()["id"]
    return task_id


def test_the_manifest_is_enough_to_send_every_request_again(tmp_path: Path) -> None:
    board = write_tiny(tmp_path / "board")
    result = run_board(board, InProcess.start(), tmp_path)
    doc = manifest(tmp_path / "out", "tiny")
    assert doc["seed"] == 7
    replayed: dict[str, str] = {}
    tasks: dict[str, str] = {}
    # By hand, from the manifest alone, in file order (a remix after its source), against
    # a fresh emulator that vidpipe never talked to.
    with (
        server(job_seconds=0) as srv,
        httpx.Client(base_url=srv.base_url, headers={"Authorization": f"Bearer {TEST_KEY}"}) as c,
    ):
        for shot_id, entry in doc["shots"].items():
            tasks[shot_id] = task_id = _replay(entry, c, tasks)
            api = f"/{entry['api']}"
            assert c.get(f"{api}/v1/videos/{task_id}").json()["status"] == "completed"
            video = c.get(f"{api}/v1/videos/{task_id}/content")
            video.raise_for_status()
            replayed[shot_id] = hashlib.sha256(video.content).hexdigest()
    assert replayed == {s.shot_id: s.sha256 for s in result.shots.values()}
    assert replayed == {shot: entry["sha256"] for shot, entry in doc["shots"].items()}
