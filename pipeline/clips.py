"""MP4 clips with PyAV, as the final cut reads and writes them.

A clip is learned by demuxing it once (`scan_all`: its streams, frame rate and timestamps,
or every problem found); frames are letterboxed to one size, audio is encoded in AAC frames
at exact sample positions, and an output is written whole or not at all (`mp4_output`).
`assemble` (the plain splice) and `editing` (the cut with its options) share these.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import attrs
import av
import numpy as np
import numpy.typing as npt
from av.video.reformatter import ColorRange, Colorspace, Interpolation

from .errors import InputError, Problem

__all__ = [
    "AUDIO_BIT_RATE",
    "AUDIO_CODEC",
    "F32",
    "VIDEO_OPTIONS",
    "AudioSig",
    "Clip",
    "VideoSig",
    "describe",
    "encode_audio",
    "letterbox",
    "mp4_output",
    "problem_at",
    "scan_all",
    "since",
]

# x264 output depends on its thread count, so it is fixed rather than per machine.
VIDEO_OPTIONS = {"preset": "veryfast", "crf": "20", "threads": "2"}
AUDIO_BIT_RATE = 192_000
AUDIO_CODEC = "aac"
_AAC_FRAME = 1024
_FALLBACK_FPS = Fraction(24)
_SCALE = Interpolation.BILINEAR | Interpolation.BITEXACT

_U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]


@attrs.frozen
class VideoSig:
    codec: str
    width: int
    height: int
    pix_fmt: str
    time_base: Fraction
    extradata: bytes


@attrs.frozen
class AudioSig:
    codec: str
    sample_rate: int
    layout: str
    sample_fmt: str
    time_base: Fraction
    extradata: bytes


@attrs.frozen
class Clip:
    """One input, as learned by demuxing it once without decoding."""

    path: Path
    video: VideoSig
    fps: Fraction
    # Video timestamps, in the video time base: first dts, first pts, end of the last frame.
    first_dts: int
    first_pts: int
    end_pts: int
    frames: int
    starts_on_keyframe: bool
    audio: AudioSig | None
    audio_first_dts: int

    @property
    def duration(self) -> Fraction:
        return (self.end_pts - self.first_pts) * self.video.time_base


@contextlib.contextmanager
def mp4_output(output: Path) -> Iterator[av.container.OutputContainer]:
    """An MP4 container writing to a temporary file beside `output`, moved into place when
    the block ends (the file is removed if it raises): `output` is never half written."""
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(
        prefix=f".{output.name}.", suffix=".part.mp4", dir=output.parent
    )
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        with av.open(
            str(tmp), "w", format="mp4", container_options={"movflags": "+faststart"}
        ) as out:
            yield out
        # mkstemp makes the file private; a finished video gets the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)
        os.replace(tmp, output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def problem_at(path: Path, message: str) -> Problem:
    return Problem(message, file=str(path))


def scan_all(paths: list[Path]) -> list[Clip]:
    problems: list[Problem] = []
    scanned: list[Clip] = []
    for path in paths:
        if not path.is_file():
            problems.append(problem_at(path, "no such video file"))
            continue
        try:
            scanned.append(_scan(path))
        except av.FFmpegError as exc:
            problems.append(problem_at(path, f"cannot read this video: {exc}"))
        except _Unusable as exc:
            problems.append(problem_at(path, str(exc)))
    if problems:
        raise InputError(problems)
    return scanned


class _Unusable(Exception):
    """An input that opens but cannot be joined (no video, no frames)."""


def _scan(path: Path) -> Clip:
    with av.open(str(path), "r") as container:
        if not container.streams.video:
            raise _Unusable("has no video stream")
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        vctx = video.codec_context
        if video.time_base is None:
            raise _Unusable("its video stream has no time base")
        video_sig = VideoSig(
            codec=vctx.name,
            width=vctx.width,
            height=vctx.height,
            pix_fmt=vctx.format.name if vctx.format else "",
            time_base=video.time_base,
            extradata=bytes(vctx.extradata or b""),
        )
        audio_sig = None
        if audio is not None and audio.time_base is not None:
            actx = audio.codec_context
            audio_sig = AudioSig(
                codec=actx.name,
                sample_rate=actx.sample_rate,
                layout=actx.layout.name,
                sample_fmt=actx.format.name if actx.format else "",
                time_base=audio.time_base,
                extradata=bytes(actx.extradata or b""),
            )
        first_dts: int | None = None
        first_pts: int | None = None
        end_pts: int | None = None
        audio_first_dts: int | None = None
        frames = 0
        keyframe_start = False
        streams = [video] if audio_sig is None else [video, audio]
        for packet in container.demux(streams):
            if packet.size == 0:
                continue
            if packet.stream.type == "audio":
                if audio_first_dts is None and packet.dts is not None:
                    audio_first_dts = packet.dts
                continue
            if packet.pts is None or packet.dts is None:
                continue
            if frames == 0:
                keyframe_start = packet.is_keyframe
                first_dts = packet.dts
            frames += 1
            first_pts = packet.pts if first_pts is None else min(first_pts, packet.pts)
            stop = packet.pts + (packet.duration or 0)
            end_pts = stop if end_pts is None else max(end_pts, stop)
        if not frames or first_dts is None or first_pts is None or end_pts is None:
            raise _Unusable("its video stream has no frames")
        if end_pts <= first_pts:
            raise _Unusable("its video stream has no duration")
        rate = video.average_rate or video.guessed_rate
        return Clip(
            path=path,
            video=video_sig,
            fps=Fraction(rate) if rate else _FALLBACK_FPS,
            first_dts=first_dts,
            first_pts=first_pts,
            end_pts=end_pts,
            frames=frames,
            starts_on_keyframe=keyframe_start,
            audio=audio_sig,
            audio_first_dts=audio_first_dts or 0,
        )


def since(frame: av.VideoFrame, origin: Fraction) -> Fraction:
    if frame.pts is None or frame.time_base is None:
        return Fraction(0)
    return frame.pts * frame.time_base - origin


def letterbox(frame: av.VideoFrame, target: tuple[int, int]) -> av.VideoFrame:
    """Scale `frame` to fit inside `target`, keeping its aspect ratio, on a black ground."""
    width, height = target
    scale = min(width / frame.width, height / frame.height)
    fit_w = min(width, max(2, 2 * round(frame.width * scale / 2)))
    fit_h = min(height, max(2, 2 * round(frame.height * scale / 2)))
    scaled = frame.reformat(
        fit_w,
        fit_h,
        "yuv420p",
        dst_colorspace=Colorspace.ITU601,
        dst_color_range=ColorRange.MPEG,
        interpolation=_SCALE,
    )
    if (fit_w, fit_h) == (width, height):
        return scaled
    y, u, v = _planes(np.asarray(scaled.to_ndarray(), dtype=np.uint8), fit_w, fit_h)
    canvas = np.empty(height * width * 3 // 2, dtype=np.uint8)
    cy, cu, cv = _planes(canvas.reshape(height * 3 // 2, width), width, height)
    cy[:] = 16  # limited-range black
    cu[:] = 128
    cv[:] = 128
    left = (width - fit_w) // 4 * 2
    top = (height - fit_h) // 4 * 2
    cy[top : top + fit_h, left : left + fit_w] = y
    cu[top // 2 : (top + fit_h) // 2, left // 2 : (left + fit_w) // 2] = u
    cv[top // 2 : (top + fit_h) // 2, left // 2 : (left + fit_w) // 2] = v
    return av.VideoFrame.from_ndarray(canvas.reshape(height * 3 // 2, width), format="yuv420p")


def _planes(array: _U8, width: int, height: int) -> tuple[_U8, _U8, _U8]:
    """Views of the Y, U and V planes of a packed yuv420p array from PyAV."""
    flat = array.reshape(-1)
    luma = width * height
    chroma = luma // 4
    return (
        flat[:luma].reshape(height, width),
        flat[luma : luma + chroma].reshape(height // 2, width // 2),
        flat[luma + chroma :].reshape(height // 2, width // 2),
    )


def encode_audio(
    out: av.container.OutputContainer,
    stream: av.AudioStream,
    samples: F32,
    position: int,
    layout: str,
    rate: int,
) -> int:
    """Encode `samples` starting at sample `position`; return the position after them."""
    for begin in range(0, samples.shape[1], _AAC_FRAME * 8):
        chunk = np.ascontiguousarray(samples[:, begin : begin + _AAC_FRAME * 8])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
        frame.sample_rate = rate
        frame.pts = position
        frame.time_base = Fraction(1, rate)
        out.mux(stream.encode(frame))
        position += chunk.shape[1]
    return position


def describe(path: Path) -> tuple[int, int, float, int, bool]:
    """Width, height, duration in seconds, frame count and whether it has audio."""
    with av.open(str(path), "r") as container:
        video = container.streams.video[0]
        first: int | None = None
        end: int | None = None
        frames = 0
        for packet in container.demux(video):
            if packet.pts is None:
                continue
            frames += 1
            first = packet.pts if first is None else min(first, packet.pts)
            stop = packet.pts + (packet.duration or 0)
            end = stop if end is None else max(end, stop)
        duration = 0.0
        if first is not None and end is not None and video.time_base is not None:
            duration = float((end - first) * video.time_base)
        return (
            video.codec_context.width,
            video.codec_context.height,
            duration,
            frames,
            bool(container.streams.audio),
        )
