"""`specs:`, the storyboard's own folders of specs, added to the registry it is checked with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..specs import SpecRegistry
from .findings import Findings

__all__ = ["with_storyboard_specs"]


def with_storyboard_specs(
    findings: Findings, value: Any, base_dir: Path, registry: SpecRegistry
) -> tuple[SpecRegistry, tuple[Path, ...]]:
    """`registry` with the folders `specs:` names (relative to the storyboard) added, and
    those folders. A folder that is not one of specs, or a spec in it that cannot be read,
    is a problem at `specs:`."""
    if value is None or not findings.usable(("specs",)):
        return registry, ()
    names = [value] if isinstance(value, str) else list(value)
    folders = tuple((base_dir / str(name)).resolve() for name in names)
    try:
        return registry.with_dirs(folders), folders
    except SpecError as exc:
        findings.add(f"specs: {exc}", ("specs",), value=True, breaks=True)
        return registry, ()
