"""Emulated tasks: their lifecycle on the clock, their store, their renders and their shapes.

A task is queued for the first part of its job time, then in progress with rising progress,
then finished: completed, or failed when a fault or a magic marker in the prompt says so.
Its video is rendered lazily, once, the first time anyone looks at the finished task, and
cached by the render inputs, so the same request always gives the same bytes.

How a task looks on the wire depends on its API family: the OpenAI-style Video object for
`/v1/videos`, and for `/v1/video/generations` the new-api task envelope wrapping the raw
answer of the upstream model (Seedance or DashScope style).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from ..fingerprint import canonical_json
from ..specs import Spec, SpecRegistry
from .render import render_thumbnail, render_video

__all__ = [
    "MAGIC_EXPIRE",
    "MAGIC_FAIL",
    "RenderJob",
    "Renderer",
    "Snapshot",
    "Stats",
    "Task",
    "TaskStore",
    "Upstream",
    "created_task",
    "task_envelope",
    "upstream_for",
    "video_object",
]

# Markers a prompt may carry to steer the emulator.
MAGIC_FAIL = "[emulator:fail]"
MAGIC_EXPIRE = "[emulator:expire]"

Status = Literal["queued", "in_progress", "completed", "failed"]
STATUSES: tuple[Status, ...] = ("queued", "in_progress", "completed", "failed")


@attrs.frozen
class RenderJob:
    """Everything `render_video` is called with; its `key` names the resulting file."""

    model: str
    prompt: str
    seed: int | None
    width: int
    height: int
    seconds: float
    fps: int
    reference_image: bytes | None = attrs.field(default=None, repr=False)
    source: RenderJob | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def key(self) -> str:
        payload = {
            "model": self.model,
            "prompt": self.prompt,
            "seed": self.seed,
            "width": self.width,
            "height": self.height,
            "seconds": self.seconds,
            "fps": self.fps,
            "reference_image": self.reference_image,
            "source": self.source.key if self.source else None,
            "extra": dict(self.extra),
        }
        return hashlib.sha256(canonical_json(payload)).hexdigest()


class Renderer:
    """Renders jobs in worker threads, once per key, with a small LRU cache of the bytes."""

    def __init__(self, cache_size: int = 16) -> None:
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = max(1, cache_size)
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._slots = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
        self.renders = 0
        self.render_seconds = 0.0

    async def video(self, job: RenderJob) -> bytes:
        """The MP4 of `job`, rendered off the event loop on first use."""
        return await asyncio.to_thread(self._video, job)

    async def thumbnail(self, job: RenderJob) -> tuple[bytes, str]:
        """The first frame of `job`'s video as an image, and its mime type."""
        return await asyncio.to_thread(self._thumbnail, job)

    def _cached(self, key: str) -> bytes | None:
        with self._lock:
            data = self._cache.get(key)
            if data is not None:
                self._cache.move_to_end(key)
            return data

    def _store(self, key: str, data: bytes) -> None:
        with self._lock:
            self._cache[key] = data
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _key_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def _video(self, job: RenderJob) -> bytes:
        key = job.key
        with self._key_lock(key):
            data = self._cached(key)
            if data is not None:
                return data
            source = self._video(job.source) if job.source is not None else None
            with self._slots:
                started = time.perf_counter()
                data = render_video(
                    model=job.model,
                    prompt=job.prompt,
                    seed=job.seed,
                    width=job.width,
                    height=job.height,
                    seconds=job.seconds,
                    fps=job.fps,
                    reference_image=job.reference_image,
                    source_video=source,
                    extra=dict(job.extra),
                )
                with self._lock:
                    self.renders += 1
                    self.render_seconds += time.perf_counter() - started
            self._store(key, data)
            return data

    def _thumbnail(self, job: RenderJob) -> tuple[bytes, str]:
        key = f"{job.key}:thumbnail"
        with self._key_lock(key):
            cached = self._cached(key)
            if cached is not None:
                head, _, image = cached.partition(b"\n")
                return image, head.decode()
            image, mime = render_thumbnail(self._video(job))
            self._store(key, mime.encode() + b"\n" + image)
            return image, mime

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


