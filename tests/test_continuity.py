"""Continuity: `image: {shot: establish, frame: last}` sends a frame of another shot's video
as this shot's image, across providers and APIs; it is a DAG edge, and the shot's
fingerprint follows its source's generation."""

from __future__ import annotations

import textwrap
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from vidpipe.errors import InputError
from vidpipe.frames import extract_frame
from vidpipe.loading import load
from vidpipe.model import FrameRef
from vidpipe.states import ShotState

from .runs import PROVIDERS, TINY_VALUES, InProcess, in_process_env, run_board, sha256_of
from .specvalues import smallest_size

BOARD = (
    """\
version: 1
name: flow
seed: 3
"""
    + PROVIDERS
    + """\
shots:
  - id: establish
    provider: gateway
    model: {kite_model}
    duration: {kite_duration}
    size: {kite_size}
    prompt: a red kite over a beach
  - id: onward
    provider: free
    model: {free_model}
    duration: {free_duration}
    size: {free_size}
    prompt: the kite flies on over the dunes
    image: {{shot: establish, frame: {frame}}}
"""
)


def board(folder: Path, frame: str = "last") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "flow.yaml"
    path.write_text(BOARD.format(frame=frame, **TINY_VALUES))
    return path


def first_frame(video: Path) -> Image.Image:
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            return Image.fromarray(frame.to_ndarray(format="rgb24"))
    raise AssertionError("no frame")


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, 0-255, at `a`'s size."""
    b = b.resize(a.size)
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean())


@pytest.mark.parametrize("frame", ["last", "first", "0.5s"])
def test_the_shot_starts_on_the_chosen_frame_of_its_source(tmp_path: Path, frame: str) -> None:
    result = run_board(board(tmp_path, frame), InProcess.start(), tmp_path)
    assert result.ok, result.to_json()
    source, shot = result.shots["establish"].file, result.shots["onward"].file
    assert source is not None and shot is not None
    at = frame if frame in ("first", "last") else float(frame.removesuffix("s"))
    chosen = Image.open(extract_frame(source, at, tmp_path / "chosen.png")).convert("RGB")
    start = first_frame(shot)
    assert difference(start, chosen) < 6
    # Another frame of the source is far from it: the tolerance tells them apart.
    other = "first" if frame != "first" else "last"
    unrelated = Image.open(extract_frame(source, other, tmp_path / "other.png")).convert("RGB")
    assert difference(start, unrelated) > 3 * difference(start, chosen)


def test_the_frame_follows_the_source_s_generation(tmp_path: Path) -> None:
    emulator = InProcess.start()
    path = board(tmp_path)
    first = run_board(path, emulator, tmp_path)
    assert first.ok
    emulator.reset_stats()
    again = run_board(path, emulator, tmp_path)
    assert {s.status for s in again.shots.values()} == {ShotState.CACHED}
    assert emulator.stats()["creates"]["total"] == 0
    forced = run_board(path, emulator, tmp_path, force=("establish",))
    assert forced.shots["establish"].status == ShotState.DONE
    assert forced.shots["onward"].status == ShotState.DONE  # made again from the new task
    assert forced.shots["onward"].source_task == forced.shots["establish"].task_id
    assert forced.shots["onward"].fingerprint != first.shots["onward"].fingerprint
    assert emulator.stats()["creates"]["total"] == 2


def test_a_time_past_the_duration_the_source_asks_for_is_bad_input(tmp_path: Path) -> None:
    path = board(tmp_path, "99s")
    with pytest.raises(InputError) as caught:
        load(path, env=in_process_env())
    (problem,) = caught.value.problems
    assert (
        problem.line
        == path.read_text().splitlines().index("    image: {shot: establish, frame: 99s}") + 1
    )
    assert "image: the frame at 99 s of establish: establish is" in problem.message


def test_a_time_beyond_the_source_s_video_fails_only_that_shot(tmp_path: Path) -> None:
    # The source asks for no duration here (the API's default), so only its video can tell.
    text = board(tmp_path, "99s").read_text()
    (tmp_path / "flow.yaml").write_text(
        text.replace("    duration: " + str(TINY_VALUES["kite_duration"]) + "\n", "", 1)
    )
    result = run_board(tmp_path / "flow.yaml", InProcess.start(), tmp_path)
    assert result.shots["establish"].ok
    failed = result.shots["onward"]
    assert failed.status == ShotState.FAILED
    assert "the frame at 99 s of establish" in str(failed.error)
    assert "there is no frame at 99 s" in str(failed.error)


