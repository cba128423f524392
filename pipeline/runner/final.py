"""The final cut: the storyboard's `final.concat` shots joined into final.mp4.

It always describes the current videos: made again whenever one of its inputs changed (its
inputs' sha256s are recorded in the manifest), kept as it is when none did, and removed
(`stale`) when an input has no video, so a final.mp4 on disk never holds an old shot.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ..captions import CAPTION_FORMATS, write_captions
from ..errors import InputError
from ..fingerprint import canonical_json, sha256_bytes, sha256_file
from ..manifest import FinalResult, ShotResult
from ..model import FinalCut, Storyboard

__all__ = ["final_cut"]

FINAL_FILENAME = "final.mp4"


def final_cut(
    storyboard: Storyboard,
    shots: Mapping[str, ShotResult],
    out_dir: Path,
    previous: Mapping[str, Any] | None = None,
) -> FinalResult | None:
    """The final cut of the storyboard's current videos (`shots`: every shot, this run's
    and the last known state of the others); None when none is asked for. `previous` is
    the final entry of the manifest already in `out_dir`, if any."""
    final = storyboard.final
    if final is None:
        return None
    target = out_dir / FINAL_FILENAME
    missing = [
        s for s in final.concat if s not in shots or not shots[s].ok or shots[s].file is None
    ]
    sidecars = [out_dir / f"final.{fmt}" for fmt in CAPTION_FORMATS]
    if missing:
        removed = target.exists()
        target.unlink(missing_ok=True)
        for sidecar in sidecars:
            sidecar.unlink(missing_ok=True)
        gone = "; the earlier final.mp4 was removed" if removed else ""
        return FinalResult(
            None,
            final.concat,
            status="stale",
            error=f"{_shots(missing)} no video{gone}",
        )
    inputs = tuple(str(shots[s].sha256) for s in final.concat)
    if final.edited:
        return _edited(final, shots, out_dir, previous, inputs)
    for sidecar in sidecars:
        sidecar.unlink(missing_ok=True)
    kept = _unchanged(previous, final.concat, inputs, target)
    if kept is not None:
        return kept
    files = [shots[s].file for s in final.concat]
    try:
        # PyAV and numpy are loaded only when a cut is made: a run without one saves
        # their memory.
        from ..assemble import concat

        cut = concat([f for f in files if f is not None], target)
    except InputError as exc:
        target.unlink(missing_ok=True)
        return FinalResult(None, final.concat, error=str(exc), status="failed", inputs=inputs)
    return _made(target, final.concat, cut.duration, cut.mode, inputs)


def _edited(
    final: FinalCut,
    shots: Mapping[str, ShotResult],
    out_dir: Path,
    previous: Mapping[str, Any] | None,
    inputs: tuple[str, ...],
) -> FinalResult:
    """The cut with its options (trims, crossfades, size, fps, audio, captions)."""
    target = out_dir / FINAL_FILENAME
    options = final.options()
    # The options are inputs too: changing one makes the cut again.
    inputs = (*inputs, "options:" + sha256_bytes(canonical_json(options)))
    if final.music is not None and final.music.is_file():
        inputs = (*inputs, "music:" + sha256_file(final.music))
    sidecar = out_dir / f"final.{final.captions}" if final.captions else None
    for fmt in CAPTION_FORMATS:
        if sidecar is None or sidecar.name != f"final.{fmt}":
            (out_dir / f"final.{fmt}").unlink(missing_ok=True)
    kept = _unchanged(previous, final.concat, inputs, target)
    if kept is not None and (sidecar is None or sidecar.is_file()):
        expected = previous.get("expected_duration") if previous else None
        return attrs.evolve(
            kept,
            options=options,
            expected_duration=float(expected) if isinstance(expected, int | float) else None,
            captions=sidecar,
        )
    # PyAV and numpy are loaded only when a cut is made (see `final_cut`).
    from ..editing import Part, edit

    parts = []
    for clip in final.clips:
        file = shots[clip.shot].file
        assert file is not None  # the shots without a video were found above
        crossfade = final.crossfade if clip.crossfade is None else clip.crossfade
        parts.append(
            Part(file, clip.start or 0.0, clip.end, crossfade, clip.caption, name=clip.shot)
        )
    size = tuple(int(v) for v in final.size.split("x")) if final.size else None
    try:
        cut = edit(
            parts,
            target,
            size=(size[0], size[1]) if size else None,
            fps=final.fps,
            audio=final.audio,
            music=final.music,
            music_volume=final.music_volume,
            burn_captions=final.burn_captions,
        )
    except InputError as exc:
        target.unlink(missing_ok=True)
        if sidecar is not None:
            sidecar.unlink(missing_ok=True)
        error = "; ".join(str(p.message) for p in exc.problems)
        return FinalResult(
            None, final.concat, error=error, status="failed", inputs=inputs, options=options
        )
    if sidecar is not None and final.captions is not None:
        write_captions(cut.cues, sidecar, final.captions)
    return _made(
        target,
        final.concat,
        cut.duration,
        "edit",
        inputs,
        options=options,
        expected_duration=cut.expected,
        captions=sidecar,
    )


def _made(
    target: Path,
    concat_of: tuple[str, ...],
    duration: float,
    mode: str,
    inputs: tuple[str, ...],
    **more: Any,
) -> FinalResult:
    """The final cut just written to `target`, described from the file."""
    return FinalResult(
        target,
        concat_of,
        sha256=sha256_file(target),
        bytes=target.stat().st_size,
        duration=duration,
        mode=mode,
        inputs=inputs,
        **more,
    )


def _shots(missing: list[str]) -> str:
    if len(missing) == 1:
        return f"shot {missing[0]} has"
    return f"shots {', '.join(missing)} have"


def _unchanged(
    previous: Mapping[str, Any] | None,
    concat_of: tuple[str, ...],
    inputs: tuple[str, ...],
    target: Path,
) -> FinalResult | None:
    """The final cut already on disk, when it was made from exactly these inputs."""
    if not previous or previous.get("status") != "done" or not target.is_file():
        return None
    if tuple(previous.get("inputs") or ()) != inputs or previous.get("sha256") is None:
        return None
    if sha256_file(target) != previous["sha256"]:
        return None
    duration, mode = previous.get("duration"), previous.get("mode")
    return FinalResult(
        target,
        concat_of,
        sha256=str(previous["sha256"]),
        bytes=target.stat().st_size,
        duration=float(duration) if isinstance(duration, int | float) else None,
        mode=str(mode) if mode else None,
        inputs=inputs,
    )
