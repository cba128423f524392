"""The state dir: its lock across processes and its content-addressed cache."""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from vidpipe.errors import StateError, StateLocked
from vidpipe.statedir import ContentCache, StateDir

HOLDER = textwrap.dedent(
    """
    import sys
    from vidpipe.statedir import StateDir
    with StateDir(sys.argv[1]).lock(argv=["vidpipe", "run", "holder-story.yaml",
                                          "--api-key=sk-hidden"]):
        print("locked", flush=True)
        sys.stdin.readline()
    print("released", flush=True)
    """
)


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A second process that holds the lock on ``tmp_path / 'state'`` until told to stop."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "state")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_default_dir_sits_next_to_the_storyboard(tmp_path: Path) -> None:
    story = tmp_path / "films" / "story.yaml"
    assert StateDir.for_storyboard(story).path == tmp_path / "films" / ".vidpipe"
    assert StateDir.for_storyboard(story, tmp_path / "elsewhere").path == tmp_path / "elsewhere"


def test_layout_and_gitignore(tmp_path: Path) -> None:
    sd = StateDir(tmp_path / "state")
    assert not sd.path.exists()
    assert sd.tmp_dir.is_dir()
    assert sd.tmp_dir == sd.path / "tmp"
    assert (sd.path / ".gitignore").read_text().splitlines()[-1] == "*"
    assert sd.cache_dir == sd.path / "cache"
    with sd.open_ledger() as led:
        assert led.path == sd.ledger_path == sd.path / "ledger.sqlite3"


# -- lock ----------------------------------------------------------------------------------


