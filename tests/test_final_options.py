"""The final cut's options: size and fps, trims, crossfades, audio (keep, mute, music) and
captions. Its length is the sum of the trimmed clips less the crossfades, and the manifest
records it."""

from __future__ import annotations

import json
import math
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from vidpipe.captions import captions_text
from vidpipe.editing import Cue

from .runs import PROVIDERS, TINY_VALUES, InProcess, in_process_env, run_board
from .test_cli import vidpipe

BOARD = (
    """\
version: 1
name: cut
seed: 4
"""
    + PROVIDERS
    + """\
defaults: {{provider: gateway, model: {kite_model}, size: {kite_size}, duration: 4}}
shots:
  - id: a
    prompt: a kite
  - id: b
    prompt: a boat
  - id: c
    prompt: a bird
final:
{final}
"""
)

EDITED = """\
  concat:
    - {shot: a, start: 0.5, end: 3.5, caption: "A kite rises"}
    - {shot: b, end: 2.25, caption: "A boat"}
    - {shot: c, start: 1, crossfade: 0.25, caption: "A bird --> away"}
  crossfade: 0.5
  size: 320x180
  fps: 25
  captions: vtt
"""


def board(folder: Path, final: str = EDITED) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cut.yaml"
    path.write_text(BOARD.format(final=final, **TINY_VALUES))
    return path


