"""Deterministic MP4 rendering for the embedded emulator.

The frames of a rendered video are a pure function of the request (model, prompt, seed,
size, duration and any extra parameters, plus the bytes of a reference image or a source
video), so the same request always gives byte-identical MP4 files.

How that is kept true:

- The picture is drawn at a small internal size with numpy, using only arithmetic that
  IEEE 754 rounds exactly (add, multiply, floor, clip); anything transcendental is
  computed per frame in Python. It is then scaled up by swscale with ``BITEXACT``.
- x264 runs with one thread and fixed options, and the container is written with
  ``+bitexact`` and no creation time.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from fractions import Fraction
from pathlib import Path

import attrs
import av
import numpy as np
import numpy.typing as npt
from av.video.reformatter import ColorRange, Colorspace, Interpolation

__all__ = [
    "ENCODER_OPTIONS",
    "MAX_DIMENSION",
    "MAX_SECONDS",
    "MIN_DIMENSION",
    "RENDER_FPS",
    "VideoInfo",
    "encode_frames",
    "probe",
    "render_thumbnail",
    "render_video",
]

RENDER_FPS = 24
MIN_DIMENSION = 16
MAX_DIMENSION = 4096
MAX_SECONDS = 120.0

# Fixed, single-threaded x264 settings: its output depends on the thread count, so letting
# it pick one per machine would break byte-identical renders.
ENCODER_OPTIONS: Mapping[str, str] = {
    "preset": "ultrafast",
    "crf": "26",
    "threads": "1",
    "g": str(RENDER_FPS * 2),
}
_CONTAINER_OPTIONS = {"movflags": "+faststart", "fflags": "+bitexact"}
_SCALE = Interpolation.BILINEAR | Interpolation.BITEXACT
# The longest side of the internal canvas the pattern is drawn on before scaling up.
_CANVAS = 320
_REFERENCE_FADE_SECONDS = 1.0
# How much of the source frame a remix keeps, out of 256.
_REMIX_KEEP = 160

_U8 = npt.NDArray[np.uint8]
_F32 = npt.NDArray[np.float32]


@attrs.frozen
class VideoInfo:
    """What `probe` learns about a video file."""

    width: int
    height: int
    duration: float
    fps: float
    frames: int
    codec: str
    pix_fmt: str
    has_audio: bool


def render_video(
    *,
    model: str,
    prompt: str,
    seed: int | None,
    width: int | None = None,
    height: int | None = None,
    seconds: float | None = None,
    fps: int = RENDER_FPS,
    reference_image: bytes | None = None,
    source_video: bytes | None = None,
    extra: Mapping[str, object] | None = None,
) -> bytes:
    """Render an H.264 MP4 whose frames are a deterministic function of every argument.

    A `reference_image` (PNG, JPEG or WebP) is the first frame, and fades into the
    animation over the first second. A `source_video` is remixed: its frames are kept
    under a tint and moving shapes drawn from the new prompt, and `width`, `height` and
    `seconds` default to the source's (a source takes precedence over a reference image).
    Without a source all three are required.
    Raises ValueError for bad sizes, durations or undecodable media.
    """
    source_info = probe(source_video) if source_video is not None else None
    if source_info is not None:
        width = width if width is not None else source_info.width - source_info.width % 2
        height = height if height is not None else source_info.height - source_info.height % 2
        seconds = seconds if seconds is not None else source_info.duration
    if width is None or height is None or seconds is None:
        raise ValueError("width, height and seconds are required without a source video")
    _check_size(width, height)
    _check_timing(seconds, fps)
    frame_count = max(1, round(seconds * fps))

    digest = _digest(
        model=model,
        prompt=prompt,
        seed=seed,
        width=width,
        height=height,
        frame_count=frame_count,
        fps=fps,
        extra=extra,
        reference_image=reference_image,
        source_video=source_video,
    )
    pattern = _Pattern(digest, width, height, frame_count, fps)
    frames: Iterable[av.VideoFrame]
    if source_video is not None:
        frames = _remix_frames(pattern, source_video, fps)
    elif reference_image is not None:
        frames = _reference_frames(pattern, reference_image, fps)
    else:
        frames = (pattern.frame(i) for i in range(frame_count))
    return encode_frames(frames, width=width, height=height, fps=fps)


def encode_frames(
    frames: Iterable[av.VideoFrame], *, width: int, height: int, fps: int = RENDER_FPS
) -> bytes:
    """Encode yuv420p frames of `width` x `height` into MP4 bytes with the fixed settings."""
    _check_size(width, height)
    with tempfile.TemporaryDirectory(prefix="vidpipe-render-") as tmp:
        # The faststart pass re-reads the file, which needs a real path, not a buffer.
        path = os.path.join(tmp, "video.mp4")
        with av.open(path, "w", format="mp4", container_options=_CONTAINER_OPTIONS) as out:
            stream = out.add_stream("libx264", rate=fps, options=dict(ENCODER_OPTIONS))
            assert isinstance(stream, av.VideoStream)
            stream.width = width
            stream.height = height
            stream.pix_fmt = "yuv420p"
            stream.codec_context.time_base = Fraction(1, fps)
            stream.codec_context.colorspace = Colorspace.ITU601
            stream.codec_context.color_range = ColorRange.MPEG
            for index, frame in enumerate(frames):
                frame.pts = index
                frame.time_base = Fraction(1, fps)
                out.mux(stream.encode(frame))
            out.mux(stream.encode(None))
        return Path(path).read_bytes()


def render_thumbnail(video: bytes) -> tuple[bytes, str]:
    """Return the first frame of `video` as an image, and that image's mime type."""
    frame = _first_frame(video).reformat(format="rgb24")
    for codec, fmt, mime in (
        ("libwebp", "webp", "image/webp"),
        ("png", "image2pipe", "image/png"),
    ):
        if codec not in av.codecs_available:
            continue
        buffer = io.BytesIO()
        with av.open(buffer, "w", format=fmt) as out:
            stream = out.add_stream(codec, options={"quality": "80"} if codec == "libwebp" else {})
            assert isinstance(stream, av.VideoStream)
            stream.width = frame.width
            stream.height = frame.height
            stream.pix_fmt = "yuv420p" if codec == "libwebp" else "rgb24"
            image = _to_yuv(frame) if codec == "libwebp" else frame
            image.pts = 0
            out.mux(stream.encode(image))
            out.mux(stream.encode(None))
        return buffer.getvalue(), mime
    raise RuntimeError("this PyAV build can encode neither WebP nor PNG")


