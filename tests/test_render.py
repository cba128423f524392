"""The emulator's renderer: real, playable, deterministic MP4s."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from vidpipe.emulator.render import RENDER_FPS, probe, render_thumbnail, render_video

SMALL: dict[str, Any] = {"model": "sora-2", "prompt": "a lighthouse at dusk", "seed": 7}


def _render(**overrides: Any) -> bytes:
    args: dict[str, Any] = {**SMALL, "width": 96, "height": 64, "seconds": 0.5}
    args.update(overrides)
    return render_video(**args)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _frames(video: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(video), "r") as container:
        return [f.to_ndarray(format="rgb24").astype(np.int16) for f in container.decode(video=0)]


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="image2pipe") as out:
        stream = out.add_stream("png")
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = rgb.shape[1], rgb.shape[0], "rgb24"
        out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        out.mux(stream.encode(None))
    return buffer.getvalue()


@pytest.mark.parametrize(("width", "height", "seconds"), [(128, 72, 1.0), (64, 96, 0.75)])
def test_decodes_at_requested_size_and_duration(width: int, height: int, seconds: float) -> None:
    video = _render(width=width, height=height, seconds=seconds)
    info = probe(video)
    assert (info.width, info.height) == (width, height)
    assert info.codec == "h264"
    assert info.pix_fmt == "yuv420p"
    assert info.frames == round(seconds * RENDER_FPS)
    assert info.duration == pytest.approx(seconds, abs=1e-6)
    assert not info.has_audio
    decoded = _frames(video)
    assert len(decoded) == info.frames
    assert decoded[0].shape == (height, width, 3)


def test_picture_moves() -> None:
    frames = _frames(_render(seconds=1.0))
    assert np.abs(frames[0] - frames[-1]).mean() > 2


def test_same_inputs_give_identical_bytes() -> None:
    assert _sha(_render()) == _sha(_render())


def test_same_inputs_give_identical_bytes_in_another_process() -> None:
    code = (
        "import hashlib, sys; from vidpipe.emulator.render import render_video; "
        "sys.stdout.write(hashlib.sha256(render_video(model='sora-2', "
        "prompt='a lighthouse at dusk', seed=7, width=96, height=64, seconds=0.5)).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.stdout == _sha(_render())


@pytest.mark.parametrize(
    "change",
    [{"seed": 8}, {"seed": None}, {"prompt": "a lighthouse at dawn"}, {"model": "sora-2-pro"}],
)
def test_any_input_changes_the_bytes(change: dict[str, Any]) -> None:
    assert _sha(_render(**change)) != _sha(_render())


def test_extra_params_change_the_bytes() -> None:
    assert _sha(_render(extra={"quality": "high"})) != _sha(_render(extra={"quality": "low"}))


def test_size_changes_the_bytes() -> None:
    assert _sha(_render(width=98)) != _sha(_render())


@pytest.mark.parametrize(
    "bad",
    [
        {"width": 97},
        {"height": 0},
        {"width": 8},
        {"width": 100_000},
        {"width": 96.0},
        {"seconds": 0},
        {"seconds": -1},
        {"seconds": float("nan")},
        {"fps": 0},
    ],
)
def test_rejects_bad_dimensions_and_timing(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _render(**bad)


def test_requires_size_without_a_source() -> None:
    with pytest.raises(ValueError, match="required"):
        render_video(**SMALL, width=96, height=64)


def test_reference_image_is_the_first_frame() -> None:
    # A half red, half blue picture, unlike anything the pattern draws.
    image = np.zeros((64, 96, 3), dtype=np.uint8)
    image[:, :48] = (230, 20, 20)
    image[:, 48:] = (20, 20, 230)
    plain = _frames(_render(seconds=1.0))
    guided = _frames(_render(seconds=1.0, reference_image=_png(image)))

    assert np.abs(guided[0] - image.astype(np.int16)).mean() < 12
    assert np.abs(plain[0] - image.astype(np.int16)).mean() > 40
    # It fades into the generated animation rather than staying put.
    assert np.abs(guided[-1] - image.astype(np.int16)).mean() > 40


def test_reference_image_of_another_size_fills_the_frame() -> None:
    image = np.full((40, 40, 3), (200, 200, 30), dtype=np.uint8)
    first = _frames(_render(reference_image=_png(image)))[0]
    assert first.shape == (64, 96, 3)
    assert np.abs(first - image[0, 0].astype(np.int16)).mean() < 12


def test_undecodable_reference_image_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        _render(reference_image=b"not an image")


def test_remix_derives_from_the_source() -> None:
    source = _render(width=80, height=48, seconds=0.75)
    remix = render_video(model="sora-2", prompt="the same, in winter", seed=7, source_video=source)
    info = probe(remix)
    assert (info.width, info.height, info.frames) == (80, 48, probe(source).frames)
    assert _sha(remix) != _sha(source)

    src_frames, remix_frames = _frames(source), _frames(remix)
    fresh = _frames(_render(prompt="the same, in winter", width=80, height=48, seconds=0.75))
    # Closer to its source than a fresh render of the same prompt is.
    to_source = np.mean(
        [np.abs(a - b).mean() for a, b in zip(remix_frames, src_frames, strict=True)]
    )
    to_fresh = np.mean([np.abs(a - b).mean() for a, b in zip(remix_frames, fresh, strict=True)])
    assert to_source < to_fresh
    assert to_source > 1

    again = render_video(model="sora-2", prompt="the same, in winter", seed=7, source_video=source)
    assert _sha(again) == _sha(remix)


def test_remix_can_change_size_and_duration() -> None:
    source = _render(width=80, height=48, seconds=0.5)
    remix = render_video(
        model="m", prompt="p", seed=1, source_video=source, width=64, height=64, seconds=1.0
    )
    info = probe(remix)
    assert (info.width, info.height, info.frames) == (64, 64, RENDER_FPS)


def test_thumbnail_is_the_first_frame() -> None:
    video = _render()
    image, mime = render_thumbnail(video)
    assert mime in {"image/webp", "image/png", "image/jpeg"}
    with av.open(io.BytesIO(image), "r") as container:
        thumb = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(np.int16)
    assert thumb.shape == (64, 96, 3)
    assert np.abs(thumb - _frames(video)[0]).mean() < 8


def test_probe_reads_a_path(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(_render())
    assert probe(path).frames == 12
    assert probe(str(path)).width == 96


def test_probe_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        probe(b"\x00" * 100)
