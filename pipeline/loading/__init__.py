"""Read a storyboard into the frozen model, reporting every problem at once.

`load("storyboard.yaml")` reads the storyboard and raises one InputError listing every
problem, each with its file and line:

* `yamllines`: the YAML (safe constructors only), with the line of every key and value;
* `envvars`: `${VAR}` and `${VAR:-default}` in provider values;
* `structure`: keys, types and value forms against `storyboard.schema.json`;
* `providers`, `references`, `shots`: what the values mean (the provider's API, unique
  ids, remix targets and cycles, files, templates and their variables);
* `build`: the frozen `Storyboard` from all of that.

API keys never appear in a message or repr.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..model import Storyboard
from ..specs import SpecRegistry
from .build import validate
from .envvars import expand_env
from .schema import storyboard_schema
from .yamllines import LoadedDocument, parse

__all__ = [
    "LoadedDocument",
    "expand_env",
    "load",
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

    `env` replaces os.environ for `${VAR}`; `vars` override every other variable.
    """
    return validate(parse(path), env=env, vars=vars, registry=registry)