@attrs.frozen
class Snapshot:
    """A task as seen at one instant."""

    status: Status
    progress: int
    due: bool
    started_at: float | None
    completed_at: float | None
    expires_at: float | None
    expired: bool
    remaining: float


@attrs.define(eq=False)
class Task:
    """One emulated generation task."""

    id: str
    spec: Spec = attrs.field(repr=False)
    upstream: Upstream
    model: str
    prompt: str
    fingerprint: str
    created_at: float
    job_seconds: float
    queued_fraction: float
    content_ttl: float
    job: RenderJob
    size: str
    seconds_text: str
    has_image: bool
    cdn_token: str
    failure: str | None = None
    expire_early: bool = False
    remixed_from: str | None = None
    video_sha256: str | None = None
    video_bytes: int | None = None
    render_error: str | None = None

    @property
    def finish_at(self) -> float:
        return self.created_at + self.job_seconds

    @property
    def rendered(self) -> bool:
        return self.video_sha256 is not None or self.render_error is not None

    def snapshot(self, now: float) -> Snapshot:
        """Where the task stands at `now`. A due task that will complete counts as completed
        only once its video is rendered; until then it shows 99%."""
        elapsed = now - self.created_at
        start = self.created_at + self.job_seconds * self.queued_fraction
        due = elapsed >= self.job_seconds
        started_at = start if now >= start or due else None
        if not due:
            if now < start:
                return Snapshot("queued", 0, False, None, None, None, False, self.finish_at - now)
            progress = min(99, max(1, int(100 * elapsed / self.job_seconds)))
            return Snapshot(
                "in_progress", progress, False, started_at, None, None, False, self.finish_at - now
            )
        completed_at = self.finish_at
        if self.failure is not None or self.render_error is not None:
            return Snapshot("failed", 100, True, started_at, completed_at, None, False, 0.0)
        if self.video_sha256 is None:
            return Snapshot("in_progress", 99, True, started_at, None, None, False, 0.0)
        expires_at = completed_at if self.expire_early else completed_at + self.content_ttl
        return Snapshot(
            "completed", 100, True, started_at, completed_at, expires_at, now >= expires_at, 0.0
        )

    def fresh(self) -> Snapshot:
        """The task as its create answer shows it: just queued."""
        return Snapshot("queued", 0, False, None, None, None, False, self.job_seconds)

    @property
    def error_message(self) -> str:
        return self.failure or self.render_error or ""


def _digest_text(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _encode(digest: bytes, length: int, alphabet: str) -> str:
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars)


@attrs.frozen
class Upstream:
    """How the model behind a spec names its tasks and their states."""

    name: str
    create_status: str
    words: Mapping[str, str]

    def task_id(self, digest: bytes, created_at: float) -> str:
        if self.name == "seedance":
            stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(created_at))
            return f"cgt-{stamp}-{_encode(digest, 5, _ALPHABET[:36])}"
        if self.name == "dashscope":
            return f"asyntask_{_encode(digest, 32, _ALPHABET)}"
        return f"video_{digest.hex()[:32]}"

    def raw(self, task: Task, snap: Snapshot, url: str | None) -> dict[str, Any]:
        """The upstream's own task JSON, as new-api keeps it in `data.data`."""
        word = self.words[snap.status]
        if self.name == "dashscope":
            output: dict[str, Any] = {
                "task_id": task.id,
                "task_status": word,
                "submit_time": _stamp(task.created_at),
            }
            if snap.started_at is not None:
                output["scheduled_time"] = _stamp(snap.started_at)
            if snap.completed_at is not None:
                output["end_time"] = _stamp(snap.completed_at)
            if snap.status == "completed" and url:
                output["video_url"] = url
            if snap.status == "failed":
                output["code"] = "InternalError.Algo"
                output["message"] = task.error_message
            return {
                "request_id": _encode(_digest_text("request", task.id), 32, _ALPHABET[:16]),
                "output": output,
                "usage": {"duration": task.job.seconds, "video_count": 1, "SR": task.job.height},
            }
        raw: dict[str, Any] = {
            "id": task.id,
            "model": task.model,
            "status": word,
            "created_at": int(task.created_at),
            "updated_at": int(snap.completed_at or snap.started_at or task.created_at),
            "duration": round(task.job.seconds),
            "framespersecond": task.job.fps,
        }
        if task.job.seed is not None:
            raw["seed"] = task.job.seed
        if snap.status == "completed" and url:
            raw["content"] = {"video_url": url}
        if snap.status == "failed":
            raw["error"] = {"code": "InternalServiceError", "message": task.error_message}
        return raw


