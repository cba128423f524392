"""How fast the emulator renders, against just encoding blank frames of the same size.

Ratios, not absolute times, are what to compare between machines:

- render_vs_blank_encode: time to render a clip / time to encode as many blank frames.
  It shows what drawing, scaling and encoding a moving picture costs over the bare
  encoder.
- realtime_factor: clip seconds / render seconds (above 1 is faster than real time).
- remix_vs_render: time to remix that clip / time to render it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import av
import numpy as np

from vidpipe.emulator.render import RENDER_FPS, encode_frames, render_thumbnail, render_video

WIDTH, HEIGHT, SECONDS = 1280, 720, 4.0
REPEATS = 5


def _best(action: Callable[[], object], repeats: int = REPEATS) -> float:
    """The fastest of `repeats` runs, in seconds: the least disturbed by other work."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def _render() -> bytes:
    return render_video(
        model="sora-2",
        prompt="a paper boat on a rainy street",
        seed=42,
        width=WIDTH,
        height=HEIGHT,
        seconds=SECONDS,
    )


def _blank() -> bytes:
    frames = round(SECONDS * RENDER_FPS)
    black = np.zeros((HEIGHT * 3 // 2, WIDTH), dtype=np.uint8)
    return encode_frames(
        (av.VideoFrame.from_ndarray(black, format="yuv420p") for _ in range(frames)),
        width=WIDTH,
        height=HEIGHT,
    )


def run() -> dict[str, object]:
    """Render a 4 s 1280x720 clip, remix it, and time both against a blank encode."""
    clip = _render()  # also warms up codec and library initialisation
    _blank()
    render_s = _best(_render)
    blank_s = _best(_blank)
    remix_s = _best(
        lambda: render_video(
            model="sora-2", prompt="the same, at night", seed=42, source_video=clip
        ),
        repeats=3,
    )
    thumbnail_s = _best(lambda: render_thumbnail(clip))
    return {
        "clip": f"{WIDTH}x{HEIGHT} {SECONDS:g}s @{RENDER_FPS}fps",
        "render_seconds": render_s,
        "blank_encode_seconds": blank_s,
        "remix_seconds": remix_s,
        "thumbnail_seconds": thumbnail_s,
        "render_vs_blank_encode": render_s / blank_s,
        "realtime_factor": SECONDS / render_s,
        "remix_vs_render": remix_s / render_s,
        "mp4_bytes": len(clip),
    }
