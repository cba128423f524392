"""The state dir: ledger, run lock, content-addressed video cache and scratch space.

By default it is ``.vidpipe/`` next to the storyboard; ``--state DIR`` overrides it.

    ledger.sqlite3            the ledger (vidpipe.ledger)
    lock                      flock'ed by the run that owns the dir; names its pid and argv
    cache/ab/abcd….mp4        finished videos, named by their sha256
    tmp/                      partial downloads and other scratch files
"""

from __future__ import annotations

import errno
import fcntl
import functools
import json
import logging
import os
import shutil
import socket
import stat
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import attrs

from .errors import StateError, StateLocked
from .fingerprint import is_sha256, sha256_file
from .ledger import LEDGER_FILENAME, Ledger
from .redact import redact_argv
from .stamps import STAMPS_FILENAME, Stamps

__all__ = ["DEFAULT_DIRNAME", "CacheEntry", "ContentCache", "StateDir", "hold_lock"]

log = logging.getLogger(__name__)

DEFAULT_DIRNAME = ".vidpipe"
LOCK_FILENAME = "lock"
_HOLDER_MAX_BYTES = 65536
_HOLDER_MAX_ARGS = 40
_HOLDER_MAX_ARG_CHARS = 200
#: How the file names of frames extracted for continuity shots begin.
_FRAME = "frame-"


@attrs.frozen
class CacheEntry:
    """One file under the cache root: a video stored by its digest, or a stray file.

    ``sha256`` is None for anything not named as ``store`` names files (a partial copy left
    behind by a crash, a file put there by hand).
    """

    path: Path
    size: int
    sha256: str | None


@attrs.frozen
class ContentCache:
    """Finished videos stored by content: ``<root>/<sha256[:2]>/<sha256>.mp4``.

    Nothing read from here is trusted until its size and sha256 are checked again; the
    sha256 is taken from the file's stamp while its stat is unchanged (`vidpipe.stamps`).
    """

    root: Path

    def path_for(self, sha256: str) -> Path:
        """Where the file with this digest lives (whether or not it exists)."""
        if not is_sha256(sha256):
            # The digest becomes a path: never let anything else through.
            raise StateError(f"not a sha256 digest: {sha256!r}")
        return self.root / sha256[:2] / f"{sha256}.mp4"

    def store(
        self, path: Path, sha256: str, *, link: bool = True, hashed_size: int | None = None
    ) -> Path:
        """Put ``path`` in the cache under ``sha256``, read-only.

        With `link` (for a scratch file that is removed right after) it is hard-linked, or
        copied across devices; without, always copied, so the caller's file never shares
        storage with the cache. The file is hashed first; a mismatch raises StateError and
        stores nothing. A caller that computed ``sha256`` over the bytes as it wrote them (a
        download: `DownloadResult`) passes their count as `hashed_size` instead: the file is
        then not read again, only its size is checked, and (with `link`) it is moved in
        rather than linked. The stored file is stamped (`stamps`) as holding ``sha256``.
        """
        target = self.path_for(sha256)
        try:
            size = Path(path).stat().st_size
        except OSError as exc:
            raise StateError(f"cannot read {path}: {exc}") from exc
        if hashed_size is not None:
            if size != hashed_size:
                raise StateError(
                    f"refusing to cache {path}: it has {size} bytes, {hashed_size} were hashed"
                )
        else:
            actual = sha256_file(path)
            if actual != sha256:
                raise StateError(
                    f"refusing to cache {path}: its sha256 is {actual[:12]}…, not {sha256[:12]}…"
                )
        if self.fetch(sha256, size=size) is not None:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{sha256}.{os.getpid()}.{time.monotonic_ns()}.tmp")
        try:
            try:
                if not link:
                    raise OSError(errno.EXDEV, "a copy was asked for")
                if hashed_size is not None:
                    os.rename(path, tmp)  # no second name whose removal would touch its ctime
                else:
                    os.link(path, tmp)
            except OSError:
                shutil.copyfile(path, tmp)
                with tmp.open("rb+") as f:
                    os.fsync(f.fileno())
            os.chmod(tmp, 0o444)  # a stray write to the cache fails instead of corrupting it
            os.replace(tmp, target)
        except OSError as exc:
            raise StateError(f"cannot store {path} in the cache {self.root}: {exc}") from exc
        finally:
            with suppress(FileNotFoundError):
                tmp.unlink()
        self.stamps.stamp(target, sha256)
        return target

    @functools.cached_property
    def stamps(self) -> Stamps:
        """The files known to hold their digest (kept beside the cache root)."""
        return Stamps.at(self.root.parent / STAMPS_FILENAME)

    def entries(self) -> list[CacheEntry]:
        """Every file under the cache root, sorted by path; an empty list if there is none.

        Reading the folder neither hashes nor changes anything: a file named by a digest is
        reported under that digest as it is.
        """
        found: list[CacheEntry] = []
        try:
            paths = sorted(p for p in self.root.rglob("*") if not p.is_dir())
        except OSError as exc:
            raise StateError(f"cannot read the cache {self.root}: {exc}") from exc
        for path in paths:
            try:
                size = path.lstat().st_size
            except FileNotFoundError:
                continue  # removed while we looked
            digest = path.stem if path.suffix == ".mp4" else None
            named = is_sha256(digest) and path == self.path_for(str(digest))
            found.append(CacheEntry(path, size, str(digest) if named else None))
        return found

    def fetch(self, sha256: str, *, size: int | None = None) -> Path | None:
        """The cached file for ``sha256`` after checking its size and digest, or None.

        A file that fails the check is deleted so the next ``store`` replaces it.
        """
        target = self.path_for(sha256)
        try:
            st = target.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read the cache file {target}: {exc}") from exc
        if not stat.S_ISREG(st.st_mode):
            return None
        if size is not None and st.st_size != size:
            reason = f"size {st.st_size}, expected {size}"
        elif self.stamps.holds(target, sha256, st=st):
            return target
        else:
            reason = "its sha256 does not match"
        log.warning("dropping corrupt cache file %s (%s)", target, reason)
        with suppress(FileNotFoundError):
            target.unlink()
        return None


