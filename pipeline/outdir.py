"""The output folder of one storyboard (`OUT/<name>/`): its lock, its owner, its files.

    <shot>.mp4, final.mp4      the videos: copies (or reflinks) of the cache's, never links
    manifest.json, report.html what the runs made
    .vidpipe-lock              flock'ed by the run writing here; names its pid and argv
    .vidpipe-state             the state dir whose ledger records these shots' tasks

A run holds the folder's lock as well as its state dir's, so two runs with different state
dirs cannot write one folder at once. The folder belongs to the first state dir that ran
into it: a run with another state dir would not know the tasks recorded there and would pay
for every shot again, so it is refused while that state dir exists.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs

from .errors import StateError, StateLocked, WriteError
from .fingerprint import safe_filename, sha256_file
from .ledger import LEDGER_FILENAME
from .stamps import Stamps
from .statedir import StateDir, hold_lock

__all__ = ["OutDir"]

LOCK_FILENAME = ".vidpipe-lock"
OWNER_FILENAME = ".vidpipe-state"
_FICLONE = 0x40049409  # Linux: share the blocks copy-on-write (btrfs, xfs)


@attrs.frozen
class OutDir:
    """One storyboard's output folder."""

    path: Path = attrs.field(converter=Path)

    @property
    def owner_path(self) -> Path:
        return self.path / OWNER_FILENAME

    def owner(self) -> Path | None:
        """The state dir recorded as this folder's owner, if any."""
        try:
            text = self.owner_path.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return Path(text) if text else None

    @contextlib.contextmanager
    def claim(self, state: StateDir, argv: Sequence[str] | None = None) -> Iterator[list[str]]:
        """Lock the folder for one run of `state`; yield notes worth telling the user.

        Raises StateLocked while another run writes here, and StateError (nothing sent)
        when the folder belongs to another state dir that still exists.
        """
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"cannot create the output folder {self.path}: {exc}") from exc

        def refusal(who: str) -> StateLocked:
            return StateLocked(
                f"output folder {self.path} is being written by {who}. Wait for that run to"
                " finish: a second run now would race it for the same shots.",
                state_dir=str(state.path),
            )

        with hold_lock(self.path / LOCK_FILENAME, argv, refusal):
            notes = self._check_owner(state)
            yield notes

    def _check_owner(self, state: StateDir) -> list[str]:
        mine = state.path.absolute()
        owner = self.owner()
        notes: list[str] = []
        if owner is not None and owner != mine:
            if (owner / LEDGER_FILENAME).exists():
                raise StateError(
                    f"output folder {self.path} belongs to state dir {owner}, whose ledger"
                    " records the tasks of its shots; a run with state dir"
                    f" {mine} would not see them and would pay for every shot again. Run"
                    f" with --state {owner}, or give this run another --out."
                )
            notes.append(
                f"output folder {self.path} belonged to state dir {owner}, which is gone;"
                f" {mine} takes it over"
            )
        if owner != mine:
            try:
                self.owner_path.write_text(f"{mine}\n", encoding="utf-8")
            except OSError as exc:
                raise StateError(f"cannot write {self.owner_path}: {exc}") from exc
        return notes

    def shot_file(self, shot_id: str) -> Path:
        """Where a shot's video goes."""
        return self.path / f"{safe_filename(shot_id)}.mp4"

    def place(
        self, shot_id: str, cached: Path, sha256: str, *, stamps: Stamps | None = None
    ) -> Path:
        """Put a copy of a verified cache file at `<shot>.mp4`, sharing no writable storage
        with the cache (a reflink where the file system has them). A file already there
        is kept when it holds those very bytes in storage of its own; with `stamps`, an
        unchanged file stamped as holding them is not read again, and a new copy is stamped."""
        target = self.shot_file(shot_id)
        if _holds(target, cached, sha256, stamps):
            return target
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            tmp.unlink(missing_ok=True)
            _copy(cached, tmp)
            os.replace(tmp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise WriteError(
                f"cannot write {target}: {exc.strerror or exc}", path=str(target)
            ) from exc
        if stamps is not None:
            stamps.stamp(target, sha256)  # a copy of bytes just checked
        return target


def _holds(target: Path, cached: Path, sha256: str, stamps: Stamps | None) -> bool:
    try:
        st, source = target.stat(), cached.stat()
        if os.path.samestat(st, source):
            return False  # a link into the cache (older vidpipe): replaced by a copy
        if st.st_size != source.st_size:
            return False
    except OSError:
        return False
    if stamps is not None:
        return stamps.holds(target, sha256, st=st)
    return sha256_file(target) == sha256


def _copy(source: Path, dest: Path) -> None:
    """Copy `source` to `dest`: a reflink when possible, else the bytes."""
    with source.open("rb") as src, dest.open("wb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
        except OSError:  # no reflinks here (ext4, tmpfs, across devices): copy the bytes
            # In the kernel (sendfile) where it can: a buffer here would be kept by the
            # copying thread's malloc arena, about 1 MiB for each thread that ever copied.
            shutil.copyfile(source, dest)
        dst.flush()
        os.fsync(dst.fileno())
