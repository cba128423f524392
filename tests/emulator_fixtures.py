"""Helpers for the emulator tests: a hand-driven clock, a fake sleep, small requests."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import Any

import av
import httpx
import numpy as np

from vidpipe.emulator import EmbeddedEmulator, EmulatorConfig

from .specvalues import model, shortest_duration, smallest_size

AUTH = {"Authorization": "Bearer test-key"}


class Clock:
    """A clock the test moves by hand (unix seconds)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sleeps:
    """Records the delays the emulator asks for instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def emulator(**settings: Any) -> EmbeddedEmulator:
    """An in-process emulator; tasks finish at once unless `job_seconds` is given."""
    settings.setdefault("job_seconds", 0)
    settings.setdefault("sleep", Sleeps())
    return EmbeddedEmulator(EmulatorConfig(**settings))


def client(
    emu: EmbeddedEmulator, *, auth: bool = True, base: str | None = None
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=emu.transport(),
        base_url=base or emu.base_url,
        headers=AUTH if auth else {},
    )


def form(fields: Mapping[str, Any]) -> list[tuple[str, tuple[str | None, Any, str | None]]]:
    """A multipart body for httpx: text fields as parts without a file name, files as given."""
    parts: list[tuple[str, tuple[str | None, Any, str | None]]] = []
    for name, value in fields.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, tuple):
                parts.append((name, item))
            else:
                parts.append((name, (None, str(item), None)))
    return parts


def png(width: int = 32, height: int = 24, color: tuple[int, int, int] = (200, 40, 90)) -> bytes:
    """A small solid PNG image."""
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[:, :] = color
    frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="image2pipe") as out:
        stream = out.add_stream("png")
        stream.width, stream.height, stream.pix_fmt = width, height, "rgb24"
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buffer.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def apifree(prompt: str = "a red kite", **fields: Any) -> dict[str, Any]:
    """A small, fast apifree JSON create body (any model, any even size)."""
    body: dict[str, Any] = {
        "model": model("apifree", prefer="kling-video"),
        "prompt": prompt,
        "size": smallest_size("apifree"),
        "seconds": str(shortest_duration("apifree")),
    }
    body.update(fields)
    return body


def newapi(prompt: str = "a red kite", **fields: Any) -> dict[str, Any]:
    """A small, fast newapi multipart create (has a seed field)."""
    width, height = smallest_size("newapi").split("x")
    body: dict[str, Any] = {
        "model": model("newapi", prefer="veo3"),
        "prompt": prompt,
        "width": int(width),
        "height": int(height),
        "duration": shortest_duration("newapi"),
    }
    body.update(fields)
    return body


def seedance(prompt: str = "a red kite", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "seedance-fast",
        "content": [{"type": "text", "text": prompt}],
        "resolution": "480p",
        "ratio": "1:1",
        "duration": 1,
    }
    body.update(fields)
    return body


def happyhorse(prompt: str = "zoom in", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "happyhorse-1.0-i2v",
        "prompt": prompt,
        "image": data_url(png()),
        "resolution": "720P",
        "ratio": "1:1",
        "duration": 3,
        "seed": 7,
    }
    body.update(fields)
    return body