@attrs.frozen
class StateDir:
    """One state folder. Construct with ``StateDir.for_storyboard`` or ``StateDir(path)``."""

    path: Path = attrs.field(converter=Path)

    @classmethod
    def for_storyboard(cls, storyboard: Path, override: Path | None = None) -> StateDir:
        """``override`` if given (``--state DIR``), else ``.vidpipe/`` next to the storyboard."""
        if override is not None:
            return cls(Path(override).absolute())
        return cls(Path(storyboard).absolute().parent / DEFAULT_DIRNAME)

    @property
    def ledger_path(self) -> Path:
        """The ledger file."""
        return self.path / LEDGER_FILENAME

    @property
    def lock_path(self) -> Path:
        """The lock file."""
        return self.path / LOCK_FILENAME

    @property
    def cache_dir(self) -> Path:
        """Root of the content-addressed cache."""
        return self.path / "cache"

    @functools.cached_property
    def cache(self) -> ContentCache:
        """The content-addressed cache."""
        return ContentCache(self.cache_dir)

    @property
    def tmp_dir(self) -> Path:
        """Scratch space on the same file system as the cache (created on first use)."""
        tmp = self._tmp
        self.ensure()
        tmp.mkdir(exist_ok=True)
        return tmp

    @property
    def _tmp(self) -> Path:
        return self.path / "tmp"

    def frame_file(self, fingerprint: str) -> Path:
        """Where the frame a continuity shot sends (taken from its source's video) goes."""
        return self.tmp_dir / f"{_FRAME}{fingerprint}.png"

    def frame_files(self) -> list[CacheEntry]:
        """The frames earlier runs extracted: a run takes its frame again whenever it sends
        a create, so none is needed once a run ended (`vidpipe gc` removes them)."""
        folder = self._tmp
        found = []
        for path in sorted(folder.glob(f"{_FRAME}*.png")) if folder.is_dir() else ():
            try:
                found.append(CacheEntry(path, path.stat().st_size, None))
            except FileNotFoundError:
                continue
        return found

    def ensure(self) -> Path:
        """Create the folder (with a ``.gitignore`` so it is never committed)."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            ignore = self.path / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# vidpipe state: not for version control\n*\n")
        except OSError as exc:
            raise StateError(f"cannot create state dir {self.path}: {exc}") from exc
        return self.path

    def open_ledger(self) -> Ledger:
        """Open this dir's ledger."""
        self.ensure()
        return Ledger.open(self.path)

    @contextmanager
    def lock(self, argv: Sequence[str] | None = None) -> Iterator[None]:
        """Hold the state dir for one run; raise StateLocked if another process holds it.

        The holder's pid and (redacted) argv are written into the lock file so that a
        second run can say who is in the way. The lock goes with the process: a crashed
        run never leaves a stale lock behind.
        """
        self.ensure()

        def refusal(who: str) -> StateLocked:
            return StateLocked(
                f"state dir {self.path} is in use by {who}. Wait for that run to finish: a"
                " second run now would race it for the same shots.",
                state_dir=str(self.path),
            )

        with hold_lock(self.lock_path, argv, refusal):
            yield


@contextmanager
def hold_lock(
    lock_path: Path, argv: Sequence[str] | None, refusal: Callable[[str], StateError]
) -> Iterator[None]:
    """flock `lock_path` for this process, writing our pid and (redacted) argv into it.

    When another process holds it, raise ``refusal(who)``, `who` naming that holder.
    """
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise StateError(f"cannot open the lock file {lock_path}: {exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise refusal(_holder_text(fd)) from None
            raise StateError(f"cannot lock {lock_path}: {exc}") from exc
        _write_holder(fd, redact_argv(sys.argv if argv is None else argv))
        try:
            yield
        finally:
            # Clear the holder first: a reader that wins the race sees "unknown", not us.
            with suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder_text(fd: int) -> str:
    holder = _read_holder(fd)
    if holder is None:
        return "another process (it has not said which yet)"
    args = holder.get("argv")
    argv = " ".join(str(a) for a in args) if isinstance(args, list) and args else "?"
    return f"pid {holder.get('pid', '?')} on {holder.get('host', '?')} ({argv})"


def _write_holder(fd: int, argv: list[str]) -> None:
    # Bounded so the reader's single pread always gets valid JSON.
    short = [a[:_HOLDER_MAX_ARG_CHARS] for a in argv[:_HOLDER_MAX_ARGS]]
    info = {"pid": os.getpid(), "host": socket.gethostname(), "argv": short, "since": time.time()}
    data = json.dumps(info).encode("ascii")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data + b"\n", 0)
    os.fsync(fd)


def _read_holder(fd: int) -> dict[str, object] | None:
    try:
        data = os.pread(fd, _HOLDER_MAX_BYTES, 0)
        info = json.loads(data.decode("utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None
