"""What checking a storyboard has found so far: its problems and the values they break.

Every check adds its problems here, located in the document, and marks the values it
found wrong, so a later check leaves a broken value alone rather than report the same
mistake again in other words.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from ..errors import Problem
from .yamllines import LoadedDocument, YamlPath, dotted

__all__ = ["BrokenPaths", "Findings", "shot_label", "suggest"]


def suggest(name: str, options: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest option, or an empty string."""
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def shot_label(index: int, shot_id: str | None) -> str:
    """How a shot is named in messages: "shot 'establish'", or "shots[3]" without a valid id."""
    return f"shot {shot_id!r}" if shot_id is not None else f"shots[{index}]"


class BrokenPaths:
    """Locations whose values are wrong; a path is usable if it neither holds nor lies in one."""

    def __init__(self, paths: Iterable[YamlPath] = ()) -> None:
        self._broken: set[YamlPath] = set()
        self._holding: set[YamlPath] = set()  # every prefix of a broken path
        for path in paths:
            self.add(path)

    def add(self, path: YamlPath) -> None:
        self._broken.add(path)
        for end in range(len(path) + 1):
            self._holding.add(path[:end])

    def usable(self, path: YamlPath) -> bool:
        """False if the value at `path` is broken, lies in a broken value or holds one."""
        if path in self._holding:
            return False
        return not any(path[:end] in self._broken for end in range(len(path)))


class Findings:
    """The document being checked, the problems found in it and the values they break."""

    def __init__(
        self,
        doc: LoadedDocument,
        problems: Iterable[Problem] = (),
        broken: BrokenPaths | None = None,
    ) -> None:
        self.doc = doc
        self.problems: list[Problem] = list(problems)
        self.broken = broken or BrokenPaths()

    def add(
        self, message: str, path: YamlPath, *, value: bool = False, breaks: bool = False
    ) -> None:
        """A problem at the key at `path` (with `value`, where its value starts).

        With `breaks`, the value at `path` is marked broken too.
        """
        self.problems.append(self.doc.problem(message, path, value=value))
        if breaks:
            self.broken.add(path)

    def usable(self, path: YamlPath) -> bool:
        """True unless a problem was found in the value at `path` (or around it)."""
        return self.broken.usable(path)

    def line(self, path: YamlPath) -> int | None:
        return self.doc.line(path)

    def place(self, path: YamlPath) -> str:
        """Where `path` is, for a message: "line 12", or "shots[3]" where there are no lines."""
        line = self.doc.line(path)
        return f"line {line}" if line is not None else dotted(path)

    def sorted(self) -> list[Problem]:
        """The problems without repeats: this file's by line, then other files' (templates)."""
        unique = list(dict.fromkeys(self.problems))
        main = self.doc.source
        return sorted(unique, key=lambda p: (p.file != main, p.file or "", p.line or 0))
