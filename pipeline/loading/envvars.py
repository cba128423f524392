"""`${VAR}` in provider values: read from the environment, never written into a message.

`${VAR}` is the variable's value, `${VAR:-default}` the default when it is unset or empty,
and `$${` a literal `${`. Only the values directly under each provider are expanded (the
API, its URL and key, limits): nothing else in a storyboard is read from the environment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import Problem
from .yamllines import LoadedDocument, YamlPath

__all__ = ["expand_env", "expand_providers"]

_ENV_REF = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{")


def expand_env(value: str, env: Mapping[str, str]) -> str:
    """Expand `${VAR}` and `${VAR:-default}` (default also when VAR is empty).

    `$${` is a literal `${`. Raises ValueError naming the variable if one is unset and
    has no default; the message never includes any value.
    """

    def replace(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "$${":
            return "${"
        name, default = match.group(1), match.group(2)
        if name is None:
            raise ValueError("malformed ${...} reference (expected ${NAME} or ${NAME:-default})")
        found = env.get(name)
        if default is not None:
            return found if found else default
        if found is None:
            raise ValueError(f"environment variable {name} is not set (use ${{{name}:-...}})")
        return found

    return _ENV_REF.sub(replace, value)


def expand_providers(
    doc: LoadedDocument, data: Mapping[str, Any], env: Mapping[str, str]
) -> tuple[dict[str, Any], list[Problem], set[YamlPath]]:
    """`data` with every string under `providers.<name>` expanded.

    Returns the new data (the document's own is left as it is), the problems (an unset
    variable, a malformed reference) and the paths of the values that could not be
    expanded, so later checks leave them alone.
    """
    result = dict(data)
    problems: list[Problem] = []
    failed: set[YamlPath] = set()
    providers = data.get("providers")
    if not isinstance(providers, dict):
        return result, problems, failed
    expanded: dict[str, Any] = {}
    for name, block in providers.items():
        if not isinstance(block, dict):
            expanded[name] = block
            continue
        values: dict[str, Any] = {}
        for key, value in block.items():
            if not isinstance(value, str):
                values[key] = value
                continue
            path: YamlPath = ("providers", name, key)
            try:
                values[key] = expand_env(value, env)
            except ValueError as exc:
                problems.append(doc.problem(f"provider {name!r} {key}: {exc}", path, value=True))
                failed.add(path)
                values[key] = value
        expanded[name] = values
    result["providers"] = expanded
    return result, problems, failed
