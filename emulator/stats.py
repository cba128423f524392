"""The emulator's counters, served by ``GET /_emulator/stats``: what it was asked and did."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

from ..states import TASK_STATES
from .task import Task

__all__ = ["Stats"]


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
            self.quota: Counter[str] = Counter()

    def created(self, task: Task, *, remix: bool) -> None:
        with self._lock:
            self.creates["total"] += 1
            if remix:
                self.creates["remix"] += 1
            self.by_model[task.model] += 1
            self.by_fingerprint[task.fingerprint] += 1
            self.by_spec[task.spec.name] += 1
            if task.quota is not None:
                self.quota["total"] += task.quota
                self.quota[task.id] = task.quota

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
        states: Counter[str] = Counter({s: 0 for s in (*TASK_STATES, "expired")})
        for task in tasks:
            snap = task.snapshot(now)
            state: str = snap.state
            if snap.due and not task.rendered and task.failure is None:
                state = "succeeded"  # it will be, as soon as someone looks
            states[state] += 1
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
                # What the tasks were charged (new-api quota units, 500,000 per USD).
                "billing": {
                    "quota": self.quota["total"],
                    "by_task": {k: v for k, v in self.quota.items() if k != "total"},
                },
                "tasks": dict(states),
            }