def test_lock_held_by_another_process(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    sd = StateDir(tmp_path / "state")
    with pytest.raises(StateLocked) as info, sd.lock(argv=["vidpipe", "run", "me.yaml"]):
        pytest.fail("got the lock while another process holds it")
    err = info.value
    msg = str(err)
    assert err.state_dir == str(sd.path)
    assert str(sd.path) in msg
    assert f"pid {holder.pid}" in msg
    assert "holder-story.yaml" in msg
    assert "Wait for that run to finish" in msg
    assert "--state" not in msg  # another state dir on the same shots would pay twice
    assert "sk-hidden" not in msg
    assert "sk-hidden" not in sd.lock_path.read_text()

    # Once the holder lets go, the lock is ours.
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert holder.stdout.readline().strip() == "released"
    with sd.lock(argv=["vidpipe", "run", "me.yaml"]):
        assert "me.yaml" in sd.lock_path.read_text()


def test_lock_of_a_killed_process_is_not_stale(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    sd = StateDir(tmp_path / "state")
    holder.kill()
    holder.wait()
    with sd.lock():
        assert str(os.getpid()) in sd.lock_path.read_text()


def test_lock_is_released_on_exit_and_on_error(tmp_path: Path) -> None:
    sd = StateDir(tmp_path / "state")
    with sd.lock(argv=["first"]):
        pass
    assert sd.lock_path.read_text() == ""  # holder info cleared
    with pytest.raises(RuntimeError), sd.lock(argv=["second"]):
        raise RuntimeError("boom")
    # Another process can take it now.
    code = "import sys\nfrom vidpipe.statedir import StateDir\nwith StateDir(sys.argv[1]).lock(): print('ok')"
    out = subprocess.run(
        [sys.executable, "-c", code, str(sd.path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "ok"


def test_lock_is_not_reentrant_within_a_process(tmp_path: Path) -> None:
    sd = StateDir(tmp_path / "state")
    with (
        sd.lock(argv=["outer"]),
        pytest.raises(StateLocked, match=f"pid {os.getpid()}"),
        sd.lock(argv=["inner"]),
    ):
        pytest.fail("second lock granted")


def test_lock_message_when_the_holder_has_not_written_yet(tmp_path: Path) -> None:
    sd = StateDir(tmp_path / "state")
    with sd.lock(argv=["outer"]):
        sd.lock_path.write_text("")
        with pytest.raises(StateLocked, match="has not said"), sd.lock():
            pass


# -- cache ---------------------------------------------------------------------------------


def video(
    tmp_path: Path, data: bytes = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40
) -> tuple[Path, str]:
    path = tmp_path / "shot.mp4"
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def test_store_and_fetch(tmp_path: Path) -> None:
    cache = StateDir(tmp_path / "state").cache
    src, digest = video(tmp_path)
    stored = cache.store(src, digest)
    assert stored == cache.root / digest[:2] / f"{digest}.mp4"
    assert stored.read_bytes() == src.read_bytes()
    assert os.path.samefile(stored, src)  # hard link on the same file system
    assert cache.fetch(digest) == stored
    assert cache.fetch(digest, size=src.stat().st_size) == stored
    assert cache.store(src, digest) == stored  # idempotent
    assert [p.name for p in stored.parent.iterdir()] == [stored.name]  # no temp files left


def test_store_copies_when_a_hard_link_is_impossible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_link(src: object, dst: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_link)
    cache = ContentCache(tmp_path / "cache")
    src, digest = video(tmp_path)
    stored = cache.store(src, digest)
    assert not os.path.samefile(stored, src)
    assert cache.fetch(digest) == stored


def test_store_refuses_a_file_that_does_not_match(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    src, _ = video(tmp_path)
    wrong = "0" * 64
    with pytest.raises(StateError, match="refusing to cache"):
        cache.store(src, wrong)
    assert cache.fetch(wrong) is None
    assert not cache.path_for(wrong).exists()


def test_store_of_a_hashed_download_does_not_read_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vidpipe import statedir

    def no_hash(path: object) -> str:
        raise AssertionError(f"{path} was hashed a second time")

    monkeypatch.setattr(statedir, "sha256_file", no_hash)
    cache = ContentCache(tmp_path / "cache")
    src, digest = video(tmp_path)
    data = src.read_bytes()
    stored = cache.store(src, digest, hashed_size=len(data))
    assert stored == cache.path_for(digest) and stored.read_bytes() == data
    assert not src.exists()  # moved in: no second name left to remove


def test_store_of_a_hashed_download_checks_its_size(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    src, digest = video(tmp_path)
    with pytest.raises(StateError, match="were hashed"):
        cache.store(src, digest, hashed_size=src.stat().st_size - 1)
    assert not cache.path_for(digest).exists()


def test_fetch_missing_is_none(tmp_path: Path) -> None:
    assert ContentCache(tmp_path / "cache").fetch("1" * 64) is None


def test_fetch_of_a_folder_where_the_file_should_be_is_none(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    folder = cache.path_for("2" * 64)
    folder.mkdir(parents=True)
    assert cache.fetch("2" * 64) is None and folder.is_dir()


def test_fetch_rejects_and_drops_a_corrupted_file(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    src, digest = video(tmp_path)
    stored = cache.store(src, digest)
    src.unlink()  # keep the corruption to the cache copy
    data = bytearray(stored.read_bytes())
    data[100] ^= 0xFF  # same size, different bytes
    stored.write_bytes(bytes(data))
    assert cache.fetch(digest, size=len(data)) is None
    assert not stored.exists()


def test_fetch_rejects_a_wrong_size_without_hashing(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    src, digest = video(tmp_path)
    stored = cache.store(src, digest)
    assert cache.fetch(digest, size=src.stat().st_size + 1) is None
    assert not stored.exists()


def test_fetch_rejects_a_truncated_file_without_a_size_hint(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    src, digest = video(tmp_path)
    stored = cache.store(src, digest)
    src.unlink()
    with stored.open("r+b") as f:
        f.truncate(10)
    assert cache.fetch(digest) is None


@pytest.mark.parametrize("bad", ["../../etc/passwd", "a" * 63, "A" * 64, "g" * 64, ""])
def test_cache_paths_only_from_digests(tmp_path: Path, bad: str) -> None:
    cache = ContentCache(tmp_path / "cache")
    with pytest.raises(StateError, match="not a sha256"):
        cache.path_for(bad)
    with pytest.raises(StateError):
        cache.fetch(bad)