def probe(data_or_path: bytes | str | os.PathLike[str]) -> VideoInfo:
    """Describe the first video stream of an MP4 given as bytes or a path.

    Raises ValueError if it cannot be read or has no video stream.
    """
    source: io.BytesIO | str = (
        io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else os.fspath(data_or_path)
    )
    try:
        with av.open(source, "r") as container:
            if not container.streams.video:
                raise ValueError("no video stream")
            stream = container.streams.video[0]
            has_audio = bool(container.streams.audio)
            codec = stream.codec_context.name
            width, height = stream.codec_context.width, stream.codec_context.height
            pix_fmt = stream.codec_context.format.name if stream.codec_context.format else ""
            rate = stream.average_rate or stream.guessed_rate
            first: int | None = None
            end: int | None = None
            frames = 0
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                frames += 1
                first = packet.pts if first is None else min(first, packet.pts)
                stop = packet.pts + (packet.duration or 0)
                end = stop if end is None else max(end, stop)
            time_base = stream.time_base
    except av.FFmpegError as exc:
        raise ValueError(f"not a readable video: {exc}") from exc
    duration = 0.0
    if first is not None and end is not None and time_base is not None:
        duration = float((end - first) * time_base)
    fps = float(rate) if rate else (frames / duration if duration else 0.0)
    return VideoInfo(
        width=width,
        height=height,
        duration=duration,
        fps=fps,
        frames=frames,
        codec=codec,
        pix_fmt=pix_fmt,
        has_audio=has_audio,
    )


def _check_size(width: int, height: int) -> None:
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, not {value!r}")
        if not MIN_DIMENSION <= value <= MAX_DIMENSION:
            raise ValueError(f"{name} must be {MIN_DIMENSION}..{MAX_DIMENSION}, not {value}")
        if value % 2:
            raise ValueError(f"{name} must be even for yuv420p video, not {value}")


def _check_timing(seconds: float, fps: int) -> None:
    if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= 120:
        raise ValueError(f"fps must be an integer 1..120, not {fps!r}")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ValueError(f"seconds must be a number, not {seconds!r}")
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_SECONDS):
        raise ValueError(f"seconds must be in (0, {MAX_SECONDS:g}], not {seconds!r}")


def _digest(**inputs: object) -> bytes:
    canonical: dict[str, object] = {}
    for key, value in inputs.items():
        if isinstance(value, bytes):
            canonical[key] = hashlib.sha256(value).hexdigest()
        elif isinstance(value, Mapping):
            canonical[key] = {str(k): value[k] for k in value}
        else:
            canonical[key] = value
    text = json.dumps(canonical, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).digest()


class _Stream:
    """An endless, deterministic supply of numbers drawn from a digest."""

    def __init__(self, digest: bytes) -> None:
        self._digest = digest
        self._counter = 0

    def unit(self) -> float:
        """A number in [0, 1)."""
        block = hashlib.sha256(self._digest + self._counter.to_bytes(4, "big")).digest()
        self._counter += 1
        return int.from_bytes(block[:7], "big") / float(1 << 56)

    def between(self, low: float, high: float) -> float:
        return low + (high - low) * self.unit()


