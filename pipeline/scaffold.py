"""`vidpipe init`: a starter storyboard, a template, and `.gitignore` entries, in one folder.

The starter files ship in the package (`vidpipe/starter/`). The storyboard runs as it is on
the embedded emulator and validates clean. Existing files are never overwritten unless
asked; `.gitignore` is appended to, with only the entries it lacks.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import attrs

from .errors import InputError, Problem
from .statedir import DEFAULT_DIRNAME

__all__ = ["IGNORED", "STARTER_FILES", "Scaffold", "init_project"]

#: The starter files, as paths relative to the folder (and to `vidpipe/starter/`).
STARTER_FILES = ("storyboard.yaml", "templates/scene.j2")
#: What a project folder's `.gitignore` should hold: the state dir and the default output.
IGNORED = (f"{DEFAULT_DIRNAME}/", "out/")


@attrs.frozen
class Scaffold:
    """What `init_project` did."""

    folder: Path
    written: tuple[Path, ...]
    gitignore: Path
    ignore_added: tuple[str, ...]  # the entries appended to .gitignore (none if all there)

    @property
    def storyboard(self) -> Path:
        return self.folder / STARTER_FILES[0]


def _starter_text(name: str) -> str:
    return resources.files(__package__).joinpath("starter", name).read_text(encoding="utf-8")


def _has_entry(lines: list[str], entry: str) -> bool:
    """True if `.gitignore` already ignores `entry` (written with or without slashes)."""
    bare = entry.strip("/")
    return any(line.strip().strip("/") == bare for line in lines)


def _add_ignores(gitignore: Path) -> tuple[str, ...]:
    text = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    missing = tuple(e for e in IGNORED if not _has_entry(text.splitlines(), e))
    if missing:
        block = "# vidpipe: its state dir and outputs\n" + "".join(f"{e}\n" for e in missing)
        separator = "\n" if text and not text.endswith("\n") else ""
        gitignore.write_text(text + separator + block, encoding="utf-8")
    return missing


def init_project(folder: Path | str, *, force: bool = False) -> Scaffold:
    """Write the starter files into `folder` (created if needed) and update its `.gitignore`.

    Raises InputError naming every starter file that exists already (and writes nothing)
    unless `force`, or naming what could not be written.
    """
    folder = Path(folder)
    targets = [folder / name for name in STARTER_FILES]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise InputError(
            [
                Problem("exists already; nothing was written (--force overwrites it)", str(t))
                for t in existing
            ]
        )
    gitignore = folder / ".gitignore"
    try:
        for name, target in zip(STARTER_FILES, targets, strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_starter_text(name), encoding="utf-8")
        added = _add_ignores(gitignore)
    except OSError as exc:
        where = str(exc.filename or folder)
        raise InputError(Problem(f"cannot write here: {exc.strerror}", where)) from None
    return Scaffold(folder, tuple(targets), gitignore, added)