def probe(path: Path) -> tuple[int, int, float, float, bool]:
    """Width, height, frame rate, duration (from the packets) and whether it has audio."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        first = end = None
        for packet in container.demux(video):
            if packet.pts is None:
                continue
            first = packet.pts if first is None else min(first, packet.pts)
            stop = packet.pts + (packet.duration or 0)
            end = stop if end is None else max(end, stop)
        assert first is not None and end is not None and video.time_base is not None
        rate = float(video.average_rate or 0)
        duration = float((end - first) * video.time_base)
        return video.width, video.height, rate, duration, bool(container.streams.audio)


def test_the_cut_lasts_the_trimmed_clips_less_the_crossfades(tmp_path: Path) -> None:
    result = run_board(board(tmp_path), InProcess.start(), tmp_path)
    assert result.ok, result.to_json()
    final = json.loads((result.out_dir / "manifest.json").read_text())["final"]
    # a: 3.0 s, b: 2.25 s, c: 4 - 1 = 3.0 s; crossfades 0.5 (the cut's) and 0.25 (c's own).
    expected = 3.0 + 2.25 + 3.0 - 0.5 - 0.25
    assert final["expected_duration"] == pytest.approx(expected)
    width, height, rate, duration, _ = probe(result.out_dir / "final.mp4")
    assert (width, height, rate) == (320, 180, 25)
    assert abs(duration - expected) <= 1 / 25 + 1e-9
    assert final["duration"] == pytest.approx(duration)
    assert final["mode"] == "edit"


def test_the_captions_sidecar_times_each_clip(tmp_path: Path) -> None:
    result = run_board(board(tmp_path), InProcess.start(), tmp_path)
    text = (result.out_dir / "final.vtt").read_text()
    assert text.startswith("WEBVTT\n\n")
    # Clips at 0-3, 2.5-4.75 and 4.5-7.5 s; across each crossfade (0.5 s, then 0.25 s) the
    # caption changes halfway, so no two cues overlap.
    assert "00:00:00.000 --> 00:00:02.750\nA kite rises" in text
    assert "00:00:02.750 --> 00:00:04.625\nA boat" in text
    assert "00:00:04.625 --> 00:00:07.500\nA bird -> away" in text  # no cue timing in text
    manifest = json.loads((result.out_dir / "manifest.json").read_text())
    assert manifest["final"]["captions"] == "final.vtt"


def test_srt_numbers_its_cues_and_uses_commas() -> None:
    text = captions_text([Cue(0, 1.5, "one"), Cue(61.25, 3725.004, "two\n\nlines")], "srt")
    assert (
        text
        == "1\n00:00:00,000 --> 00:00:01,500\none\n\n2\n00:01:01,250 --> 01:02:05,004\ntwo\nlines\n"
    )


def test_a_crossfade_blends_the_two_pictures(tmp_path: Path) -> None:
    final = "  concat: [a, b]\n  crossfade: 1\n  fps: 10\n"
    result = run_board(board(tmp_path, final), InProcess.start(), tmp_path)
    frames = []
    with av.open(str(result.out_dir / "final.mp4")) as container:
        frames = [f.to_ndarray(format="rgb24").astype(float) for f in container.decode(video=0)]
    assert len(frames) == 70  # 4 + 4 - 1 seconds at 10 fps

    def shot_frame(name: str, seconds: float) -> np.ndarray:
        with av.open(str(result.out_dir / f"{name}.mp4")) as container:
            for frame in container.decode(video=0):
                if frame.time is not None and frame.time >= seconds - 1e-6:
                    return frame.to_ndarray(format="rgb24").astype(float)
        raise AssertionError(seconds)

    middle = frames[35]  # 3.5 s: half of a's 3.5 s and half of b's 0.5 s
    blend = (shot_frame("a", 3.5) + shot_frame("b", 0.5)) / 2
    assert np.abs(middle - blend).mean() < 6
    assert np.abs(middle - shot_frame("a", 3.5)).mean() > 2 * np.abs(middle - blend).mean()


def write_tone(path: Path, seconds: float = 2.0, rate: int = 44_100) -> None:
    samples = 0.5 * np.sin(2 * math.pi * 440 * np.arange(int(seconds * rate)) / rate) * 32767
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())


def loudness(path: Path) -> tuple[float, float]:
    """Mean absolute level of the first and the last second of the audio."""
    with av.open(str(path)) as container:
        chunks = [f.to_ndarray() for f in container.decode(audio=0)]
        rate = container.streams.audio[0].rate
    data = np.abs(np.concatenate(chunks, axis=1))
    return float(data[:, :rate].mean()), float(data[:, -rate:].mean())


def test_music_is_mixed_under_for_its_length_and_mute_has_no_sound(tmp_path: Path) -> None:
    write_tone(tmp_path / "theme.wav")
    final = "  concat: [a, b]\n  audio: {music: theme.wav, volume: 0.5}\n"
    result = run_board(board(tmp_path, final), InProcess.start(), tmp_path)
    assert result.ok, result.to_json()
    *_, duration, has_audio = probe(result.out_dir / "final.mp4")
    assert has_audio and duration == pytest.approx(8, abs=0.05)
    start, end = loudness(result.out_dir / "final.mp4")
    assert start > 0.05 and end < 0.01  # the 2 s tune, then silence (the shots have none)
    muted = board(tmp_path / "m", "  concat: [a, b]\n  audio: mute\n")
    result = run_board(muted, InProcess.start(), tmp_path / "m")
    assert not probe(result.out_dir / "final.mp4")[4]


def test_changing_an_option_cuts_again_and_keeping_them_keeps_the_file(tmp_path: Path) -> None:
    emulator = InProcess.start()
    path = board(tmp_path)
    first = run_board(path, emulator, tmp_path)
    made = (first.out_dir / "final.mp4").stat().st_mtime_ns
    again = run_board(path, emulator, tmp_path)
    assert (again.out_dir / "final.mp4").stat().st_mtime_ns == made
    assert again.final is not None and again.final.sha256 == first.final.sha256  # type: ignore[union-attr]
    path.write_text(path.read_text().replace("crossfade: 0.5", "crossfade: 0.75"))
    third = run_board(path, emulator, tmp_path)
    assert third.final is not None and third.final.expected_duration == pytest.approx(
        8.25 - 0.75 - 0.25
    )
    assert third.final.sha256 != first.final.sha256  # type: ignore[union-attr]


def test_a_clip_beyond_its_video_fails_the_cut_not_the_shots(tmp_path: Path) -> None:
    final = "  concat:\n    - {shot: a, end: 9}\n    - b\n"
    result = run_board(board(tmp_path, final), InProcess.start(), tmp_path)
    assert all(s.ok for s in result.shots.values())
    assert result.final is not None and result.final.status == "failed"
    assert "clip of a ends at 9 s, after its video (4 s)" in str(result.final.error)
    assert not (result.out_dir / "final.mp4").exists()


@pytest.mark.parametrize(
    ("final", "line", "message"),
    [
        (
            "  concat:\n    - {shot: a, start: 2, end: 1}\n",
            23,
            "final.concat: clip of a ends (1 s) before it starts (2 s)",
        ),
        (
            "  concat: [a]\n  audio: {music: gone.mp3}\n",
            23,
            "final.audio: music file not found: gone.mp3",
        ),
        ("  concat: [a]\n  audio: loud\n", 23, "final.audio must be keep, mute or {music: FILE"),
        ("  concat:\n    - {shot: d}\n", 23, "final.concat: unknown shot 'd'"),
        ("  concat: [a]\n  fps: 0\n", 23, "final.fps must be more than 0"),
    ],
)
def test_bad_final_options_exit_2_at_their_line(
    tmp_path: Path, final: str, line: int, message: str
) -> None:
    path = board(tmp_path, final)
    result = vidpipe("validate", path, env=in_process_env())
    assert result.exit_code == 2, result.output
    assert f"{path}:{line}: {message}" in result.stderr, result.stderr


def test_captions_burnt_in_show_in_the_picture_only_where_asked(tmp_path: Path) -> None:
    final = (
        "  concat:\n    - {shot: a, caption: A KITE RISES HIGH}\n    - b\n"
        "  burn_captions: true\n  fps: 10\n"
    )
    burnt = run_board(board(tmp_path / "burnt", final), InProcess.start(), tmp_path / "burnt")
    plain_final = final.replace("  burn_captions: true\n", "  captions: vtt\n")
    plain = run_board(board(tmp_path / "plain", plain_final), InProcess.start(), tmp_path / "plain")
    assert burnt.ok and plain.ok

    def luma(result_dir: Path, index: int) -> np.ndarray:
        with av.open(str(result_dir / "final.mp4")) as container:
            for number, frame in enumerate(container.decode(video=0)):
                if number == index:
                    return frame.to_ndarray(format="gray").astype(float)
        raise AssertionError(index)

    height = luma(burnt.out_dir, 0).shape[0]
    band = slice(height * 3 // 4, height)  # the captions sit near the bottom
    # While clip a plays: a black band with white letters, so very dark and very bright pixels.
    captioned = luma(burnt.out_dir, 10)[band]
    assert (captioned < 30).mean() > 0.2 and (captioned > 200).mean() > 0.005
    assert np.abs(luma(plain.out_dir, 10)[band] - captioned).mean() > 20
    # Clip b has no caption: its pictures are untouched.
    assert np.abs(luma(plain.out_dir, 60)[band] - luma(burnt.out_dir, 60)[band]).mean() < 2
