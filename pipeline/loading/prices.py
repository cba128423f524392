"""Prices a storyboard gives: `providers.<name>.prices`, and a prices file (`prices:` in the
storyboard, or `--prices FILE`), each problem at its file and line.

A prices file maps model ids to prices, in the form of a spec's `x-vidpipe.prices`
(`vidpipe.pricing`). Its prices apply to every provider; a provider's own `prices:` are
more specific and win over it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from ..pricing import Price, parse_table, problems
from .findings import Findings
from .yamllines import LoadedDocument, YamlPath, dotted, parse

__all__ = ["load_prices_file", "provider_prices", "storyboard_prices"]


def _checked(
    doc: LoadedDocument, raw: Any, at: YamlPath, origin: str
) -> tuple[dict[str, Price], list[Problem]]:
    found = [
        doc.problem(f"{dotted((*at, *p.path)) or 'prices'}: {p.message}", (*at, *p.path))
        for p in problems(raw)
    ]
    return ({} if found else parse_table(raw, origin)), found


def provider_prices(findings: Findings, name: str, raw: Any) -> dict[str, Price]:
    """The prices under `providers.<name>.prices` (none when they have a problem)."""
    at: YamlPath = ("providers", name, "prices")
    if raw is None or not findings.usable(at):
        return {}
    prices, found = _checked(findings.doc, raw, at, f"{findings.doc.source}: {dotted(at)}")
    findings.problems.extend(found)
    return prices


def load_prices_file(path: Path | str) -> dict[str, Price]:
    """The prices of a prices file; InputError names every problem at its file and line."""
    doc = parse(path)
    if not isinstance(doc.data, Mapping):
        raise InputError(Problem("a prices file maps model ids to prices", doc.source, 1))
    prices, found = _checked(doc, doc.data, (), f"prices file {doc.source}")
    if found or doc.problems:
        raise InputError([*doc.problems, *found])
    return prices


def storyboard_prices(findings: Findings, value: Any, base_dir: Path) -> dict[str, Price]:
    """The prices of the file the storyboard's `prices:` names (relative to it)."""
    if value is None or not findings.usable(("prices",)):
        return {}
    path = base_dir / str(value)
    if not path.is_file():
        findings.add(f"prices: no such file {value!r}", ("prices",), value=True, breaks=True)
        return {}
    try:
        return load_prices_file(path)
    except InputError as exc:
        findings.problems.extend(exc.problems)
        return {}
