"""Checks of what shots are called and what they name: unique ids, remix targets and cycles,
and the shots of the final cut. Each unknown name comes with a "did you mean"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..dag import cycle_problems, find_cycles
from ..model import Clip, FinalCut
from .findings import Findings, shot_label, suggest
from .yamllines import YamlPath

__all__ = ["check_remixes", "final_cut", "shot_ids", "written_ids"]


def written_ids(items: Sequence[Any]) -> list[str]:
    """Every id written as text, valid or not: a name that matches one is not unknown."""
    return [s["id"] for s in items if isinstance(s, dict) and isinstance(s.get("id"), str)]


def shot_ids(findings: Findings, items: Sequence[Any]) -> dict[int, str]:
    """The id of each shot, by index, for shots whose id is valid and not already taken."""
    ids: dict[int, str] = {}
    first: dict[str, YamlPath] = {}
    for index, item in enumerate(items):
        path: YamlPath = ("shots", index, "id")
        if not isinstance(item, dict) or "id" not in item or not findings.usable(path):
            continue
        shot_id = item["id"]
        if shot_id in first:
            findings.add(
                f"duplicate shot id {shot_id!r} (first used at {findings.place(first[shot_id])})",
                path,
                value=True,
                breaks=True,
            )
            continue
        first[shot_id] = ("shots", index)
        ids[index] = shot_id
    return ids


def _sources(item: Any) -> list[tuple[str, Any]]:
    """(key, target) of each shot a shot builds on: its remix, and the shot of a frame image."""
    if not isinstance(item, dict):
        return []
    found = [("remix", item.get("remix"))]
    image = item.get("image")
    if isinstance(image, dict):
        found.append(("image", image.get("shot")))
    return [(key, target) for key, target in found if target is not None]


def check_remixes(findings: Findings, items: Sequence[Any], ids: Mapping[int, str]) -> None:
    """Every remix and frame image names another shot, and no chain of them comes back to
    where it started; a shot builds on one other shot at most."""
    known = written_ids(items)
    edges: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        label = shot_label(index, ids.get(index))
        sources = _sources(item)
        if len(sources) > 1:
            findings.add(
                f"{label} both remixes {sources[0][1]!r} and takes a frame of {sources[1][1]!r};"
                " a shot builds on one other shot (remix, or a frame as its image)",
                ("shots", index, "image"),
                breaks=True,
            )
            continue
        for key, target in sources:
            path: YamlPath = (
                ("shots", index, key) if key == "remix" else ("shots", index, key, "shot")
            )
            what = "remix target" if key == "remix" else "image: frame of"
            if not findings.usable(path):
                continue
            if target not in known:
                findings.add(
                    f"{label}: {what} {target!r} is not a shot id" + suggest(target, known),
                    path,
                    value=True,
                    breaks=True,
                )
            elif target == ids.get(index) and key == "image":
                findings.add(
                    f"{label}: image: a frame of its own video", path, value=True, breaks=True
                )
            elif index in ids:
                edges.setdefault(ids[index], []).append(target)
    lines = {
        shot_id: findings.line(("shots", index, _sources(items[index])[0][0]))
        if _sources(items[index])
        else None
        for index, shot_id in ids.items()
    }
    frames = [
        shot_id
        for index, shot_id in ids.items()
        if _sources(items[index])[-1:] and _sources(items[index])[0][0] == "image"
    ]
    findings.problems.extend(cycle_problems(find_cycles(edges), lines, findings.doc.source, frames))


def final_cut(findings: Findings, value: Any, items: Sequence[Any]) -> FinalCut | None:
    """`final:`, with every shot it names known (None when there is none, or it is broken)."""
    path: YamlPath = ("final", "concat")
    if not isinstance(value, dict) or not isinstance(value.get("concat"), list):
        return None
    known = written_ids(items)
    clips: list[Clip] = []
    for index, entry in enumerate(value["concat"]):
        if not findings.usable((*path, index)):
            continue
        shot_id = str(entry.get("shot")) if isinstance(entry, dict) else str(entry)
        where = (*path, index, "shot") if isinstance(entry, dict) else (*path, index)
        if shot_id not in known:
            findings.add(
                f"final.concat: unknown shot {shot_id!r}{suggest(shot_id, known)}",
                where,
                breaks=True,
            )
            continue
        clip = Clip(shot_id)
        if isinstance(entry, dict):
            clip = Clip(
                shot_id,
                start=entry.get("start"),
                end=entry.get("end"),
                crossfade=entry.get("crossfade"),
                caption=entry.get("caption"),
            )
            if clip.start is not None and clip.end is not None and clip.end <= clip.start:
                findings.add(
                    f"final.concat: clip of {shot_id} ends ({clip.end:g} s) before it starts"
                    f" ({clip.start:g} s)",
                    (*path, index, "end"),
                    value=True,
                    breaks=True,
                )
                continue
        clips.append(clip)
    music = _music(findings, value.get("audio"))
    if not findings.usable(("final",)):
        return None
    audio = value.get("audio") or "keep"
    return FinalCut(
        concat=tuple(c.shot for c in clips),
        line=findings.line(("final",)),
        clips=tuple(clips),
        size=value.get("size"),
        fps=value.get("fps"),
        crossfade=float(value.get("crossfade") or 0),
        audio="music" if isinstance(audio, dict) else str(audio),
        music=music,
        music_volume=float(audio.get("volume", 0.3)) if isinstance(audio, dict) else 0.3,
        captions=value.get("captions"),
        burn_captions=bool(value.get("burn_captions")),
    )


def _music(findings: Findings, audio: Any) -> Path | None:
    """The music file of `final.audio`, found next to the storyboard (or a problem)."""
    if not isinstance(audio, dict) or not findings.usable(("final", "audio")):
        return None
    text = str(audio["music"])
    file = (findings.doc.base_dir / Path(text).expanduser()).resolve()
    if not file.is_file():
        findings.add(
            f"final.audio: music file not found: {text} (looked for {file})",
            ("final", "audio", "music"),
            value=True,
            breaks=True,
        )
        return None
    return file
