"""Render jobs and the renderer that turns them into MP4 bytes, once per job.

A job holds every input of `render.render_video`; its `key` names the result, so equal
requests share one render and always give the same bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import attrs

from ..fingerprint import canonical_json
from .render import render_thumbnail, render_video

__all__ = ["RenderJob", "Renderer", "Scene"]


@attrs.frozen(kw_only=True)
class Scene:
    """What a video shows and how: prompt, seed, size, length, frame rate, first frame."""

    prompt: str
    seed: int | None
    width: int
    height: int
    seconds: float
    fps: int
    reference_image: bytes | None = attrs.field(default=None, repr=False)

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def seconds_text(self) -> str:
        return f"{self.seconds:g}"


@attrs.frozen(kw_only=True)
class RenderJob(Scene):
    """Everything `render_video` is called with; its `key` names the resulting file."""

    model: str
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
