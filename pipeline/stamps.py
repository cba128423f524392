"""Files known to hold a sha256, remembered by the stat they had when that was established.

Checking a video again means reading and hashing all of it. A file whose size, mtime,
ctime, inode and device are those it had when it was last hashed (or written from bytes
that were) has not been written to, truncated, replaced, renamed over or chmod'ed since:
every one of those changes its ctime, which no program can set back. Such a file is taken
as checked without reading it.

What that trades away: a change that bypasses the file system (bit rot on the disk, a
write to the raw device) or a clock set back to forge a ctime is no longer noticed. A
file whose stat differs is hashed as before.

The stamps are kept in one JSON-lines file (`verified.jsonl` in the state dir), appended
to as files are checked; a torn or unreadable line is ignored, the last line for a path
wins, and the file is rewritten without the superseded lines when they are most of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct
import threading
from pathlib import Path

from .fingerprint import sha256_file

__all__ = ["STAMPS_FILENAME", "Stamps"]

STAMPS_FILENAME = "verified.jsonl"

_Stat = tuple[int, int, int, int, int]
_STORES: dict[Path, Stamps] = {}
_STORES_LOCK = threading.Lock()
#: A stamp in memory: the sha256's 32 bytes, then the stat's five numbers. One bytes object
#: of 105 bytes where a tuple of a string and five ints took about 400 (a run keeps one per
#: shot it placed).
_PACKED = struct.Struct("<32sQqqQQ")  # size, mtime, ctime (may be negative), inode, device


def _stat_key(st: os.stat_result) -> _Stat:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def _pack(sha256: str, stat: _Stat) -> bytes | None:
    """The stamp of `stat` holding `sha256`; None when they do not fit (a stat beyond 64
    bits, a sha256 that is not hex): such a file is hashed again when it is checked."""
    try:
        digest = bytes.fromhex(sha256)
        return _PACKED.pack(digest, *stat) if len(digest) == 32 else None
    except (ValueError, struct.error):
        return None


def _unpack(packed: bytes) -> tuple[str, _Stat]:
    digest, size, mtime, ctime, ino, dev = _PACKED.unpack(packed)
    return digest.hex(), (size, mtime, ctime, ino, dev)


def _line(path: str, sha256: str, stat: _Stat) -> str:
    """A stamp as the file keeps it."""
    return json.dumps({"path": path, "sha256": sha256, "stat": stat}) + "\n"


class Stamps:
    """The stamps kept in one file; `Stamps.at(path)` shares one instance per file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._known: dict[str, bytes] = {}  # path: `_pack`ed stamp
        self._lines = 0
        self._lock = threading.Lock()
        self._load()

    @classmethod
    def at(cls, path: Path) -> Stamps:
        """The stamps kept at `path` (read once per process)."""
        path = Path(os.path.abspath(path))
        with _STORES_LOCK:
            found = _STORES.get(path)
            if found is None:
                found = _STORES[path] = cls(path)
            return found

    def holds(self, file: Path, sha256: str, *, st: os.stat_result | None = None) -> bool:
        """Whether `file` holds bytes whose sha256 is `sha256`: from its stamp when its stat
        is unchanged, else by hashing it (and stamping it when it matches)."""
        try:
            st = st or os.stat(file)
        except OSError:
            return False
        key = os.path.abspath(file)
        with self._lock:
            known = self._known.get(key)
        if known is not None and known == _pack(sha256, _stat_key(st)):
            return True
        if sha256_file(file) != sha256:
            self.forget(file)
            return False
        self._remember(key, sha256, st)
        return True

    def stamp(self, file: Path, sha256: str) -> None:
        """Record that `file` holds `sha256` as it is now: for a file just written from
        bytes that were hashed (a download, a copy of a checked file)."""
        with contextlib.suppress(OSError):
            self._remember(os.path.abspath(file), sha256, os.stat(file))

    def forget(self, file: Path) -> None:
        """Drop what is known of `file` (it was found not to match)."""
        with self._lock:
            self._known.pop(os.path.abspath(file), None)

    def _remember(self, key: str, sha256: str, st: os.stat_result) -> None:
        stat = _stat_key(st)
        packed = _pack(sha256, stat)
        with self._lock:
            if packed is None:
                self._known.pop(key, None)
                return
            if self._known.get(key) == packed:
                return
            self._known[key] = packed
            line = _line(key, sha256, stat)
            with contextlib.suppress(OSError):
                with open(self.path, "a", encoding="utf-8") as fh:
                    fh.write(line)
                self._lines += 1

    def _load(self) -> None:
        try:
            with open(self.path, encoding="utf-8") as fh:
                lines = fh.readlines()
        except OSError:
            return
        for line in lines:
            try:
                entry = json.loads(line)
                size, mtime, ctime, ino, dev = (int(v) for v in entry["stat"])
                packed = _pack(str(entry["sha256"]), (size, mtime, ctime, ino, dev))
                path = str(entry["path"])
            except (ValueError, KeyError, TypeError):
                continue  # a torn line: that file is hashed again
            if packed is None:
                self._known.pop(path, None)
            else:
                self._known[path] = packed
        self._lines = len(lines)
        if self._lines > 2 * len(self._known) + 100:
            self._rewrite()

    def _rewrite(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self._known = {p: v for p, v in self._known.items() if os.path.exists(p)}
        text = "".join(_line(path, *_unpack(packed)) for path, packed in self._known.items())
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, self.path)
            self._lines = len(self._known)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
