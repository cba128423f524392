"""Caption sidecars of the final cut: WebVTT (`final.vtt`) or SubRip (`final.srt`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .editing import Cue

__all__ = ["CAPTION_FORMATS", "captions_text", "write_captions"]

CAPTION_FORMATS = ("vtt", "srt")


def _stamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}{separator}{millis:03d}"


def _text(caption: str) -> str:
    # A blank line would end the cue early; "-->" would read as a timing line.
    lines = [line.strip() for line in caption.strip().splitlines() if line.strip()]
    return "\n".join(lines).replace("-->", "->")


def captions_text(cues: Sequence[Cue], fmt: str) -> str:
    """The cues as a WebVTT (`vtt`) or SubRip (`srt`) document."""
    blocks = []
    for number, cue in enumerate(cues, 1):
        if fmt == "vtt":
            timing = f"{_stamp(cue.start, '.')} --> {_stamp(cue.end, '.')}"
            blocks.append(f"{timing}\n{_text(cue.text)}")
        else:
            timing = f"{_stamp(cue.start, ',')} --> {_stamp(cue.end, ',')}"
            blocks.append(f"{number}\n{timing}\n{_text(cue.text)}")
    head = "WEBVTT\n\n" if fmt == "vtt" else ""
    return head + "\n\n".join(blocks) + ("\n" if blocks else "")


def write_captions(cues: Sequence[Cue], path: Path, fmt: str) -> Path:
    """Write the cues to `path` in format `fmt` (vtt or srt) and return it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(captions_text(cues, fmt), encoding="utf-8")
    os.replace(partial, path)
    return path
