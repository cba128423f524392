"""The final cut: the storyboard's `final.concat` shots joined into final.mp4."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..assemble import concat
from ..errors import InputError
from ..fingerprint import sha256_file
from ..manifest import FinalResult, ShotResult
from ..model import Storyboard

__all__ = ["final_cut"]


def final_cut(
    storyboard: Storyboard, results: Mapping[str, ShotResult], out_dir: Path, selected: set[str]
) -> FinalResult | None:
    """Assemble the final cut when every shot it needs is done; None when none is asked for."""
    final = storyboard.final
    if final is None:
        return None
    missing = [s for s in final.concat if s not in results or not results[s].ok]
    if missing:
        return FinalResult(None, final.concat, error=_missing_text(missing, selected))
    files = [results[s].file for s in final.concat]
    target = out_dir / "final.mp4"
    try:
        cut = concat([f for f in files if f is not None], target)
    except InputError as exc:
        return FinalResult(None, final.concat, error=str(exc))
    return FinalResult(
        target,
        final.concat,
        sha256=sha256_file(target),
        bytes=target.stat().st_size,
        duration=cut.duration,
        mode=cut.mode,
    )


def _missing_text(missing: list[str], selected: set[str]) -> str:
    """ "shot one not done; shots two, three not selected"."""
    parts = []
    for why, ids in (
        ("not done", [s for s in missing if s in selected]),
        ("not selected", [s for s in missing if s not in selected]),
    ):
        if ids:
            parts.append(f"{'shot' if len(ids) == 1 else 'shots'} {', '.join(ids)} {why}")
    return "; ".join(parts)