def _stamp(when: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when)) + f".{int(when * 1000) % 1000:03d}"


OPENAI = Upstream(
    "openai",
    "queued",
    {
        "queued": "queued",
        "in_progress": "in_progress",
        "completed": "completed",
        "failed": "failed",
    },
)
SEEDANCE = Upstream(
    "seedance",
    "",
    {"queued": "queued", "in_progress": "running", "completed": "succeeded", "failed": "failed"},
)
DASHSCOPE = Upstream(
    "dashscope",
    "queued",
    {"queued": "PENDING", "in_progress": "RUNNING", "completed": "SUCCEEDED", "failed": "FAILED"},
)


def upstream_for(spec: Spec) -> Upstream:
    """The upstream style of a spec, recognised by the raw status words it declares."""
    if spec.family == "videos":
        return OPENAI
    for upstream in (DASHSCOPE, SEEDANCE):
        if all(word in spec.status_map for word in upstream.words.values()):
            return upstream
    return SEEDANCE


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
    out["upstream"] = task.upstream.name
    out["job"] = _job_to_json(task.job)
    return out


def task_from_json(data: Mapping[str, Any], registry: SpecRegistry) -> Task:
    fields = dict(data)
    spec = registry[fields["spec"]]
    fields["spec"] = spec
    fields["upstream"] = upstream_for(spec)
    fields["job"] = _job_from_json(fields["job"])
    return Task(**fields)


