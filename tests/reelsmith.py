"""Reelsmith, an invented gateway: its document (`tests/providers/reelsmith.txt`, in the seed
documents' layout, with its own field names and status words) and its spec, made as a user
makes one: `vidpipe specs draft`, then the TODOs settled by editing that one file."""

from __future__ import annotations

import re
from pathlib import Path

from vidpipe.specdraft import draft_spec

DOCUMENT = Path(__file__).resolve().parent / "providers" / "reelsmith.txt"
#: The storyboard's unified names -> Reelsmith's request fields.
FIELDS = {
    "prompt": "scene",
    "duration": "length_s",
    "size": "frame",
    "image": "{field: still, as: file}",
    "seed": "noise_seed",
}
#: Reelsmith's status words and what they mean.
WORDS = {"WAITING": "queued", "RENDERING": "running", "DONE": "succeeded", "BROKEN": "failed"}


def settle_todos(text: str, answers: dict[str, str], *, drop_others: bool = False) -> str:
    """`text` of a draft with each `KEY: 'TODO ...'` value (which may run over several lines)
    replaced by `answers[KEY]`; with `drop_others`, a TODO with no answer is deleted."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = re.match(r"^(\s+)([\w-]+): '?TODO", lines[i])
        if match and (match.group(2) in answers or drop_others):
            indent, key = match.groups()
            if key in answers:
                out.append(f"{indent}{key}: {answers[key]}")
            i += 1
            while i < len(lines) and lines[i].startswith(indent + "  "):
                i += 1  # the rest of a folded TODO
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out) + "\n"


def write_draft(folder: Path, name: str = "reelsmith") -> Path:
    """The draft spec of the Reelsmith document, as `vidpipe specs draft` writes it."""
    folder.mkdir(parents=True, exist_ok=True)
    text, _ = draft_spec(DOCUMENT, family="videos", name=name)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def write_spec(folder: Path, name: str = "reelsmith") -> Path:
    """The finished Reelsmith spec in `folder`: the draft with its TODOs settled."""
    path = write_draft(folder, name)
    path.write_text(settle_todos(path.read_text(), {**FIELDS, **WORDS}), encoding="utf-8")
    return path