@attrs.frozen
class _Blob:
    radius: float
    color: tuple[float, float, float]
    amplitude: tuple[float, float]
    speed: tuple[float, float]
    phase: tuple[float, float]


class _Pattern:
    """The generated animation: a drifting two-colour gradient under moving soft discs."""

    def __init__(self, digest: bytes, width: int, height: int, frame_count: int, fps: int) -> None:
        rng = _Stream(digest)
        self.width = width
        self.height = height
        self.frame_count = frame_count
        self.fps = fps
        step = max(1, math.ceil(max(width, height) / _CANVAS))
        self._cw = max(2, math.ceil(width / step))
        self._ch = max(2, math.ceil(height / step))
        self._xs: _F32 = (np.arange(self._cw, dtype=np.float32) / np.float32(self._cw))[None, :]
        self._ys: _F32 = (np.arange(self._ch, dtype=np.float32) / np.float32(self._ch))[:, None]
        self._aspect = np.float32(width / height)

        hue = rng.unit()
        self._colors = [
            _rgb(hue, 0.55, 0.35),
            _rgb(hue + rng.between(0.25, 0.5), 0.6, 0.85),
            _rgb(hue + rng.between(0.5, 0.75), 0.9, 1.0),
        ]
        angle = rng.between(0.0, 2 * math.pi)
        self._direction = (math.cos(angle), math.sin(angle))
        self._bands = rng.between(0.6, 1.6)
        self._drift = rng.between(0.1, 0.35) * (1 if rng.unit() < 0.5 else -1)
        self._blobs = [
            _Blob(
                radius=rng.between(0.08, 0.22),
                color=_rgb(hue + rng.between(0.0, 1.0), rng.between(0.5, 1.0), 1.0),
                amplitude=(rng.between(0.15, 0.4), rng.between(0.15, 0.4)),
                speed=(rng.between(0.4, 1.6), rng.between(0.4, 1.6)),
                phase=(rng.between(0, 2 * math.pi), rng.between(0, 2 * math.pi)),
            )
            for _ in range(3 + int(rng.unit() * 3))
        ]

    def rgb(self, index: int) -> _U8:
        """The frame at `index` as an RGB array at the internal canvas size."""
        t = index / self.fps
        dx, dy = self._direction
        offset = np.float32(t * self._drift)
        band = (self._xs * np.float32(dx * self._bands * float(self._aspect))) + (
            self._ys * np.float32(dy * self._bands)
        )
        band = band + offset
        band = np.abs((band - np.floor(band)) * np.float32(2) - np.float32(1))
        low, high = (np.array(c, dtype=np.float32) for c in self._colors[:2])
        image: _F32 = low + (high - low) * band[..., None]

        for blob in self._blobs:
            cx = 0.5 + blob.amplitude[0] * math.sin(blob.speed[0] * t + blob.phase[0])
            cy = 0.5 + blob.amplitude[1] * math.sin(blob.speed[1] * t + blob.phase[1])
            # Only the disc's bounding box can change, so only that is computed.
            rx = blob.radius / float(self._aspect)
            x0, x1 = _span(cx - rx, cx + rx, self._cw)
            y0, y1 = _span(cy - blob.radius, cy + blob.radius, self._ch)
            if x0 >= x1 or y0 >= y1:
                continue
            ddx = (self._xs[:, x0:x1] - np.float32(cx)) * self._aspect
            ddy = self._ys[y0:y1] - np.float32(cy)
            weight = np.float32(1) - (ddx * ddx + ddy * ddy) * np.float32(1 / blob.radius**2)
            weight = np.clip(weight, 0, 1)
            weight = (weight * weight)[..., None]
            box = image[y0:y1, x0:x1]
            box += (np.array(blob.color, dtype=np.float32) - box) * weight

        # A progress bar along the bottom edge makes the timeline visible.
        bar_rows = max(1, self._ch // 40)
        filled = (index + 1) * self._cw // self.frame_count
        image[-bar_rows:, :filled] = np.array(self._colors[2], dtype=np.float32)
        frame: _U8 = np.clip(image * np.float32(255), 0, 255).astype(np.uint8)
        return frame

    def frame(self, index: int) -> av.VideoFrame:
        """The frame at `index`, scaled to the output size, as yuv420p."""
        small = av.VideoFrame.from_ndarray(self.rgb(index), format="rgb24")
        return _to_yuv(small, self.width, self.height)


def _span(low: float, high: float, size: int) -> tuple[int, int]:
    """The pixel range [start, stop) of a canvas axis of `size` covering [low, high)."""
    return max(0, math.floor(low * size)), min(size, math.ceil(high * size) + 1)


def _rgb(hue: float, saturation: float, value: float) -> tuple[float, float, float]:
    return colorsys.hsv_to_rgb(hue % 1.0, saturation, value)


def _blend(under: _U8, over: _U8, keep: int) -> _U8:
    """Mix two yuv420p arrays, keeping `keep`/256 of `under`."""
    mixed = under.astype(np.uint16) * np.uint16(keep) + over.astype(np.uint16) * np.uint16(
        256 - keep
    )
    return ((mixed + np.uint16(128)) >> np.uint16(8)).astype(np.uint8)


def _cover(frame: av.VideoFrame, width: int, height: int) -> _U8:
    """Scale `frame` to fill `width` x `height`, cropping the overflow, as a yuv420p array."""
    if (frame.width, frame.height) == (width, height):
        return _yuv_array(_to_yuv(frame))
    scale = max(width / frame.width, height / frame.height)
    scaled_w = max(width, math.ceil(frame.width * scale))
    scaled_h = max(height, math.ceil(frame.height * scale))
    rgb = np.asarray(
        frame.reformat(scaled_w, scaled_h, "rgb24", interpolation=_SCALE, threads=1).to_ndarray(),
        dtype=np.uint8,
    )
    left, top = (scaled_w - width) // 2, (scaled_h - height) // 2
    cropped = np.ascontiguousarray(rgb[top : top + height, left : left + width])
    fitted = av.VideoFrame.from_ndarray(cropped, format="rgb24")
    return _yuv_array(_to_yuv(fitted))


def _to_yuv(
    frame: av.VideoFrame, width: int | None = None, height: int | None = None
) -> av.VideoFrame:
    """Convert to limited-range BT.601 yuv420p, which is what the encoder tags its output as.

    Decoded PNGs say they are full range; without an explicit target range swscale would
    keep that, and players would show the result over-saturated.
    """
    return frame.reformat(
        width,
        height,
        "yuv420p",
        dst_colorspace=Colorspace.ITU601,
        dst_color_range=ColorRange.MPEG,
        interpolation=_SCALE,
        threads=1,
    )


def _yuv_array(frame: av.VideoFrame) -> _U8:
    """A yuv420p frame as one (height * 3 / 2, width) array: Y rows, then U, then V."""
    return np.asarray(frame.to_ndarray(), dtype=np.uint8)


def _yuv_frame(array: _U8) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(array, format="yuv420p")


def _first_frame(media: bytes) -> av.VideoFrame:
    try:
        with av.open(io.BytesIO(media), "r") as container:
            if not container.streams.video:
                raise ValueError("no picture in the given media")
            stream = container.streams.video[0]
            # Ask for bit-exact decoding (JPEG's IDCT has CPU-specific variants otherwise).
            stream.codec_context.options = {"flags": "+bitexact"}
            for frame in container.decode(stream):
                return frame
    except av.FFmpegError as exc:
        raise ValueError(f"cannot decode the given media: {exc}") from exc
    raise ValueError("no picture in the given media")


def _reference_frames(pattern: _Pattern, image: bytes, fps: int) -> Iterator[av.VideoFrame]:
    reference = _cover(_first_frame(image), pattern.width, pattern.height)
    fade = max(1, round(_REFERENCE_FADE_SECONDS * fps))
    yield _yuv_frame(reference)
    for index in range(1, pattern.frame_count):
        generated = pattern.frame(index)
        if index >= fade:
            yield generated
            continue
        keep = 256 * (fade - index) // fade
        yield _yuv_frame(_blend(reference, _yuv_array(generated), keep))


def _remix_frames(pattern: _Pattern, video: bytes, fps: int) -> Iterator[av.VideoFrame]:
    source = _source_frames(video)
    current = next(source, None)
    if current is None:
        raise ValueError("the source video has no frames")
    upcoming = next(source, None)
    for index in range(pattern.frame_count):
        # Hold the latest source frame that starts at or before this output frame.
        t = index / fps
        while upcoming is not None and upcoming[0] <= t + 1e-6:
            current, upcoming = upcoming, next(source, None)
        under = _cover(current[1], pattern.width, pattern.height)
        yield _yuv_frame(_blend(under, _yuv_array(pattern.frame(index)), _REMIX_KEEP))


def _source_frames(video: bytes) -> Iterator[tuple[float, av.VideoFrame]]:
    """Decode `video`, yielding (seconds from its first frame, frame)."""
    try:
        with av.open(io.BytesIO(video), "r") as container:
            stream = container.streams.video[0]
            start: float | None = None
            for frame in container.decode(stream):
                when = float(frame.time or 0.0)
                start = when if start is None else start
                yield when - start, frame
    except av.FFmpegError as exc:
        raise ValueError(f"cannot decode the source video: {exc}") from exc
