"""The edited final cut: each shot trimmed, faded into the next, at one size and frame rate,
with its sound kept, muted or a music file mixed under it, and its caption timed.

The cut lasts exactly the sum of its trimmed clips less the crossfades between them; its
frames are laid on the output frame grid, so the file is within one frame of that. A
crossfade blends the two clips' pictures (and sounds) linearly over its length.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import attrs
import av
import numpy as np
import numpy.typing as npt
from av.video.reformatter import ColorRange, Colorspace
from PIL import Image, ImageDraw, ImageFont

from .clips import (
    AUDIO_BIT_RATE,
    AUDIO_CODEC,
    VIDEO_OPTIONS,
    Clip,
    describe,
    encode_audio,
    letterbox,
    mp4_output,
    scan_all,
    since,
)
from .errors import InputError, Problem

__all__ = ["Cue", "EditResult", "Part", "edit"]

_RATE = 48_000
_LAYOUT = "stereo"
_U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]


@attrs.frozen
class Part:
    """One clip: the part of `path` from `start` to `end` (seconds; None: the video's end),
    faded in from the clip before over `crossfade` seconds, shown with `caption`."""

    path: Path
    start: float = 0.0
    end: float | None = None
    crossfade: float = 0.0
    caption: str | None = None
    name: str = ""


@attrs.frozen
class Cue:
    """A caption and when it shows in the cut (seconds)."""

    start: float
    end: float
    text: str


@attrs.frozen
class EditResult:
    """What `edit` wrote: the file, its measured and its intended length, and the cues."""

    path: Path
    duration: float
    expected: float
    width: int
    height: int
    frames: int
    has_audio: bool
    cues: tuple[Cue, ...] = ()


def _exact(value: float) -> Fraction:
    return Fraction(value).limit_denominator(1_000_000)


@attrs.frozen
class _Span:
    part: Part
    item: Clip
    start: Fraction  # in the source video
    length: Fraction
    at: Fraction  # where it starts in the cut
    fade: Fraction  # the crossfade into it


def _spans(parts: Sequence[Part], scanned: Sequence[Clip]) -> list[_Span]:
    problems: list[Problem] = []
    spans: list[_Span] = []
    at = Fraction(0)
    for number, (part, item) in enumerate(zip(parts, scanned, strict=True)):
        name = part.name or part.path.name
        start = _exact(part.start)
        end = item.duration if part.end is None else _exact(part.end)
        if end > item.duration + Fraction(1, 1000):
            problems.append(
                Problem(
                    f"clip of {name} ends at {float(end):g} s, after its video"
                    f" ({float(item.duration):g} s)"
                )
            )
            continue
        end = min(end, item.duration)
        if start >= end:
            problems.append(
                Problem(
                    f"clip of {name} starts at {float(start):g} s, at or after its end"
                    f" ({float(end):g} s)"
                )
            )
            continue
        length = end - start
        fade = _exact(part.crossfade) if number else Fraction(0)
        if spans and fade > min(length, spans[-1].length):
            problems.append(
                Problem(f"crossfade into {name} ({float(fade):g} s) is longer than a clip it joins")
            )
            continue
        at = at - fade if spans else at
        spans.append(_Span(part, item, start, length, at, fade))
        at += length
    if problems:
        raise InputError(problems)
    return spans


def _cues(spans: Sequence[_Span]) -> tuple[Cue, ...]:
    """Each clip's caption while it shows; across a crossfade, the caption changes halfway
    through it, so that no two cues overlap (players show overlapping cues stacked)."""
    cues = []
    for index, span in enumerate(spans):
        if not span.part.caption:
            continue
        following = spans[index + 1].fade if index + 1 < len(spans) else Fraction(0)
        start = span.at + span.fade / 2
        end = span.at + span.length - following / 2
        cues.append(Cue(float(start), float(end), span.part.caption))
    return tuple(cues)


def edit(
    parts: Sequence[Part],
    output: Path,
    *,
    size: tuple[int, int] | None = None,
    fps: float | None = None,
    audio: str = "keep",
    music: Path | None = None,
    music_volume: float = 0.3,
    burn_captions: bool = False,
) -> EditResult:
    """Write the cut of `parts` to `output` (re-encoded, H.264 and AAC) and describe it;
    with `burn_captions`, each clip's caption is written into its pictures too.

    InputError, listing every problem, when a clip lies outside its video, a crossfade is
    longer than a clip it joins, or a file cannot be read.
    """
    if not parts:
        raise InputError("a cut needs at least one clip")
    scanned = scan_all([p.path for p in parts])
    spans = _spans(parts, scanned)
    first = scanned[0]
    target = size or (
        first.video.width - first.video.width % 2,
        first.video.height - first.video.height % 2,
    )
    rate = _exact(fps) if fps else first.fps
    total = spans[-1].at + spans[-1].length
    count = round(total * rate)
    with_sound = audio != "mute" and (
        music is not None or any(item.audio is not None for item in scanned)
    )
    output = Path(output)
    try:
        with mp4_output(output) as out:
            video = out.add_stream("libx264", rate=rate, options=dict(VIDEO_OPTIONS))
            assert isinstance(video, av.VideoStream)
            video.width, video.height = target
            video.pix_fmt = "yuv420p"
            video.codec_context.time_base = 1 / rate
            video.codec_context.colorspace = Colorspace.ITU601
            video.codec_context.color_range = ColorRange.MPEG
            sound: av.AudioStream | None = None
            if with_sound:
                stream = out.add_stream(AUDIO_CODEC, rate=_RATE)
                assert isinstance(stream, av.AudioStream)
                stream.layout = _LAYOUT
                stream.bit_rate = AUDIO_BIT_RATE
                sound = stream
            burner = _Burner(target) if burn_captions else None
            for index, picture in enumerate(_pictures(spans, rate, count, target, burner)):
                frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
                frame.pts = index
                frame.time_base = 1 / rate
                out.mux(video.encode(frame))
            out.mux(video.encode(None))
            if sound is not None:
                mix = _mix(spans, round(total * _RATE), music, music_volume, audio != "mute")
                encode_audio(out, sound, mix, 0, _LAYOUT, _RATE)
                out.mux(sound.encode(None))
    except av.FFmpegError as exc:
        raise InputError(f"the cut could not be made: {exc}") from exc
    width, height, duration, frames, has_audio = describe(output)
    cues = _cues(spans)
    return EditResult(output, duration, float(total), width, height, frames, has_audio, cues)


class _Reader:
    """The pictures of one clip, letterboxed, read forward by time within the clip."""

    def __init__(self, span: _Span, target: tuple[int, int]) -> None:
        self.span = span
        self.target = target
        self.container = av.open(str(span.item.path), "r")
        self.frames = self.container.decode(self.container.streams.video[0])
        self.origin = span.item.first_pts * span.item.video.time_base
        self.current = next(self.frames, None)
        if self.current is None:
            raise InputError(Problem("no video frame could be decoded", str(span.item.path)))
        self.upcoming = next(self.frames, None)
        self.picture: _U8 | None = None

    def at(self, when: Fraction) -> _U8:
        """The picture showing `when` seconds into the clip."""
        source = self.span.start + when
        changed = self.picture is None
        while self.upcoming is not None and since(self.upcoming, self.origin) <= source:
            self.current, self.upcoming = self.upcoming, next(self.frames, None)
            changed = True
        if changed or self.picture is None:
            assert self.current is not None
            boxed = letterbox(self.current, self.target)
            self.picture = np.asarray(boxed.to_ndarray(), dtype=np.uint8)
        return self.picture

    def close(self) -> None:
        self.container.close()


class _Burner:
    """Captions burnt into the picture: white text on a black band near the bottom, written
    into a yuv420p array (luma for the text, neutral chroma under the band)."""

    def __init__(self, target: tuple[int, int]) -> None:
        self.width, self.height = target
        self.size = max(10, self.height // 18)
        self.font = ImageFont.load_default(size=self.size)
        self.masks: dict[str, _U8] = {}

    def mask(self, text: str) -> _U8:
        """The band of `text` (1 where a letter is), as wide as the picture."""
        if text not in self.masks:
            per_line = max(8, int(self.width / (self.size * 0.55)))
            lines = "\n".join(textwrap.wrap(" ".join(text.split()), per_line)[:3])
            probe = ImageDraw.Draw(Image.new("L", (1, 1)))
            box = probe.multiline_textbbox((0, 0), lines, font=self.font)
            left, top, right, bottom = (round(v) for v in box)
            pad = self.size // 2
            band = Image.new("L", (self.width, min(self.height, bottom - top + 2 * pad)), 0)
            x = max(0, (self.width - (right - left)) // 2 - left)
            ImageDraw.Draw(band).multiline_text(
                (x, pad - top), lines, fill=255, font=self.font, align="center"
            )
            self.masks[text] = np.asarray(band, dtype=np.uint8)
        return self.masks[text]

    def burn(self, picture: _U8, text: str) -> _U8:
        """A copy of the yuv420p `picture` with `text` burnt in."""
        mask = self.mask(text)
        rows = mask.shape[0] - mask.shape[0] % 2
        out = picture.copy()
        width, height = self.width, self.height
        top = max(0, height - rows - height // 20) // 2 * 2
        flat = out.reshape(-1)
        luma = flat[: width * height].reshape(height, width)
        luma[top : top + rows] = (16 + mask[:rows].astype(np.uint16) * 219 // 255).astype(np.uint8)
        quarter = width * height // 4
        for plane in (
            flat[width * height : width * height + quarter],
            flat[width * height + quarter :],
        ):
            plane.reshape(height // 2, width // 2)[top // 2 : (top + rows) // 2] = 128
        return out


def _pictures(
    spans: Sequence[_Span],
    rate: Fraction,
    count: int,
    target: tuple[int, int],
    burner: _Burner | None = None,
) -> Iterator[_U8]:
    """The cut's `count` pictures (yuv420p arrays), crossfades blended, and the caption of
    the clip coming in burnt in when a `burner` is given."""
    for index, picture in enumerate(_blended(spans, rate, count, target)):
        when = Fraction(index) / rate
        showing = [s for s in spans if s.at <= when < s.at + s.length]
        caption = showing[-1].part.caption if showing else None
        yield burner.burn(picture, caption) if burner and caption else picture


def _blended(
    spans: Sequence[_Span], rate: Fraction, count: int, target: tuple[int, int]
) -> Iterator[_U8]:
    """The cut's `count` pictures (yuv420p arrays), crossfades blended."""
    readers: dict[int, _Reader] = {}
    try:
        for index in range(count):
            when = Fraction(index) / rate
            showing = [n for n, s in enumerate(spans) if s.at <= when < s.at + s.length] or [
                len(spans) - 1
            ]
            for n in list(readers):
                if n not in showing:
                    readers.pop(n).close()
            pictures = []
            for n in showing:
                if n not in readers:
                    readers[n] = _Reader(spans[n], target)
                pictures.append((spans[n], readers[n].at(when - spans[n].at)))
            if len(pictures) == 1:
                yield pictures[0][1]
                continue
            (_, under), (span, over) = pictures[-2], pictures[-1]
            weight = float((when - span.at) / span.fade) if span.fade else 1.0
            mixed = under.astype(np.float32) * (1 - weight) + over.astype(np.float32) * weight
            yield np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    finally:
        for reader in readers.values():
            reader.close()


def _samples(path: Path, stream_kind: str = "audio") -> F32:
    """All of a file's audio, stereo float at 48 kHz (empty when it has none)."""
    chunks: list[F32] = []
    resampler = av.AudioResampler(format="fltp", layout=_LAYOUT, rate=_RATE)
    try:
        with av.open(str(path), "r") as container:
            if not container.streams.audio:
                return np.zeros((2, 0), dtype=np.float32)
            for decoded in container.decode(container.streams.audio[0]):
                chunks.extend(
                    np.asarray(f.to_ndarray(), np.float32) for f in resampler.resample(decoded)
                )
            chunks.extend(np.asarray(f.to_ndarray(), np.float32) for f in resampler.resample(None))
    except av.FFmpegError as exc:
        raise InputError(Problem(f"cannot read its {stream_kind}: {exc}", str(path))) from exc
    return np.concatenate(chunks, axis=1) if chunks else np.zeros((2, 0), dtype=np.float32)


def _mix(spans: Sequence[_Span], length: int, music: Path | None, volume: float, keep: bool) -> F32:
    """The cut's sound: each clip's own (faded in and out over its crossfades), and the
    music under it, exactly `length` samples."""
    mix = np.zeros((2, length), dtype=np.float32)
    if keep:
        for number, span in enumerate(spans):
            if span.item.audio is None:
                continue
            own = _samples(span.item.path)
            begin = round(span.start * _RATE)
            size = min(round(span.length * _RATE), length - round(span.at * _RATE))
            piece = np.zeros((2, size), dtype=np.float32)
            got = own[:, begin : begin + size]
            piece[:, : got.shape[1]] = got
            gain = np.ones(size, dtype=np.float32)
            fade_in = round(span.fade * _RATE)
            if fade_in:
                gain[:fade_in] *= np.linspace(0, 1, fade_in, dtype=np.float32)
            after = spans[number + 1].fade if number + 1 < len(spans) else Fraction(0)
            fade_out = round(after * _RATE)
            if fade_out:
                gain[-fade_out:] *= np.linspace(1, 0, fade_out, dtype=np.float32)
            place = round(span.at * _RATE)
            mix[:, place : place + size] += piece * gain
    if music is not None:
        tune = _samples(music, "music")[:, :length]
        mix[:, : tune.shape[1]] += tune * np.float32(volume)
    return np.clip(mix, -1, 1)