def test_the_plan_names_the_frame_and_waits_for_the_source(tmp_path: Path) -> None:
    storyboard = load(
        board(tmp_path, "0.5s"), env={"NEWAPI_BASE_URL": "embedded", "APIFREE_BASE_URL": "embedded"}
    )
    assert storyboard.shot("onward").image == FrameRef("establish", 0.5)
    assert storyboard.shot("onward").depends_on == ("establish",)


SHORT = """\
version: 1
name: bad
providers:
  free: {{api: apifree}}
defaults: {{model: {model}, size: {size}}}
shots:
  - id: one
    prompt: a
    image: {one}
  - id: two
    prompt: b
    image: {two}
"""


@pytest.mark.parametrize(
    ("one", "two", "line", "message"),
    [
        (
            "null",
            "{shot: onee}",
            12,
            "image: frame of 'onee' is not a shot id (did you mean 'one'?)",
        ),
        ("null", "{shot: two}", 12, "image: a frame of its own video"),
        ("{shot: two}", "{shot: one}", 9, "remix cycle: one (line 9) -> two (line 12) -> one"),
        ("null", "{shot: one, frame: middle}", 12, "frame must be first, last or a time"),
        ("null", "{shot: one, at: last}", 12, "unknown key 'at'"),
    ],
)
def test_bad_frame_references_name_their_line(
    tmp_path: Path, one: str, two: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    text = SHORT.format(
        one=one, two=two, model=TINY_VALUES["free_model"], size=smallest_size("apifree")
    )
    path.write_text(textwrap.dedent(text))
    with pytest.raises(InputError) as caught:
        load(path)
    assert any(p.line == line and message in p.message for p in caught.value.problems), [
        str(p) for p in caught.value.problems
    ]


def test_a_frame_image_cannot_sit_in_defaults_nor_beside_a_remix(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    text = SHORT.format(one="null", two="{shot: one}", model=TINY_VALUES["free_model"], size="1x1")
    text = text.replace("defaults: {", "defaults: {image: {shot: one}, ")
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load(path)
    assert any("belongs on a shot, not in defaults" in p.message for p in caught.value.problems)
    text = SHORT.format(one="null", two="{shot: one}", model=TINY_VALUES["free_model"], size="1x1")
    path.write_text(text.replace("    prompt: b\n", "    prompt: b\n    remix: one\n"))
    with pytest.raises(InputError) as caught:
        load(path)
    assert any(
        "both remixes 'one' and takes a frame of 'one'" in p.message for p in caught.value.problems
    ), caught.value.problems


def test_the_frame_is_sent_at_the_size_of_the_shot_that_takes_it(tmp_path: Path) -> None:
    path = board(tmp_path)
    text = path.read_text()
    free_size = f"    size: {TINY_VALUES['free_size']}\n"
    head, _, tail = text.rpartition(free_size)  # onward's own size; establish keeps its own
    path.write_text((head + "    size: 96x64\n" + tail).replace("frame: last", "frame: first"))
    assert load(path, env=in_process_env()).shot("establish").size != "96x64"
    result = run_board(path, InProcess.start(), tmp_path)
    assert result.ok, result.to_json()
    sent = result.shots["onward"].request["input_reference"]
    frame = next((tmp_path / "state" / "tmp").glob("frame-*.png"))
    assert sent["sha256"] == sha256_of(frame)
    with Image.open(frame) as picture:
        assert picture.size == (96, 64)


def test_gc_removes_the_frames_runs_extracted(tmp_path: Path) -> None:
    from vidpipe.prune import find_unneeded, prune

    path = board(tmp_path)
    assert run_board(path, InProcess.start(), tmp_path).ok
    frames = list((tmp_path / "state" / "tmp").glob("frame-*.png"))
    assert len(frames) == 1
    storyboard = load(path, env=in_process_env())
    (listed,) = find_unneeded([storyboard], tmp_path / "state")
    assert frames[0] in {e.path for e in listed.unneeded}
    assert frames[0].is_file()  # listing deletes nothing
    (done,) = prune([storyboard], tmp_path / "state")
    assert not frames[0].exists()
    # The videos the storyboard needs stay; a rerun takes the frame again only to create.
    assert len(done.keep) == 2 and all(e.path.is_file() for e in done.keep)
