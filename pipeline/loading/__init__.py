"""Read a storyboard into the frozen model, reporting every problem at once.

    load("storyboard.yaml")                    # a file
    loads(text, base_dir="shots/")             # YAML or JSON text
    from_dict({"providers": ..., "shots": [...]}, base_dir="shots/")

Each reads the storyboard the same way and raises one InputError listing every problem,
each with its file (`<string>`, `<dict>` or the name given) and line:

* `yamllines`: the YAML (safe constructors only), with the line of every key and value;
* `envvars`: `${VAR}` and `${VAR:-default}` in provider values, read from the process
  environment over the storyboard's `.env` file (`envfile`);
* `structure`: keys, types and value forms against `storyboard.schema.json`;
* `providers`, `references`, `shots`: what the values mean (the provider's API, unique
  ids, remix targets and cycles, files, templates and their variables);
* `prices`: `providers.<name>.prices` and the prices file (`prices:`, `--prices`);
* `build`: the frozen `Storyboard` from all of that.

API keys never appear in a message or repr.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..model import Storyboard, thaw
from ..specs import SpecRegistry
from .build import validate
from .envfile import storyboard_env
from .envvars import expand_env
from .schema import storyboard_schema
from .yamllines import LoadedDocument, document_from_data, parse, parse_text

__all__ = [
    "LoadedDocument",
    "expand_env",
    "from_dict",
    "load",
    "loads",
    "parse",
    "storyboard_schema",
    "validate",
]


def load(
    path: Path | str,
    *,
    env: Mapping[str, str] | None = None,
    vars: Mapping[str, object] | None = None,
    registry: SpecRegistry | None = None,
) -> Storyboard:
    """Read and check a storyboard file. Raises InputError with every problem found.

    `env` is what `${VAR}` reads (default: os.environ over the `.env` file next to the
    storyboard); `vars` override every other variable.
    """
    env = storyboard_env(path) if env is None else env
    return validate(parse(path), env=env, vars=vars, registry=registry)


def loads(
    text: str,
    *,
    base_dir: Path | str = ".",
    source: str = "<string>",
    env: Mapping[str, str] | None = None,
    vars: Mapping[str, object] | None = None,
    registry: SpecRegistry | None = None,
) -> Storyboard:
    """A storyboard from YAML (or JSON) text, checked as `load` checks a file.

    Images and templates are looked up in `base_dir` (and the state dir is made there).
    `source` names the text in messages. Without a file name, `name:` is required.
    """
    doc = parse_text(text, source=source, base_dir=base_dir)
    return validate(doc, env=env, vars=vars, registry=registry)


def from_dict(
    data: Mapping[str, Any],
    *,
    base_dir: Path | str = ".",
    source: str = "<dict>",
    env: Mapping[str, str] | None = None,
    vars: Mapping[str, object] | None = None,
    registry: SpecRegistry | None = None,
) -> Storyboard:
    """A storyboard from data built in Python, checked as `load` checks a file.

    Tuples count as lists; `data` is copied, not kept. Problems have no line, so each
    names its key path. Without a file name, `name:` is required.
    """
    doc = document_from_data(thaw(data), source=source, base_dir=base_dir)
    return validate(doc, env=env, vars=vars, registry=registry)
