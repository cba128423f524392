"""Frames of a video (PyAV): the first, the last or the one at a time, as a PNG.

Continuity (`image: {shot: establish, frame: last}`) sends such a frame of one shot's video
as another shot's image; the report's contact sheets show the first, middle and last.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
from PIL import Image, ImageOps

from .errors import FrameError

__all__ = ["contact_sheet", "extract_frame", "video_seconds"]

#: A time this close to the video's end still counts as within it (one frame's rounding).
_SLACK = 1e-3


def _scan(video: Path, at: str | float) -> tuple[av.VideoFrame, float]:
    """The frame `at` ("first", "last" or seconds: the frame showing then) and the length
    of the video's pictures (the last frame's start plus one frame). Decodes one frame at a
    time, keeping only the one chosen."""
    chosen: av.VideoFrame | None = None
    start: float | None = None
    when = step = 0.0
    try:
        with av.open(str(video), "r") as container:
            if not container.streams.video:
                raise FrameError(f"{video.name} has no video stream")
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                now = float(frame.time or 0.0)
                start = now if start is None else start
                step, when = (now - start) - when, now - start
                if at == "first":
                    return frame, 0.0
                if at == "last" or when <= float(at) + _SLACK:
                    chosen = frame
    except (av.FFmpegError, OSError) as exc:
        raise FrameError(f"cannot read {video.name}: {exc}") from exc
    if chosen is None:
        raise FrameError(f"{video.name} has no frames")
    return chosen, when + step


def video_seconds(video: Path) -> float:
    """How long the video's pictures last: the last frame's start plus one frame."""
    return _scan(video, "last")[1]


def extract_frame(
    video: Path, at: str | float, out: Path, *, size: tuple[int, int] | None = None
) -> Path:
    """Write the frame `at` ("first", "last" or seconds from the start) of `video` to `out`
    as a PNG and return `out`; with `size` (width, height), scaled and centre-cropped to
    cover it (an API may want the image at the video's size). FrameError when `at` lies
    beyond the video's end."""
    chosen, length = _scan(video, at)
    if not isinstance(at, str) and float(at) > length + _SLACK:
        raise FrameError(f"{video.name} is {length:g} s long; there is no frame at {at:g} s")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    picture = Image.fromarray(chosen.to_ndarray(format="rgb24"))
    if size is not None and picture.size != size:
        picture = ImageOps.fit(picture, size, Image.Resampling.BICUBIC)
    picture.save(partial, format="PNG")
    os.replace(partial, out)
    return out


def _middle(video: Path) -> float:
    return video_seconds(video) / 2


def contact_sheet(video: Path, out: Path, *, height: int = 90) -> Path:
    """Write the first, middle and last frames of `video` side by side, `height` pixels
    tall, to `out` as a PNG (a take's contact sheet in the report) and return `out`."""
    frames = [_scan(video, at)[0] for at in ("first", _middle(video), "last")]
    pictures = [Image.fromarray(f.to_ndarray(format="rgb24")) for f in frames]
    width = max(1, round(pictures[0].width * height / max(1, pictures[0].height)))
    gap = 2
    sheet = Image.new("RGB", (3 * width + 2 * gap, height), (255, 255, 255))
    for number, picture in enumerate(pictures):
        sheet.paste(picture.resize((width, height)), (number * (width + gap), 0))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    sheet.save(partial, format="PNG")
    os.replace(partial, out)
    return out
