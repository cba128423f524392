"""A lost ledger rebuilt from the output folder: manifest.json and the verified files.

The manifest holds, per shot, the fingerprint, the task, and the file with its sha256. When
the ledger is missing or empty (deleted, truncated to 0 bytes, a new state dir taking over
an output folder) those are written back before anything is sent, so no finished shot is
paid for again:

    a file whose sha256 matches the manifest   -> done (the file goes into the cache)
    a task, but no such file                   -> running: the run polls and downloads it
    unknown (a create whose answer was lost)   -> unknown again: only the user resolves it
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import StateError
from ..fingerprint import is_sha256, sha256_file
from ..ledger import Ledger
from ..model import Storyboard
from ..outdir import OutDir
from ..statedir import StateDir
from ..states import ShotState

__all__ = ["MANIFEST_FILENAME", "previous_manifest", "rebuild_ledger"]

MANIFEST_FILENAME = "manifest.json"


def previous_manifest(out: OutDir, storyboard: Storyboard) -> dict[str, Any] | None:
    """The manifest an earlier run of this storyboard wrote into `out`, if readable."""
    try:
        doc = json.loads((out.path / MANIFEST_FILENAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("name") != storyboard.name:
        return None
    if not isinstance(doc.get("shots"), dict):
        return None
    return doc


def _verified(out: OutDir, entry: dict[str, Any]) -> Path | None:
    file, sha256 = entry.get("file"), entry.get("sha256")
    if not isinstance(file, str) or not is_sha256(sha256):
        return None
    path = out.path / file
    try:
        if path.is_file() and path.resolve().is_relative_to(out.path.resolve()):
            return path if sha256_file(path) == sha256 else None
    except OSError:
        return None
    return None


def rebuild_ledger(
    ledger: Ledger, state: StateDir, out: OutDir, manifest: dict[str, Any], run_id: int
) -> str | None:
    """Write back the shots `manifest` knows into an empty `ledger`; a note saying so, or
    None when there was nothing to write back."""
    files = tasks = unknown = 0
    for shot_id, entry in manifest["shots"].items():
        if not isinstance(entry, dict) or not is_sha256(entry.get("fingerprint")):
            continue
        task = entry.get("task_id") if isinstance(entry.get("task_id"), str) else None
        source_task = entry.get("remix_task_id")
        common: dict[str, Any] = {
            "run_id": run_id,
            "shot_id": str(shot_id),
            "fingerprint": entry["fingerprint"],
            "api": str(entry.get("api", "")),
            "model": str(entry.get("model", "")),
            "request": entry.get("request") if isinstance(entry.get("request"), dict) else {},
            "task_id": task,
            "source_task": source_task if isinstance(source_task, str) else None,
            "source": str(out.path / MANIFEST_FILENAME),
        }
        path = _verified(out, entry)
        if path is not None:
            sha256 = str(entry["sha256"])
            try:
                cached = state.cache.store(path, sha256, link=False)
            except StateError:
                cached = None
            if cached is not None:
                size = cached.stat().st_size
                state_word = ShotState.DONE
                if ledger.restore(
                    state=state_word, path=str(cached), sha256=sha256, size=size, **common
                ):
                    files += 1
                continue
        if task:
            tasks += ledger.restore(state=ShotState.RUNNING, **common)
        elif entry.get("status") == ShotState.UNKNOWN:
            error = entry.get("error") if isinstance(entry.get("error"), str) else None
            unknown += ledger.restore(state=ShotState.UNKNOWN, error=error, **common)
    if not files + tasks + unknown:
        return None
    return (
        f"the ledger {ledger.path} was empty: rebuilt from {out.path / MANIFEST_FILENAME}"
        f" ({files} verified files, {tasks} tasks to poll or download again, {unknown}"
        " unknown); nothing is sent again for them"
    )
