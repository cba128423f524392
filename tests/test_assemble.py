"""The final cut: stream copy when inputs match, re-encode when they do not."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest

from vidpipe.assemble import concat
from vidpipe.emulator.render import RENDER_FPS, probe, render_video
from vidpipe.errors import InputError

ONE_FRAME = 1 / RENDER_FPS


def _clip(
    folder: Path,
    name: str,
    *,
    width: int = 96,
    height: int = 64,
    seconds: float = 0.5,
    prompt: str = "a harbour",
    audio: bool = False,
) -> Path:
    video = render_video(
        model="sora-2", prompt=prompt, seed=3, width=width, height=height, seconds=seconds
    )
    path = folder / name
    if audio:
        video = _with_tone(video, seconds)
    path.write_bytes(video)
    return path


def _with_tone(video: bytes, seconds: float, rate: int = 44_100) -> bytes:
    """The same video with a 440 Hz stereo AAC track of `seconds`."""
    buffer = io.BytesIO()
    with (
        av.open(io.BytesIO(video), "r") as source,
        av.open(buffer, "w", format="mp4") as out,
    ):
        video_in = source.streams.video[0]
        video_out = out.add_stream_from_template(video_in)
        audio_out = out.add_stream("aac", rate=rate)
        assert isinstance(audio_out, av.AudioStream)
        audio_out.layout = "stereo"
        for packet in source.demux(video_in):
            if packet.size:
                packet.stream = video_out
                out.mux(packet)
        count = round(seconds * rate)
        tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(count) / rate)).astype(np.float32)
        samples = np.stack([tone, tone])
        for start in range(0, count, 1024):
            chunk = np.ascontiguousarray(samples[:, start : start + 1024])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate = rate
            frame.pts = start
            out.mux(audio_out.encode(frame))
        out.mux(audio_out.encode(None))
    return buffer.getvalue()


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path), "r") as container:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in container.decode(video=0)]


def _audio_seconds(path: Path) -> float:
    with av.open(str(path), "r") as container:
        stream = container.streams.audio[0]
        return sum(f.samples for f in container.decode(stream)) / stream.sample_rate


def test_matching_inputs_are_stream_copied(tmp_path: Path) -> None:
    first = _clip(tmp_path, "a.mp4", seconds=0.5)
    second = _clip(tmp_path, "b.mp4", seconds=0.75, prompt="a storm")
    result = concat([first, second], tmp_path / "cut.mp4")

    assert result.mode == "copy"
    assert result.path == tmp_path / "cut.mp4"
    assert (result.width, result.height) == (96, 64)
    assert result.duration == pytest.approx(1.25, abs=1e-6)
    assert result.frames == 30
    assert not result.has_audio
    frames = _frames(result.path)
    # A copy decodes to exactly the input pictures, in order.
    assert len(frames) == 30
    assert np.array_equal(frames[0], _frames(first)[0])
    assert np.array_equal(frames[12], _frames(second)[0])
    assert np.array_equal(frames[-1], _frames(second)[-1])


def test_mixed_sizes_are_reencoded_and_letterboxed(tmp_path: Path) -> None:
    wide = _clip(tmp_path, "wide.mp4", width=96, height=64, seconds=0.5)
    square = _clip(tmp_path, "square.mp4", width=64, height=64, seconds=0.5, prompt="a tower")
    result = concat([wide, square], tmp_path / "cut.mp4")

    assert result.mode == "reencode"
    assert (result.width, result.height) == (96, 64)
    info = probe(result.path)
    assert (info.width, info.height, info.codec) == (96, 64, "h264")
    frames = _frames(result.path)
    assert len(frames) == result.frames == 24
    # The square shot sits between black bars; the wide one fills the frame.
    last = frames[-1]
    assert last[:, :8].max() < 24
    assert last[:, -8:].max() < 24
    assert last[:, 24:72].mean() > 40
    assert frames[0][:, :8].mean() > 40


def test_size_forces_a_reencode_to_that_size(tmp_path: Path) -> None:
    clips = [_clip(tmp_path, f"{n}.mp4", seconds=0.25, prompt=n) for n in "ab"]
    result = concat(clips, tmp_path / "cut.mp4", size=(128, 72))
    assert result.mode == "reencode"
    assert (probe(result.path).width, probe(result.path).height) == (128, 72)


@pytest.mark.parametrize("sizes", [[(96, 64)] * 3, [(96, 64), (64, 64), (128, 72)]])
def test_duration_is_the_sum_of_the_inputs(tmp_path: Path, sizes: list[tuple[int, int]]) -> None:
    seconds = [0.5, 0.75, 7 / RENDER_FPS]
    clips = [
        _clip(tmp_path, f"{i}.mp4", width=w, height=h, seconds=s, prompt=str(i))
        for i, ((w, h), s) in enumerate(zip(sizes, seconds, strict=True))
    ]
    result = concat(clips, tmp_path / "cut.mp4")
    expected = sum(probe(c).duration for c in clips)
    assert abs(result.duration - expected) <= ONE_FRAME + 1e-6
    assert abs(probe(result.path).duration - expected) <= ONE_FRAME + 1e-6


@pytest.mark.parametrize("mixed_sizes", [False, True])
def test_audio_is_kept_when_every_input_has_it(tmp_path: Path, mixed_sizes: bool) -> None:
    first = _clip(tmp_path, "a.mp4", seconds=0.5, audio=True)
    second = _clip(
        tmp_path, "b.mp4", seconds=0.5, width=64 if mixed_sizes else 96, prompt="b", audio=True
    )
    result = concat([first, second], tmp_path / "cut.mp4")
    assert result.mode == ("reencode" if mixed_sizes else "copy")
    assert result.has_audio
    assert probe(result.path).has_audio
    # AAC pads to whole 1024-sample frames, so allow a few of them.
    assert _audio_seconds(result.path) == pytest.approx(1.0, abs=0.12)


def test_audio_is_dropped_unless_every_input_has_it(tmp_path: Path) -> None:
    with_audio = _clip(tmp_path, "a.mp4", audio=True)
    silent = _clip(tmp_path, "b.mp4", prompt="b")
    result = concat([with_audio, silent], tmp_path / "cut.mp4")
    assert not result.has_audio
    assert not probe(result.path).has_audio
    assert result.frames == 24


def test_missing_and_undecodable_inputs_are_reported_together(tmp_path: Path) -> None:
    good = _clip(tmp_path, "good.mp4")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x01 not a video" * 50)
    missing = tmp_path / "missing.mp4"
    output = tmp_path / "cut.mp4"

    with pytest.raises(InputError) as caught:
        concat([good, garbage, missing], output)
    files = [p.file for p in caught.value.problems]
    assert files == [str(garbage), str(missing)]
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.mp4", "good.mp4"]


def test_an_audio_only_input_is_an_input_error(tmp_path: Path) -> None:
    audio_only = tmp_path / "audio.m4a"
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=44_100)
        assert isinstance(stream, av.AudioStream)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), dtype=np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate, frame.pts = 44_100, 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    audio_only.write_bytes(buffer.getvalue())
    with pytest.raises(InputError, match="no video stream"):
        concat([audio_only], tmp_path / "cut.mp4")


def test_no_inputs_or_bad_size_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        concat([], tmp_path / "cut.mp4")
    with pytest.raises(InputError):
        concat([_clip(tmp_path, "a.mp4")], tmp_path / "cut.mp4", size=(97, 64))


def test_output_is_replaced_whole(tmp_path: Path) -> None:
    output = tmp_path / "out" / "cut.mp4"
    output.parent.mkdir()
    output.write_bytes(b"old")
    result = concat([_clip(tmp_path, "a.mp4")], output)
    assert result.frames == 12
    assert probe(output).frames == 12
    assert [p.name for p in output.parent.iterdir()] == ["cut.mp4"]
