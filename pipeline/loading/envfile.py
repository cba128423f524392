"""`.env` next to a storyboard: more variables for `${VAR}`, under the process environment.

Most people keep their keys in a `.env` file beside the project. `load` reads the one in
the storyboard's folder (python-dotenv's format: `NAME=value`, `export NAME=value`,
quotes, comments, `${OTHER}` inside values); a variable set in the process environment
wins over the file. Like any environment value, nothing read here is ever written into a
message: a line that cannot be read is reported by its number only.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from ..errors import InputError, Problem

__all__ = ["ENV_FILENAME", "storyboard_env"]

ENV_FILENAME = ".env"


def storyboard_env(
    storyboard: Path | str, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """What `${VAR}` reads for this storyboard: `environ` (default `os.environ`) over the
    `.env` file in its folder, if there is one.

    Raises InputError naming the file and each line it cannot read (never the line).
    """
    environ = os.environ if environ is None else environ
    path = Path(storyboard).parent / ENV_FILENAME
    if not path.is_file():
        return dict(environ)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise InputError(Problem(f"cannot read this file: {reason}", str(path))) from None
    broken = [b.original.line for b in parse_stream(io.StringIO(text)) if b.error]
    if broken:
        raise InputError(
            [
                Problem(
                    "expected NAME=value (the line is not shown: it may hold a key)", str(path), n
                )
                for n in broken
            ]
        )
    values = dotenv_values(stream=io.StringIO(text))
    return {**{k: v for k, v in values.items() if v is not None}, **environ}
