"""The final cut: join shot MP4s, in order, into one file.

When every input has the same codec, size, pixel format, time base and codec setup the
packets are copied with their timestamps rebased (fast and lossless). Otherwise every
input is decoded, letterboxed to one size and re-encoded at one frame rate. Audio is kept
only when every input has some.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Literal

import attrs
import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace

from .clips import (
    AUDIO_BIT_RATE,
    AUDIO_CODEC,
    F32,
    VIDEO_OPTIONS,
    Clip,
    describe,
    encode_audio,
    letterbox,
    mp4_output,
    problem_at,
    scan_all,
    since,
)
from .errors import InputError

__all__ = ["ConcatResult", "concat"]

Mode = Literal["copy", "reencode"]


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
    scanned = scan_all([Path(p) for p in inputs])
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
    info = describe(output)
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


def _even_size(size: object) -> bool:
    return (
        isinstance(size, tuple)
        and len(size) == 2
        and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 2 and v % 2 == 0 for v in size
        )
    )


def _can_copy(scanned: list[Clip], target: tuple[int, int], keep_audio: bool) -> bool:
    first = scanned[0]
    if (first.video.width, first.video.height) != target:
        return False
    if any(item.video != first.video or not item.starts_on_keyframe for item in scanned):
        return False
    return not keep_audio or all(item.audio == first.audio for item in scanned)


def _copy(scanned: list[Clip], out: av.container.OutputContainer, keep_audio: bool) -> None:
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
            raise InputError(problem_at(item.path, f"cannot read this video: {exc}")) from exc
        offset += item.end_pts - item.first_pts


def _rescale(value: int, source: Fraction, target: Fraction) -> int:
    return round(value * source / target)


def _reencode(
    scanned: list[Clip],
    out: av.container.OutputContainer,
    target: tuple[int, int],
    keep_audio: bool,
) -> None:
    """Decode every input, letterbox it to `target` and encode it at the first input's rate."""
    width, height = target
    fps = scanned[0].fps
    video_out = out.add_stream("libx264", rate=fps, options=dict(VIDEO_OPTIONS))
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
        stream = out.add_stream(AUDIO_CODEC, rate=rate)
        assert isinstance(stream, av.AudioStream)
        stream.layout = layout
        stream.bit_rate = AUDIO_BIT_RATE
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
                    next_sample = encode_audio(out, audio_out, chunk, next_sample, layout, rate)
        except av.FFmpegError as exc:
            raise InputError(problem_at(item.path, f"cannot decode this video: {exc}")) from exc
        start = end
    out.mux(video_out.encode(None))
    if audio_out is not None:
        out.mux(audio_out.encode(None))


def _resampled_video(
    item: Clip, fps: Fraction, count: int, target: tuple[int, int]
) -> Iterator[av.VideoFrame]:
    """`count` frames at `fps`, each the latest input frame shown by then, letterboxed."""
    with av.open(str(item.path), "r") as container:
        stream = container.streams.video[0]
        decoded = container.decode(stream)
        origin = item.first_pts * item.video.time_base
        current = next(decoded, None)
        if current is None:
            raise InputError(problem_at(item.path, "no video frame could be decoded"))
        upcoming = next(decoded, None)
        picture: av.VideoFrame | None = None
        for index in range(count):
            when = Fraction(index) / fps
            changed = picture is None
            while upcoming is not None and since(upcoming, origin) <= when:
                current, upcoming = upcoming, next(decoded, None)
                changed = True
            if changed or picture is None:
                picture = letterbox(current, target)
            # Reusing one frame is safe: the encoder keeps its own reference to each one.
            yield picture


def _audio_samples(item: Clip, rate: int, layout: str, count: int) -> Iterator[F32]:
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
