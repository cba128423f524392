"""Files checked once are not read again while their stat is unchanged; any change is seen."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from vidpipe import fingerprint, stamps
from vidpipe.outdir import OutDir
from vidpipe.stamps import STAMPS_FILENAME, Stamps
from vidpipe.statedir import ContentCache

DATA = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40


@pytest.fixture(autouse=True)
def _fresh_stores() -> Iterator[None]:
    stamps._STORES.clear()  # each test reads the stamp files as a new process would
    yield
    stamps._STORES.clear()


class Hashes:
    """Counts the files hashed through vidpipe.stamps."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.files: list[Path] = []
        real = fingerprint.sha256_file

        def counted(path: Path) -> str:
            self.files.append(Path(path))
            return real(path)

        monkeypatch.setattr(stamps, "sha256_file", counted)


def stored(tmp_path: Path) -> tuple[ContentCache, str]:
    cache = ContentCache(tmp_path / "state" / "cache")
    src = tmp_path / "v.mp4"
    src.write_bytes(DATA)
    digest = hashlib.sha256(DATA).hexdigest()
    cache.store(src, digest, hashed_size=len(DATA))
    return cache, digest


def as_new_process(cache: ContentCache) -> ContentCache:
    """`cache` as a new process sees it: its stamps read again from their file."""
    stamps._STORES.clear()
    return ContentCache(cache.root)


def test_a_stored_file_is_fetched_without_reading_it_in_a_later_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, digest = stored(tmp_path)
    cache = as_new_process(cache)
    hashes = Hashes(monkeypatch)
    assert cache.fetch(digest, size=len(DATA)) == cache.path_for(digest)
    assert hashes.files == []
    assert (tmp_path / "state" / STAMPS_FILENAME).is_file()


def test_a_rewrite_is_seen_even_with_its_size_and_mtime_put_back(tmp_path: Path) -> None:
    cache, digest = stored(tmp_path)
    target = cache.path_for(digest)
    before = target.stat()
    os.chmod(target, 0o644)
    target.write_bytes(DATA[:-1] + b"!")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # the ctime moves on
    cache = as_new_process(cache)
    assert cache.fetch(digest, size=len(DATA)) is None
    assert not target.exists()


def test_a_changed_stat_is_hashed_again_and_stamped_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, digest = stored(tmp_path)
    target = cache.path_for(digest)
    os.utime(target, ns=(0, 0))  # same bytes, another stat
    hashes = Hashes(monkeypatch)
    assert cache.fetch(digest) == target
    assert cache.fetch(digest) == target
    assert hashes.files == [target]  # once, then from the new stamp


def test_a_torn_stamp_line_only_means_hashing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, digest = stored(tmp_path)
    stamp_file = tmp_path / "state" / STAMPS_FILENAME
    stamp_file.write_text(stamp_file.read_text()[:-20], encoding="utf-8")
    cache = as_new_process(cache)
    hashes = Hashes(monkeypatch)
    assert cache.fetch(digest) == cache.path_for(digest)
    assert hashes.files == [cache.path_for(digest)]


def test_a_placed_copy_is_stamped_and_a_changed_one_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, digest = stored(tmp_path)
    out = OutDir(tmp_path / "out")
    out.path.mkdir()
    known = Stamps.at(tmp_path / "state" / STAMPS_FILENAME)
    placed = out.place("a", cache.path_for(digest), digest, stamps=known)
    hashes = Hashes(monkeypatch)
    assert out.place("a", cache.path_for(digest), digest, stamps=known) == placed
    assert hashes.files == []
    placed.write_bytes(DATA[:-1] + b"!")  # a user edits the output copy
    out.place("a", cache.path_for(digest), digest, stamps=known)
    assert placed.read_bytes() == DATA and hashes.files == [placed]


def test_compaction_keeps_the_last_stamp_of_each_file(tmp_path: Path) -> None:
    file = tmp_path / "f.bin"
    file.write_bytes(DATA)
    digest = hashlib.sha256(DATA).hexdigest()
    known = Stamps(tmp_path / STAMPS_FILENAME)
    for n in range(150):
        os.utime(file, ns=(n, n))
        known.stamp(file, digest)
    assert len((tmp_path / STAMPS_FILENAME).read_text().splitlines()) == 150
    again = Stamps(tmp_path / STAMPS_FILENAME)  # rewrites: 150 lines, one file
    assert len((tmp_path / STAMPS_FILENAME).read_text().splitlines()) == 1
    assert again.holds(file, digest)


def test_a_file_from_before_1970_is_stamped_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "old.mp4"
    file.write_bytes(DATA)
    os.utime(file, ns=(-(10**18), -(10**18)))  # a negative mtime
    digest = hashlib.sha256(DATA).hexdigest()
    Stamps(tmp_path / STAMPS_FILENAME).stamp(file, digest)
    hashes = Hashes(monkeypatch)
    assert Stamps(tmp_path / STAMPS_FILENAME).holds(file, digest)
    assert hashes.files == []


def test_a_stamp_without_a_whole_sha256_is_not_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "f.bin"
    file.write_bytes(DATA)
    st = file.stat()
    stat = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]
    line = json.dumps({"path": str(file.resolve()), "sha256": "", "stat": stat})
    (tmp_path / STAMPS_FILENAME).write_text(line + "\n", encoding="utf-8")
    hashes = Hashes(monkeypatch)
    assert not Stamps(tmp_path / STAMPS_FILENAME).holds(file, "0" * 64)
    assert hashes.files == [file]


def test_a_stat_too_large_to_keep_only_means_hashing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "f.bin"
    file.write_bytes(DATA)
    digest = hashlib.sha256(DATA).hexdigest()
    monkeypatch.setattr(stamps, "_stat_key", lambda st: (2**64, 0, 0, 0, 0))
    known = Stamps(tmp_path / STAMPS_FILENAME)
    known.stamp(file, digest)
    hashes = Hashes(monkeypatch)
    assert known.holds(file, digest) and known.holds(file, digest)
    assert hashes.files == [file, file]


def test_a_rerun_reads_no_video_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vidpipe import outdir

    from .runs import InProcess, run_board, write_tiny

    board = write_tiny(tmp_path / "board")
    emu = InProcess.start()
    first = run_board(board, emu, tmp_path)
    assert first.ok
    emu.reset_stats()
    stamps._STORES.clear()  # as a new process
    hashes = Hashes(monkeypatch)
    for module in (fingerprint, outdir):
        monkeypatch.setattr(module, "sha256_file", lambda path: pytest.fail(f"{path} read"))
    again = run_board(board, emu, tmp_path)
    assert again.ok and set(again.counts) == {"cached"}
    assert hashes.files == []
    stats = emu.stats()
    assert (stats["creates"]["total"], stats["polls"]["total"], stats["downloads"]["total"]) == (
        0,
        0,
        0,
    )
