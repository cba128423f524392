"""A seeded fault soak: 200 shots over both API families, then at most one plain rerun.

Not a timed benchmark: it checks that faults never make vidpipe pay twice. Two loopback
emulators, each with its own seeded faults:

- /v1/videos (sora-2, with remixes, and apifree): 429s, resets, lost create answers
  (created-502, created-504-json: the task exists, the answer is an error), 5xx bursts on
  status reads, result URLs that refuse (403) twice, truncated downloads. Its specs declare
  the list route (`bench.listing`), so every lost create answer is found again.
- /v1/video/generations (seedance): the same, except lost create answers: no spec of that
  family offers a way to find a task, so one would stay `unknown` until the user decides.

The result: creates (one per request: 200), duplicate creates (must be 0), verified files
(200: each file's sha256 matches the manifest and the ledger), and what was left undone.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import stamina.instrumentation
import yaml

from vidpipe.api import run as run_storyboard
from vidpipe.emulator import EmulatorConfig, running_server
from vidpipe.fingerprint import sha256_file
from vidpipe.ledger import Ledger
from vidpipe.loading import load
from vidpipe.openapi import SPEC_DIR
from vidpipe.runner import RunOptions
from vidpipe.specs import SpecRegistry

from .listing import generated_clients, with_list_route

SEED = 20261202
KEY = "soak-key"
VIDEOS_FAULTS = (
    "429=0.05,reset=0.03,created-502=0.06,created-504-json=0.04,"
    "burst-5xx=0.1x4,url-403=0.3x2,truncate=0.1"
)
GENERATIONS_FAULTS = "429=0.05,burst-5xx=0.1x4,burst-429=0.05x3,url-403=0.3x2,truncate=0.1"


def _specs(folder: Path) -> list[Path]:
    """The soak's specs: sora and apifree with a list route (sora with a tiny size too), and
    seedance as shipped."""
    folder.mkdir(parents=True)
    sora = (
        (SPEC_DIR / "anyfast_sora.yaml")
        .read_text()
        .replace(
            "enum: [720x1280, 1280x720, 1024x1792, 1792x1024]\n          x-enum-varnames: [W720_H1280,",
            "enum: [64x48, 720x1280, 1280x720, 1024x1792, 1792x1024]\n"
            "          x-enum-varnames: [W64_H48, W720_H1280,",
        )
    )
    (folder / "soak_sora.yaml").write_text(with_list_route(sora))
    (folder / "soak_apifree.yaml").write_text(
        with_list_route((SPEC_DIR / "apifree.yaml").read_text())
    )
    (folder / "anyfast_seedance.yaml").write_text((SPEC_DIR / "anyfast_seedance.yaml").read_text())
    return [folder / "soak_sora.yaml", folder / "soak_apifree.yaml"]


def _storyboard(videos: str, generations: str) -> dict[str, Any]:
    """200 shots: 30 sora-2 shots and 20 remixes of them, 50 apifree, 100 seedance."""
    shots: list[dict[str, Any]] = []
    for i in range(30):
        shots.append({"id": f"sora{i:03d}", "prompt": f"a paper boat number {i} on a pond"})
    for i in range(20):
        shots.append(
            {"id": f"remix{i:03d}", "remix": f"sora{i:03d}", "prompt": f"boat {i} at dusk"}
        )
    for i in range(50):
        shots.append(
            {
                "id": f"free{i:03d}",
                "provider": "free",
                "model": "wan-2",
                "duration": 1,
                "prompt": f"a lighthouse number {i} in fog",
            }
        )
    for i in range(100):
        shots.append(
            {
                "id": f"gen{i:03d}",
                "provider": "gen",
                "model": "seedance-fast",
                "duration": 1,
                "resolution": "480p",
                "ratio": "1:1",
                "prompt": f"a kite number {i} over dunes",
            }
        )
    provider = {"api_key": KEY, "concurrency": 12}
    return {
        "version": 1,
        "name": "soak",
        "seed": SEED,
        "providers": {
            "sora": {"api": "anyfast", "base_url": f"{videos}/anyfast", **provider},
            "free": {"api": "soak_apifree", "base_url": f"{videos}/soak_apifree", **provider},
            "gen": {"api": "anyfast", "base_url": f"{generations}/anyfast", **provider},
        },
        "defaults": {"provider": "sora", "model": "sora-2", "seconds": 4, "size": "64x48"},
        "shots": shots,
    }


def _verified(out: Path, state: Path) -> tuple[int, int, list[str]]:
    """How many shots have a file whose sha256 matches the manifest and the ledger, how many
    had a lost create answer and were re-attached, and the shots not done."""
    doc = json.loads((out / "soak" / "manifest.json").read_text())
    good, reattached, bad = 0, 0, []
    with Ledger.open(state) as ledger:
        for shot_id, entry in doc["shots"].items():
            kinds = [e.kind for e in ledger.events(entry["fingerprint"])]
            reattached += "unknown" in kinds and kinds.index("unknown") < kinds.index("task")
            file = out / "soak" / entry["file"] if entry.get("file") else None
            record = ledger.lookup(entry["fingerprint"]) if entry.get("fingerprint") else None
            if (
                file is not None
                and file.is_file()
                and record is not None
                and sha256_file(file) == entry["sha256"] == record.sha256
            ):
                good += 1
            else:
                bad.append(f"{shot_id}: {entry['status']}: {entry.get('error')}")
    return good, reattached, bad


def run() -> dict[str, object]:
    stamina.instrumentation.set_on_retry_hooks(())  # the retries are counted, not logged
    with tempfile.TemporaryDirectory(prefix="vidpipe-soak-") as tmp:
        root = Path(tmp)
        with generated_clients(_specs(root / "specs")):
            registry = SpecRegistry.load(root / "specs")
            videos = EmulatorConfig(
                seed=SEED, job_seconds=0.3, faults=VIDEOS_FAULTS, specs=registry
            )
            generations = EmulatorConfig(
                seed=SEED + 1, job_seconds=0.3, faults=GENERATIONS_FAULTS, specs=registry
            )
            with running_server(videos) as v_url, running_server(generations) as g_url:
                board = root / "soak.yaml"
                board.write_text(yaml.safe_dump(_storyboard(v_url, g_url), sort_keys=False))
                storyboard = load(board, env={}, registry=registry)
                options = RunOptions(
                    out_dir=root / "out",
                    state_dir=root / "state",
                    concurrency=24,
                    poll_deadline=600,
                )
                started = time.monotonic()
                runs = [run_storyboard(storyboard, options, registry=registry)]
                if not runs[0].ok:
                    runs.append(run_storyboard(storyboard, options, registry=registry))
                seconds = time.monotonic() - started
                stats = [_stats(v_url), _stats(g_url)]
            verified, reattached, undone = _verified(root / "out", root / "state")
    per_request: Counter[str] = Counter()
    for s in stats:
        per_request.update(s["creates"]["by_fingerprint"])
    faults: Counter[str] = Counter()
    for s in stats:
        faults.update(s["faults"])
    result: dict[str, object] = {
        "shots": len(storyboard.shots),
        "runs": len(runs),
        "first_run": ", ".join(f"{n} {state}" for state, n in runs[0].counts.items()),
        "creates": sum(per_request.values()),
        "distinct_requests": len(per_request),
        "duplicate_creates": sum(n - 1 for n in per_request.values()),
        "verified_files": verified,
        "lost_answers_reattached": reattached,
        "faults_met": sum(faults.values()),
        "seconds": round(seconds, 1),
    }
    print(f"soak: {result}; faults {dict(faults)}", file=sys.stderr)
    for line in undone:
        print(f"soak: not done: {line}", file=sys.stderr)
    assert result["duplicate_creates"] == 0, "a request was created twice"
    return result


def _stats(base_url: str) -> dict[str, Any]:
    import httpx

    answer = httpx.get(f"{base_url}/_emulator/stats", timeout=30)
    answer.raise_for_status()
    stats: dict[str, Any] = answer.json()
    return stats
