"""The task store: every task of one emulator, by id and by CDN token, optionally on disk."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ..specs import Spec, SpecRegistry
from .dialect import Dialect
from .ids import digest_text
from .render_jobs import RenderJob
from .task import Task

__all__ = ["TaskStore", "task_from_json", "task_to_json"]


def _job_to_json(job: RenderJob) -> dict[str, Any]:
    out = attrs.asdict(job, recurse=False)
    image = job.reference_image
    out["reference_image"] = base64.b64encode(image).decode() if image is not None else None
    out["source"] = _job_to_json(job.source) if job.source is not None else None
    out["extra"] = dict(job.extra)
    return out


def _job_from_json(data: Mapping[str, Any]) -> RenderJob:
    fields = dict(data)
    image = fields.get("reference_image")
    fields["reference_image"] = base64.b64decode(image) if image is not None else None
    source = fields.get("source")
    fields["source"] = _job_from_json(source) if source is not None else None
    return RenderJob(**fields)


def task_to_json(task: Task) -> dict[str, Any]:
    """A task as one JSON object (the spec by name; renders are not stored)."""
    out = attrs.asdict(task, recurse=False)
    out["spec"] = task.spec.name
    out["job"] = _job_to_json(task.job)
    return out


def task_from_json(data: Mapping[str, Any], registry: SpecRegistry) -> Task:
    fields = dict(data)
    spec = registry[fields["spec"]]
    fields["spec"] = spec
    fields.pop("upstream", None)  # written by earlier versions
    fields["job"] = _job_from_json(fields["job"])
    return Task(**fields)


class TaskStore:
    """Every task of one emulator, by id and by CDN token (thread-safe).

    With a `path`, tasks are also appended to `<path>/tasks.jsonl` as they are created (and
    a ``{"deleted": id}`` line when one is deleted) and read back when a store opens there;
    their videos are rendered again on demand (the renders are deterministic). A torn last
    line from a crash is skipped. Tasks are kept in the order they were made.
    """

    def __init__(
        self, seed: int, path: Path | None = None, registry: SpecRegistry | None = None
    ) -> None:
        self.seed = seed
        self._tasks: dict[str, Task] = {}
        self._tokens: dict[str, Task] = {}
        self._creates: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._file = path / "tasks.jsonl" if path is not None else None
        if self._file is not None and registry is not None:
            self._load(registry)

    def _load(self, registry: SpecRegistry) -> None:
        assert self._file is not None
        if not self._file.exists():
            return
        for line in self._file.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
                if set(data) == {"deleted"}:
                    self._forget(str(data["deleted"]))
                    continue
                task = task_from_json(data, registry)
            except (ValueError, KeyError, TypeError):
                continue  # a torn line, or a spec that is gone
            self._tasks[task.id] = task
            self._tokens[task.cdn_token] = task

    def _persist(self, record: Mapping[str, Any]) -> None:
        if self._file is None:
            return
        self._file.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self._file.open("a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def new_ids(
        self, spec: Spec, dialect: Dialect, fingerprint: str, now: float
    ) -> tuple[str, str]:
        """A fresh task id and CDN token, derived from the seed and the request."""
        with self._lock:
            while True:
                count = self._creates[f"{spec.name}:{fingerprint}"]
                self._creates[f"{spec.name}:{fingerprint}"] += 1
                digest = digest_text(self.seed, spec.name, fingerprint, count)
                task_id = dialect.task_id(digest, now)
                if task_id not in self._tasks:
                    token = digest_text("cdn", self.seed, task_id).hex()[:40]
                    return task_id, token

    def add(self, task: Task) -> None:
        with self._lock:
            self._persist(task_to_json(task))
            self._tasks[task.id] = task
            self._tokens[task.cdn_token] = task

    def delete(self, task: Task) -> None:
        """Forget `task` (its id and CDN link stop answering), on disk too."""
        with self._lock:
            self._persist({"deleted": task.id})
            self._forget(task.id)

    def _forget(self, task_id: str) -> None:
        task = self._tasks.pop(task_id, None)
        if task is not None:
            self._tokens.pop(task.cdn_token, None)

    def get(self, task_id: str) -> Task | None:
        return self._tasks.get(task_id)

    def by_token(self, token: str) -> Task | None:
        return self._tokens.get(token)

    def all(self) -> list[Task]:
        with self._lock:
            return list(self._tasks.values())

    def clear(self) -> None:
        with self._lock:
            self._tasks.clear()
            self._tokens.clear()
            self._creates.clear()
            if self._file is not None:
                self._file.unlink(missing_ok=True)
