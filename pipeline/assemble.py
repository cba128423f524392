"""The final cut: join shot MP4s, in order, into one file.

When every input has the same codec, size, pixel format, time base and codec setup the
packets are copied with their timestamps rebased (fast and lossless). Otherwise every
input is decoded, letterboxed to one size and re-encoded at one frame rate. Audio is kept
only when every input has some.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Literal

import attrs
import av
import numpy as np
import numpy.typing as npt
from av.video.reformatter import ColorRange, Colorspace, Interpolation

from .errors import InputError, Problem

__all__ = ["ConcatResult", "concat", "mp4_output"]

Mode = Literal["copy", "reencode"]

# x264 output depends on its thread count, so it is fixed rather than per machine.
_VIDEO_OPTIONS = {"preset": "veryfast", "crf": "20", "threads": "2"}
_AUDIO_BIT_RATE = 192_000
_AUDIO_CODEC = "aac"
_AAC_FRAME = 1024
_FALLBACK_FPS = Fraction(24)
_SCALE = Interpolation.BILINEAR | Interpolation.BITEXACT

_U8 = npt.NDArray[np.uint8]
_F32 = npt.NDArray[np.float32]


@attrs.frozen
class ConcatResult:
    """What `concat` wrote."""

    path: Path
    duration: float
    mode: Mode
    width: int
    height: int
    frames: int
    has_audio: bool


@attrs.frozen
class _VideoSig:
    codec: str
    width: int
    height: int
    pix_fmt: str
    time_base: Fraction
    extradata: bytes


@attrs.frozen
class _AudioSig:
    codec: str
    sample_rate: int
    layout: str
    sample_fmt: str
    time_base: Fraction
    extradata: bytes


@attrs.frozen
class _Input:
    """One input, as learned by demuxing it once without decoding."""

    path: Path
    video: _VideoSig
    fps: Fraction
    # Video timestamps, in the video time base: first dts, first pts, end of the last frame.
    first_dts: int
    first_pts: int
    end_pts: int
    frames: int
    starts_on_keyframe: bool
    audio: _AudioSig | None
    audio_first_dts: int

    @property
    def duration(self) -> Fraction:
        return (self.end_pts - self.first_pts) * self.video.time_base


def concat(
    inputs: Sequence[Path], output: Path, *, size: tuple[int, int] | None = None
) -> ConcatResult:
    """Join the MP4 files `inputs`, in order, into `output` and describe the result.

    `size` forces the output size (width, height); by default it is the first input's.
    The output is written to a temporary file next to `output` and moved into place.
    Raises InputError, listing every problem, if an input is missing or unreadable.
    """
    if not inputs:
        raise InputError("concat needs at least one input")
    if size is not None and not _even_size(size):
        raise InputError(f"concat size must be two even numbers of at least 2, not {size!r}")
    scanned = _scan_all([Path(p) for p in inputs])
    first = scanned[0]
    target = size or (
        first.video.width - first.video.width % 2,
        first.video.height - first.video.height % 2,
    )
    keep_audio = all(item.audio is not None for item in scanned)

    mode: Mode = "copy" if _can_copy(scanned, target, keep_audio) else "reencode"
    output = Path(output)
    with mp4_output(output) as out:
        if mode == "copy":
            _copy(scanned, out, keep_audio)
        else:
            _reencode(scanned, out, target, keep_audio)
    info = _describe(output)
    width, height, duration, frames, has_audio = info
    return ConcatResult(
        path=output,
        duration=duration,
        mode=mode,
        width=width,
        height=height,
        frames=frames,
        has_audio=has_audio,
    )


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


def _even_size(size: object) -> bool:
    return (
        isinstance(size, tuple)
        and len(size) == 2
        and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 2 and v % 2 == 0 for v in size
        )
    )


def _problem(path: Path, message: str) -> Problem:
    return Problem(message, file=str(path))


def _scan_all(paths: list[Path]) -> list[_Input]:
    problems: list[Problem] = []
    scanned: list[_Input] = []
    for path in paths:
        if not path.is_file():
            problems.append(_problem(path, "no such video file"))
            continue
        try:
            scanned.append(_scan(path))
        except av.FFmpegError as exc:
            problems.append(_problem(path, f"cannot read this video: {exc}"))
        except _Unusable as exc:
            problems.append(_problem(path, str(exc)))
    if problems:
        raise InputError(problems)
    return scanned


class _Unusable(Exception):
    """An input that opens but cannot be joined (no video, no frames)."""


def _scan(path: Path) -> _Input:
    with av.open(str(path), "r") as container:
        if not container.streams.video:
            raise _Unusable("has no video stream")
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        vctx = video.codec_context
        if video.time_base is None:
            raise _Unusable("its video stream has no time base")
        video_sig = _VideoSig(
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
            audio_sig = _AudioSig(
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
        return _Input(
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


def _can_copy(scanned: list[_Input], target: tuple[int, int], keep_audio: bool) -> bool:
    first = scanned[0]
    if (first.video.width, first.video.height) != target:
        return False
    if any(item.video != first.video or not item.starts_on_keyframe for item in scanned):
        return False
    return not keep_audio or all(item.audio == first.audio for item in scanned)


def _copy(scanned: list[_Input], out: av.container.OutputContainer, keep_audio: bool) -> None:
    """Remux every packet, shifting each input to start where the previous one ended."""
    with av.open(str(scanned[0].path), "r") as template:
        video_out = out.add_stream_from_template(template.streams.video[0])
        audio_out = out.add_stream_from_template(template.streams.audio[0]) if keep_audio else None
    time_base = scanned[0].video.time_base
    offset = 0  # in the (shared) video time base
    last_audio_dts: int | None = None
    for item in scanned:
        try:
            with av.open(str(item.path), "r") as container:
                video_in = container.streams.video[0]
                streams: list[av.stream.Stream] = [video_in]
                if audio_out is not None:
                    streams.append(container.streams.audio[0])
                for packet in container.demux(streams):
                    if packet.size == 0 or packet.dts is None:
                        continue
                    if packet.stream.type == "video":
                        shift = offset - item.first_dts
                        pts = packet.pts if packet.pts is not None else packet.dts
                        packet.dts += shift
                        packet.pts = pts + shift
                        packet.stream = video_out
                    else:
                        assert audio_out is not None and item.audio is not None
                        shift = (
                            _rescale(offset, time_base, item.audio.time_base) - item.audio_first_dts
                        )
                        pts = packet.pts if packet.pts is not None else packet.dts
                        dts = packet.dts + shift
                        # Audio running past its video would overlap the next input.
                        if last_audio_dts is not None and dts <= last_audio_dts:
                            continue
                        last_audio_dts = dts
                        packet.dts = dts
                        packet.pts = pts + shift
                        packet.stream = audio_out
                    out.mux_one(packet)
        except av.FFmpegError as exc:
            raise InputError(_problem(item.path, f"cannot read this video: {exc}")) from exc
        offset += item.end_pts - item.first_pts


def _rescale(value: int, source: Fraction, target: Fraction) -> int:
    return round(value * source / target)


def _reencode(
    scanned: list[_Input],
    out: av.container.OutputContainer,
    target: tuple[int, int],
    keep_audio: bool,
) -> None:
    """Decode every input, letterbox it to `target` and encode it at the first input's rate."""
    width, height = target
    fps = scanned[0].fps
    video_out = out.add_stream("libx264", rate=fps, options=dict(_VIDEO_OPTIONS))
    assert isinstance(video_out, av.VideoStream)
    video_out.width = width
    video_out.height = height
    video_out.pix_fmt = "yuv420p"
    video_out.codec_context.time_base = 1 / fps
    video_out.codec_context.colorspace = Colorspace.ITU601
    video_out.codec_context.color_range = ColorRange.MPEG

    audio_out: av.AudioStream | None = None
    rate, layout = 48_000, "stereo"
    if keep_audio:
        first_audio = scanned[0].audio
        assert first_audio is not None
        rate = first_audio.sample_rate
        layout = "mono" if first_audio.layout == "mono" else "stereo"
        stream = out.add_stream(_AUDIO_CODEC, rate=rate)
        assert isinstance(stream, av.AudioStream)
        stream.layout = layout
        stream.bit_rate = _AUDIO_BIT_RATE
        audio_out = stream

    # Shot boundaries are placed on the output frame grid by the running total, so that
    # rounding never accumulates: the cut is within one frame of the sum of its inputs.
    start = Fraction(0)
    next_frame = 0
    next_sample = 0
    for item in scanned:
        end = start + item.duration
        last_frame = round(end * fps)
        last_sample = round(end * rate)
        try:
            for frame in _resampled_video(item, fps, last_frame - next_frame, target):
                frame.pts = next_frame
                frame.time_base = 1 / fps
                out.mux(video_out.encode(frame))
                next_frame += 1
            if audio_out is not None:
                for chunk in _audio_samples(item, rate, layout, last_sample - next_sample):
                    next_sample = _encode_audio(out, audio_out, chunk, next_sample, layout, rate)
        except av.FFmpegError as exc:
            raise InputError(_problem(item.path, f"cannot decode this video: {exc}")) from exc
        start = end
    out.mux(video_out.encode(None))
    if audio_out is not None:
        out.mux(audio_out.encode(None))


