"""The sizes vidpipe refuses to go past, each with the message that says which was reached.

Input (exit code 2, nothing sent):

- `MAX_STORYBOARD_BYTES`: a storyboard file (or text) larger than this is refused before
  it is parsed. 500 shots with long prompts fit in well under 1 MiB.
- `MAX_VALUES`: a storyboard holding more values than this (keys, items and scalars,
  aliases expanded) is refused before it is built.
- `MAX_SHOTS`: a storyboard with more shots than this is refused before any is checked
  (storyboards hold 5 to 500 shots; each shot is a paid task).
- `MAX_PROMPT_CHARS`: a rendered prompt longer than this, unless the API's spec gives its
  own `maxLength` for the prompt field.
- `MAX_RENDER_CHARS` and `MAX_RENDER_STEPS`: how much text one template may produce on its
  way (a string operation, a filter, the whole output) and how many template lines it may
  run (loops included), so a template ends quickly whatever it does.
- `MAX_IMAGE_BYTES`: a local image (or `data:` URL) larger than this, unless the API's spec
  states its own limit (`x-vidpipe.image.max-bytes`).

Provider answers (the shot fails with one line, exit code 1):

- `MAX_ANSWER_BYTES`: a JSON answer (a create, a status read, an error body) is read up to
  this size and no further.
"""

from __future__ import annotations

__all__ = [
    "MAX_ANSWER_BYTES",
    "MAX_IMAGE_BYTES",
    "MAX_PROMPT_CHARS",
    "MAX_RENDER_CHARS",
    "MAX_RENDER_STEPS",
    "MAX_SHOTS",
    "MAX_STORYBOARD_BYTES",
    "MAX_VALUES",
    "size_text",
]

MAX_STORYBOARD_BYTES = 2 << 20
MAX_VALUES = 1_000_000
MAX_SHOTS = 10_000
MAX_PROMPT_CHARS = 10_000
MAX_RENDER_CHARS = 100_000
MAX_RENDER_STEPS = 1_000_000
MAX_IMAGE_BYTES = 32 << 20
MAX_ANSWER_BYTES = 4 << 20


def size_text(size: int) -> str:
    """A byte count for a message: "812 bytes", "3.2 KiB", "50.0 MiB"."""
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit}"
