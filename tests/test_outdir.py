"""The output folder: its lock, the state dir that owns it, and copies that share nothing
writable with the cache."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
from pathlib import Path

import pytest

from vidpipe.errors import StateError, StateLocked, WriteError
from vidpipe.outdir import OutDir
from vidpipe.statedir import StateDir

DATA = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64


@pytest.fixture
def cached(tmp_path: Path) -> tuple[Path, str]:
    """A video stored in a state dir's cache (read-only there)."""
    source = tmp_path / "download.mp4"
    source.write_bytes(DATA)
    digest = hashlib.sha256(DATA).hexdigest()
    path = StateDir(tmp_path / "state").cache.store(source, digest)
    source.unlink()
    return path, digest


def test_a_placed_video_is_a_copy_of_its_own(tmp_path: Path, cached: tuple[Path, str]) -> None:
    path, digest = cached
    assert path.stat().st_mode & 0o222 == 0  # read-only in the cache
    out = OutDir(tmp_path / "out" / "film")
    out.path.mkdir(parents=True)
    placed = out.place("rain", path, digest)
    assert placed == out.path / "rain.mp4" and placed.read_bytes() == DATA
    assert not os.path.samefile(placed, path) and placed.stat().st_nlink == 1
    os.truncate(placed, 1000)  # a damaged output file leaves the cache as it was
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert out.place("rain", path, digest).read_bytes() == DATA  # and is replaced


def test_an_intact_copy_is_kept_and_a_link_into_the_cache_replaced(
    tmp_path: Path, cached: tuple[Path, str]
) -> None:
    path, digest = cached
    out = OutDir(tmp_path / "out")
    out.path.mkdir()
    first = out.place("rain", path, digest)
    inode = first.stat().st_ino
    assert out.place("rain", path, digest).stat().st_ino == inode  # kept, not copied again
    first.unlink()
    os.link(path, first)  # as an older vidpipe left it
    again = out.place("rain", path, digest)
    assert not os.path.samefile(again, path) and again.read_bytes() == DATA


def test_a_folder_belongs_to_the_state_dir_that_first_ran_into_it(tmp_path: Path) -> None:
    out = OutDir(tmp_path / "out" / "film")
    first, second = StateDir(tmp_path / "a"), StateDir(tmp_path / "b")
    with out.claim(first) as notes:
        assert notes == []
    assert out.owner() == first.path
    with first.open_ledger():
        pass  # the owner's ledger exists
    with pytest.raises(StateError) as info, out.claim(second):
        pytest.fail("a second state dir was let in")
    message = str(info.value)
    assert f"belongs to state dir {first.path}" in message and "pay for every shot" in message
    assert f"--state {first.path}" in message
    with out.claim(first) as notes:  # its owner, again
        assert notes == []


def test_a_folder_whose_state_dir_is_gone_is_taken_over(tmp_path: Path) -> None:
    out = OutDir(tmp_path / "out")
    with out.claim(StateDir(tmp_path / "gone")):
        pass
    with out.claim(StateDir(tmp_path / "new")) as notes:
        (note,) = notes
        assert "which is gone" in note and "takes it over" in note
    assert out.owner() == (tmp_path / "new").absolute()


def test_a_folder_being_written_is_refused(tmp_path: Path) -> None:
    out = OutDir(tmp_path / "out")
    state = StateDir(tmp_path / "state")
    with (
        out.claim(state, argv=["vidpipe", "run", "first.yaml"]),
        pytest.raises(StateLocked) as info,
        out.claim(state),
    ):
        pytest.fail("two runs wrote one folder")
    message = str(info.value)
    assert f"output folder {out.path} is being written by pid {os.getpid()}" in message
    assert "first.yaml" in message and "Wait for that run to finish" in message


def test_a_copy_that_runs_out_of_room_leaves_nothing_behind(
    tmp_path: Path, cached: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, digest = cached
    out = OutDir(tmp_path / "out")
    out.path.mkdir()

    def full_disk(source: Path, dest: Path) -> None:
        Path(dest).write_bytes(DATA[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    def no_reflinks(*args: object) -> None:
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(fcntl, "ioctl", no_reflinks)
    monkeypatch.setattr(shutil, "copyfile", full_disk)
    with pytest.raises(WriteError, match=r"cannot write .*rain\.mp4: No space left on device"):
        out.place("rain", path, digest)
    assert sorted(p.name for p in out.path.iterdir()) == []
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
