"""What one frame of the live display costs with 1,000 shots against 10 shots.

A run's events are fed to `LiveDisplay` (most shots finished, some in flight, a few failed,
on a 120x40 terminal) and frames are rendered to a throwaway terminal, as rich's refresh
thread renders them eight times a second:

- frame_ms_10, frame_ms_1000: milliseconds per frame (best of a few rounds).
- frame_1000_vs_10: the ratio; bounded means it stays near 1 however many shots there are.
"""

from __future__ import annotations

import io
import timeit

from rich.console import Console

from vidpipe.display import LiveDisplay
from vidpipe.events import ShotEvent
from vidpipe.states import ShotState

FRAMES = 50
ROUNDS = 5


def _display(shots: int) -> tuple[LiveDisplay, Console]:
    console = Console(file=io.StringIO(), force_terminal=True, width=120, height=40)
    ids = [f"shot-{n:05d}" for n in range(shots)]
    display = LiveDisplay(ids, console)
    for n, shot_id in enumerate(ids):
        if n % 10 == 0:
            display(ShotEvent(shot_id, ShotState.RUNNING, progress=n % 100, task_id=f"video_{n}"))
        elif n % 97 == 1:
            display(ShotEvent(shot_id, ShotState.FAILED, message="the provider failed the task"))
        elif n % 10 < 8:
            display(ShotEvent(shot_id, ShotState.DONE, progress=100, task_id=f"video_{n}"))
    return display, console


def _frame_ms(shots: int) -> float:
    display, console = _display(shots)

    def frames() -> None:
        for _ in range(FRAMES):
            console.file = io.StringIO()
            console.print(display.render())

    return min(timeit.repeat(frames, number=1, repeat=ROUNDS)) / FRAMES * 1000


def run() -> dict[str, object]:
    small, large = _frame_ms(10), _frame_ms(1000)
    return {
        "frame_ms_10": round(small, 3),
        "frame_ms_1000": round(large, 3),
        "frame_1000_vs_10": round(large / small, 2),
    }