def _resampled_video(
    item: _Input, fps: Fraction, count: int, target: tuple[int, int]
) -> Iterator[av.VideoFrame]:
    """`count` frames at `fps`, each the latest input frame shown by then, letterboxed."""
    with av.open(str(item.path), "r") as container:
        stream = container.streams.video[0]
        decoded = container.decode(stream)
        origin = item.first_pts * item.video.time_base
        current = next(decoded, None)
        if current is None:
            raise InputError(_problem(item.path, "no video frame could be decoded"))
        upcoming = next(decoded, None)
        picture: av.VideoFrame | None = None
        for index in range(count):
            when = Fraction(index) / fps
            changed = picture is None
            while upcoming is not None and _since(upcoming, origin) <= when:
                current, upcoming = upcoming, next(decoded, None)
                changed = True
            if changed or picture is None:
                picture = _letterbox(current, target)
            # Reusing one frame is safe: the encoder keeps its own reference to each one.
            yield picture


def _since(frame: av.VideoFrame, origin: Fraction) -> Fraction:
    if frame.pts is None or frame.time_base is None:
        return Fraction(0)
    return frame.pts * frame.time_base - origin


def _letterbox(frame: av.VideoFrame, target: tuple[int, int]) -> av.VideoFrame:
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


def _audio_samples(item: _Input, rate: int, layout: str, count: int) -> Iterator[_F32]:
    """Exactly `count` planar float samples of the input's audio, padded with silence."""
    channels = 1 if layout == "mono" else 2
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
    remaining = count
    with av.open(str(item.path), "r") as container:
        stream = container.streams.audio[0]
        for decoded in container.decode(stream):
            for frame in resampler.resample(decoded):
                if remaining <= 0:
                    return
                samples = np.asarray(frame.to_ndarray(), dtype=np.float32)[:, :remaining]
                remaining -= samples.shape[1]
                yield samples
        for frame in resampler.resample(None):
            if remaining <= 0:
                return
            samples = np.asarray(frame.to_ndarray(), dtype=np.float32)[:, :remaining]
            remaining -= samples.shape[1]
            yield samples
    if remaining > 0:
        yield np.zeros((channels, remaining), dtype=np.float32)


def _encode_audio(
    out: av.container.OutputContainer,
    stream: av.AudioStream,
    samples: _F32,
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


def _describe(path: Path) -> tuple[int, int, float, int, bool]:
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