class TaskStore:
    """Every task of one emulator, by id and by CDN token (thread-safe).

    With a `path`, tasks are also appended to `<path>/tasks.jsonl` as they are created and
    read back when a store opens there; their videos are rendered again on demand (the
    renders are deterministic). A torn last line from a crash is skipped.
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
                task = task_from_json(json.loads(line), registry)
            except (ValueError, KeyError, TypeError):
                continue  # a torn line, or a spec that is gone
            self._tasks[task.id] = task
            self._tokens[task.cdn_token] = task

    def _persist(self, task: Task) -> None:
        if self._file is None:
            return
        self._file.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(task_to_json(task), separators=(",", ":")) + "\n"
        with self._file.open("a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def new_ids(
        self, spec: Spec, upstream: Upstream, fingerprint: str, now: float
    ) -> tuple[str, str]:
        """A fresh task id and CDN token, derived from the seed and the request."""
        with self._lock:
            while True:
                count = self._creates[f"{spec.name}:{fingerprint}"]
                self._creates[f"{spec.name}:{fingerprint}"] += 1
                digest = _digest_text(self.seed, spec.name, fingerprint, count)
                task_id = upstream.task_id(digest, now)
                if task_id not in self._tasks:
                    token = _digest_text("cdn", self.seed, task_id).hex()[:40]
                    return task_id, token

    def add(self, task: Task) -> None:
        with self._lock:
            self._persist(task)
            self._tasks[task.id] = task
            self._tokens[task.cdn_token] = task

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


class Stats:
    """Counters of what the emulator was asked and what it did (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.creates: Counter[str] = Counter()
            self.by_model: Counter[str] = Counter()
            self.by_fingerprint: Counter[str] = Counter()
            self.by_spec: Counter[str] = Counter()
            self.polls: Counter[str] = Counter()
            self.downloads: Counter[str] = Counter()
            self.download_bytes = 0
            self.faults: Counter[str] = Counter()
            self.rejected: Counter[str] = Counter()

    def created(self, task: Task, *, remix: bool) -> None:
        with self._lock:
            self.creates["total"] += 1
            if remix:
                self.creates["remix"] += 1
            self.by_model[task.model] += 1
            self.by_fingerprint[task.fingerprint] += 1
            self.by_spec[task.spec.name] += 1

    def polled(self, task: Task) -> None:
        with self._lock:
            self.polls["total"] += 1
            self.polls[task.id] += 1

    def downloaded(self, route: str, sent: int) -> None:
        with self._lock:
            self.downloads["total"] += 1
            self.downloads[route] += 1
            self.download_bytes += sent

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def reject(self, status: int) -> None:
        with self._lock:
            self.rejected[str(status)] += 1

    def snapshot(self, tasks: Iterable[Task], now: float) -> dict[str, Any]:
        """The counters as JSON, with the tasks counted by their state at `now`."""
        states: Counter[str] = Counter({s: 0 for s in (*STATUSES, "expired")})
        for task in tasks:
            snap = task.snapshot(now)
            status = snap.status
            if snap.due and not task.rendered and task.failure is None:
                status = "completed"  # it will be, as soon as someone looks
            states[status] += 1
            if snap.expired:
                states["expired"] += 1
        with self._lock:
            polls = {k: v for k, v in self.polls.items() if k != "total"}
            return {
                "creates": {
                    "total": self.creates["total"],
                    "remix": self.creates["remix"],
                    "by_model": dict(self.by_model),
                    "by_fingerprint": dict(self.by_fingerprint),
                    "by_spec": dict(self.by_spec),
                },
                "polls": {"total": self.polls["total"], "by_task": polls},
                "downloads": {
                    "total": self.downloads["total"],
                    "content": self.downloads["content"],
                    "cdn": self.downloads["cdn"],
                    "bytes": self.download_bytes,
                },
                "faults": dict(self.faults),
                "rejected": dict(self.rejected),
                "tasks": dict(states),
            }


def _when(value: float | None) -> int | None:
    return int(value) if value is not None else None


def video_object(task: Task, snap: Snapshot, url: str | None) -> dict[str, Any]:
    """The OpenAI-style Video object of a `/v1/videos` task."""
    video: dict[str, Any] = {
        "id": task.id,
        "object": "video",
        "model": task.model,
        "status": snap.status,
        "progress": snap.progress,
        "created_at": int(task.created_at),
        "completed_at": _when(snap.completed_at),
        "expires_at": _when(snap.expires_at),
        "prompt": task.prompt,
        "seconds": task.seconds_text,
        "size": task.size,
        "remixed_from_video_id": task.remixed_from,
        "error": None,
        "task_id": task.id,
    }
    if snap.status == "failed":
        video["error"] = {"code": "video_generation_failed", "message": task.error_message}
    if snap.status == "completed" and url:
        video["metadata"] = {"url": url}
        video["video_url"] = url
    return video


def created_task(task: Task) -> dict[str, Any]:
    """The answer to a `/v1/video/generations` create: the document's VideoTask."""
    return {
        "id": task.id,
        "task_id": task.id,
        "object": "video",
        "model": task.model,
        "status": task.upstream.create_status,
        "progress": 0,
        "created_at": int(task.created_at),
    }


_ENVELOPE_WORDS = {
    "queued": "QUEUED",
    "in_progress": "IN_PROGRESS",
    "completed": "SUCCESS",
    "failed": "FAILURE",
}


def task_envelope(task: Task, snap: Snapshot, url: str | None, now: float) -> dict[str, Any]:
    """The new-api task envelope of a `/v1/video/generations` task."""
    status = _ENVELOPE_WORDS[snap.status]
    if (
        snap.status == "queued"
        and now - task.created_at < task.job_seconds * task.queued_fraction / 2
    ):
        status = "SUBMITTED"
    return {
        "code": "success",
        "message": "",
        "data": {
            "task_id": task.id,
            "action": "generate" if task.has_image else "textGenerate",
            "status": status,
            "progress": f"{snap.progress}%",
            "result_url": url if snap.status == "completed" and url else "",
            "fail_reason": task.error_message if snap.status == "failed" else "",
            "submit_time": int(task.created_at),
            "start_time": _when(snap.started_at) or 0,
            "finish_time": _when(snap.completed_at) or 0,
            "data": task.upstream.raw(task, snap, url),
        },
    }
