"""What a run produced: per-shot results, the manifest.json that records them, the report.

A `RunResult` is addressed by shot id (`result["establish"]`, `result.shots["establish"]`)
and `RunResult.to_json()` is what `vidpipe run --json` prints. A shot's state is one of
`RESULT_STATES`. `shots` are the shots this run ran; `others` the last known state of the
rest of the storyboard (`--only`), so the manifest and the report describe it whole.

The manifest is enough to reproduce every request exactly: it holds each shot's resolved
request (local files by name and sha256, never a key), the seed, the spec and its hash, the
fingerprint and task, and for a remix the source task it was made from. Its paths are
relative to its own folder, so a copied output folder keeps a valid manifest.
"""

from __future__ import annotations

import collections
import html
import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs
import jinja2
import orjson

from .errors import FrameError
from .pricing import dollars
from .states import OK_STATES, RESULT_STATES, ShotState
from .version import __version__


@attrs.frozen
class ShotResult:
    """How one shot ended, and everything needed to reproduce its request."""

    shot_id: str
    status: ShotState = attrs.field(validator=attrs.validators.in_(RESULT_STATES))
    provider: str
    api: str
    spec: str
    spec_sha256: str
    model: str
    prompt: str
    request: Mapping[str, Any]
    # None for a remix whose source has no task: its fingerprint names that task.
    fingerprint: str | None
    seed: int | None
    seed_sent: bool
    remix_of: str | None = None
    task_id: str | None = None
    file: Path | None = None
    sha256: str | None = None
    bytes: int | None = None
    error: str | None = None
    # The timings of the run that made the file (seconds from that shot's start).
    timings: Mapping[str, float] = attrs.Factory(dict)
    # A remix: the task of the source it was made from.
    source_task: str | None = None
    # The run that made this generation, and whether this run ran the shot at all.
    made_in_run: int | None = None
    in_run: bool = True
    # This run went on with a task an earlier run created: that run paid for it.
    resumed: bool = False
    # What one create of the shot is estimated to cost, and what the gateway says its
    # generation was charged (0 for a shot reused from the cache); None: not known.
    estimate_usd: float | None = None
    spend_usd: float | None = None

    @property
    def ok(self) -> bool:
        return self.status in OK_STATES

    @property
    def paid(self) -> bool:
        """Whether this run paid (or may have paid) for a create of this shot."""
        return self.in_run and not self.resumed and self.status not in _UNPAID

    def cost_json(self) -> dict[str, Any]:
        return {"estimate_usd": self.estimate_usd, "spend_usd": self.spend_usd}

    def to_json(self) -> dict[str, Any]:
        """This shot's entry in `vidpipe run --json`."""
        return {
            "status": self.status,
            "provider": self.provider,
            "model": self.model,
            "task_id": self.task_id,
            "file": str(self.file) if self.file else None,
            "sha256": self.sha256,
            "bytes": self.bytes,
            "error": self.error,
            "cost": self.cost_json(),
        }

    def manifest_entry(self, out_dir: Path) -> dict[str, Any]:
        """This shot's manifest entry."""
        return {
            "status": self.status,
            "provider": self.provider,
            "api": self.api,
            "spec": {"name": self.spec, "sha256": self.spec_sha256},
            "model": self.model,
            "prompt": self.prompt,
            "request": self.request,
            "fingerprint": self.fingerprint,
            # A seed the API does not take is not part of the request: record its absence.
            "seed": self.seed if self.seed_sent else None,
            "seed_reproducible": self.seed_sent,
            "remix_of": self.remix_of,
            "remix_task_id": self.source_task,
            "task_id": self.task_id,
            "file": _relative(self.file, out_dir),
            "sha256": self.sha256,
            "bytes": self.bytes,
            "error": self.error,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "made_in_run": self.made_in_run,
            "in_run": self.in_run,
            "cost": self.cost_json(),
        }


#: Results that sent no create in their run.
_UNPAID = frozenset({ShotState.CACHED, ShotState.SKIPPED, ShotState.OVER_BUDGET})


def cost_totals(shots: Iterable[ShotResult]) -> dict[str, Any]:
    """A run's cost: the estimates and the reported spend of the shots it paid for. A total
    leaves out what is not known, and says how many that is."""
    return sum_costs((s.estimate_usd, s.spend_usd) for s in shots if s.paid)


def sum_costs(paid: Iterable[tuple[float | None, float | None]]) -> dict[str, Any]:
    """The totals of creates' (estimate, spend) pairs, and how many of each are unknown."""
    pairs = list(paid)
    estimates = [e for e, _ in pairs if e is not None]
    spends = [s for _, s in pairs if s is not None]
    return {
        "estimate_usd": round(sum(estimates), 6),
        "spend_usd": round(sum(spends), 6),
        "unpriced": len(pairs) - len(estimates),
        "spend_unreported": len(pairs) - len(spends),
    }


FINAL_STATES = ("done", "stale", "failed")


@attrs.frozen
class FinalResult:
    """The final cut, if the storyboard asked for one.

    `status` is `done` (final.mp4 joins the current videos of `shots`, whose sha256s are
    `inputs`), `stale` (a shot has no video: there is no final.mp4, one left over was
    removed) or `failed` (joining them failed).
    """

    file: Path | None
    shots: tuple[str, ...]
    sha256: str | None = None
    bytes: int | None = None
    duration: float | None = None
    mode: str | None = None
    error: str | None = None
    status: str = attrs.field(default="done", validator=attrs.validators.in_(FINAL_STATES))
    inputs: tuple[str, ...] = ()
    # An edited cut: its options, the length they add up to, and its captions sidecar.
    options: Mapping[str, Any] | None = None
    expected_duration: float | None = None
    captions: Path | None = None


def _by_id(shots: Mapping[str, ShotResult] | Iterable[ShotResult]) -> Mapping[str, ShotResult]:
    """Shot results keyed by shot id, in storyboard order, read-only."""
    values = shots.values() if isinstance(shots, Mapping) else shots
    return MappingProxyType({s.shot_id: s for s in values})


def _state_counts(shots: Mapping[str, ShotResult]) -> dict[str, int]:
    return dict(collections.Counter(str(shot.status) for shot in shots.values()))


def _shots_repr(shots: Mapping[str, ShotResult]) -> str:
    """A run's shots in its repr: how many in each state. asyncio puts the repr of a task's
    result into messages (Python 3.11 builds one as the run ends), and the full repr of a
    2,000-shot run is almost 2 MB."""
    counts = _state_counts(shots).items()
    return f"<{len(shots)} shots" + "".join(f", {n} {state}" for state, n in counts) + ">"


def _ids_repr(ids: Sequence[str]) -> str:
    return f"<{len(ids)} shot ids>"


@attrs.frozen
class RunResult:
    """Everything one `vidpipe run` did; `result["shot"]` is one shot's result."""

    name: str
    storyboard: Path
    out_dir: Path
    run_id: int | None
    shots: Mapping[str, ShotResult] = attrs.field(converter=_by_id, repr=_shots_repr)
    final: FinalResult | None
    started_at: float
    finished_at: float
    manifest: Path | None = None
    report: Path | None = None
    # The last known state of the shots this run did not run (--only), in storyboard order.
    others: Mapping[str, ShotResult] = attrs.field(factory=dict, converter=_by_id, repr=_shots_repr)
    # The storyboard's shot order, and what is worth telling the user about this run.
    order: tuple[str, ...] = attrs.field(default=(), repr=_ids_repr)
    notes: tuple[str, ...] = ()
    # The variants of each written shot that has several (takes, matrix) and the one picked.
    variants: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    picks: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def final_status(self) -> str | None:
        """`done`, `stale` (a shot it needs has no video) or `failed`; None without one."""
        return None if self.final is None else self.final.status

    def storyboard_shots(self) -> list[ShotResult]:
        """Every shot of the storyboard, this run's and the others', in storyboard order."""
        every = {**self.others, **self.shots}
        order = list(self.order) or list(every)
        return [every[s] for s in order if s in every]

    @property
    def ok(self) -> bool:
        """Every shot run is done (or cached) and the final cut, if one was due, was made."""
        return all(s.ok for s in self.shots.values()) and self.final_status != "failed"

    @property
    def exit_code(self) -> int:
        """0 when every shot is done, 1 when a shot failed at the provider."""
        return 0 if self.ok else 1

    def __getitem__(self, shot_id: str) -> ShotResult:
        return self.shots[shot_id]

    @property
    def counts(self) -> dict[str, int]:
        """How many shots ended in each state, e.g. ``{"done": 3, "cached": 1}``."""
        return _state_counts(self.shots)

    @property
    def cost(self) -> dict[str, Any]:
        """What this run's creates were estimated to cost and were charged (`cost_totals`)."""
        return cost_totals(self.shots.values())

    def to_json(self) -> dict[str, Any]:
        """What `vidpipe run --json` prints."""
        return {
            "name": self.name,
            "notes": list(self.notes),
            "ok": self.ok,
            "exit_code": self.exit_code,
            "out_dir": str(self.out_dir),
            "manifest": str(self.manifest) if self.manifest else None,
            "report": str(self.report) if self.report else None,
            "run_id": self.run_id,
            "seconds": round(self.finished_at - self.started_at, 3),
            "counts": self.counts,
            "cost": self.cost,
            "shots": {shot_id: s.to_json() for shot_id, s in self.shots.items()},
            "final": None
            if self.final is None
            else {
                "status": self.final_status,
                "file": str(self.final.file) if self.final.file else None,
                "sha256": self.final.sha256,
                "bytes": self.final.bytes,
                "duration": self.final.duration,
                "error": self.final.error,
            },
        }


def _relative(path: Path | None, base: Path) -> str | None:
    if path is None:
        return None
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _write_atomic(path: Path, chunks: Iterable[bytes]) -> None:
    """Write `chunks` to `path` as they come (a large storyboard's manifest or report is
    never held whole in memory), then replace the file at once."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as f:
        f.writelines(chunks)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


_INDENTED = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS


def _indented(value: Any, depth: int = 0) -> bytes:
    """`value` as JSON indented by two spaces, its lines nested `depth` levels deep (a JSON
    text holds no raw newline but between its lines)."""
    try:
        text = orjson.dumps(value, option=_INDENTED)
    except orjson.JSONEncodeError:  # what orjson cannot write, as an integer past 64 bits
        text = json.dumps(value, indent=2, ensure_ascii=False).encode()
    return text.replace(b"\n", b"\n" + b"  " * depth)


def _json_chunks(doc: Mapping[str, Any], streamed: str) -> Iterator[bytes]:
    """`doc` laid out as `json.dumps(doc, indent=2, ensure_ascii=False)` lays it out, with
    `doc[streamed]` encoded one entry at a time: one shot's JSON at a time is in memory.
    Numbers are spelled by orjson: a small float's exponent has no leading zero (`1e-7`,
    where json writes `1e-07`), the same value when read."""
    for i, (key, value) in enumerate(doc.items()):
        yield (b",\n  " if i else b"{\n  ") + orjson.dumps(key) + b": "
        if key != streamed or not value:
            yield _indented(value, 1)
            continue
        for j, (name, entry) in enumerate(value.items()):
            yield (b",\n    " if j else b"{\n    ") + orjson.dumps(str(name)) + b": "
            yield _indented(entry, 2)
        yield b"\n  }"
    yield b"\n}\n" if doc else b"{}\n"


class _Entries(Mapping[str, Any]):
    """The manifest's `shots` member, each entry made when it is read: written one at a time
    (`_json_chunks`), 2,000 shots' entries are never all in memory (about 1 MB at once)."""

    def __init__(self, shots: Iterable[ShotResult], out_dir: Path) -> None:
        self._shots = {s.shot_id: s for s in shots}
        self._out_dir = out_dir

    def __getitem__(self, shot_id: str) -> dict[str, Any]:
        return self._shots[shot_id].manifest_entry(self._out_dir)

    def __iter__(self) -> Iterator[str]:
        return iter(self._shots)

    def __len__(self) -> int:
        return len(self._shots)


def manifest_json(result: RunResult, *, storyboard_seed: int | None) -> dict[str, Any]:
    """The manifest document for a run: the whole storyboard, paths relative to it. Its
    `shots` member makes each entry as it is read."""
    final = result.final
    return {
        "vidpipe": __version__,
        "name": result.name,
        "storyboard": _relative_path(result.storyboard, result.out_dir),
        "run_id": result.run_id,
        "seed": storyboard_seed,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(result.started_at)),
        "seconds": round(result.finished_at - result.started_at, 3),
        "ok": result.ok,
        "notes": list(result.notes),
        "cost": result.cost,
        "shots": _Entries(result.storyboard_shots(), result.out_dir),
        "variants": {base: list(group) for base, group in result.variants.items()},
        "picks": dict(result.picks),
        "final": None
        if final is None
        else {
            "status": final.status,
            "concat": list(final.shots),
            "file": _relative(final.file, result.out_dir),
            "sha256": final.sha256,
            "bytes": final.bytes,
            "duration": final.duration,
            "mode": final.mode,
            "inputs": list(final.inputs),
            "error": final.error,
            "expected_duration": final.expected_duration,
            "captions": _relative(final.captions, result.out_dir),
            "options": final.options,
        },
    }


def _relative_path(path: Path, base: Path) -> str:
    """`path` relative to `base`, even when it is not below it (``../board.yaml``)."""
    try:
        return Path(os.path.relpath(Path(path).absolute(), Path(base).absolute())).as_posix()
    except ValueError:  # another drive (Windows)
        return str(path)


def write_manifest(result: RunResult, *, storyboard_seed: int | None) -> Path:
    path = result.out_dir / "manifest.json"
    doc = manifest_json(result, storyboard_seed=storyboard_seed)
    _write_atomic(path, _json_chunks(doc, "shots"))
    return path


#: The report's contact sheets of takes and variants, below the output folder.
SHEETS_DIR = "sheets"


def _variant_sheets(result: RunResult) -> list[tuple[str, list[dict[str, Any]]]]:
    """For each shot with variants: each variant's label, video, contact sheet (first,
    middle and last frames, made once per video) and whether it is the one picked. Sheets
    of videos no longer shown are removed."""
    every = {s.shot_id: s for s in result.storyboard_shots()}
    folder = result.out_dir / SHEETS_DIR
    groups = []
    kept: set[str] = set()
    for base, group in result.variants.items():
        entries = []
        for vid in group:
            shot = every.get(vid)
            sheet = None
            if shot is not None and shot.ok and shot.file is not None and shot.sha256:
                name = f"{shot.sha256[:16]}.png"
                target = folder / name
                try:
                    if not target.is_file():
                        from .frames import contact_sheet  # PyAV, loaded only when needed

                        contact_sheet(shot.file, target)
                except FrameError:
                    pass  # the video plays in the report all the same
                else:
                    sheet = f"{SHEETS_DIR}/{name}"
                    kept.add(name)
            entries.append(
                {
                    "id": vid,
                    "label": vid[len(base) + 1 : -1],
                    "shot": shot,
                    "file": _relative(shot.file, result.out_dir) if shot else None,
                    "sheet": sheet,
                    "picked": result.picks.get(base) == vid,
                }
            )
        groups.append((base, entries))
    if folder.is_dir():
        for old in folder.glob("*.png"):
            if old.name not in kept:
                old.unlink(missing_ok=True)
    return groups


_REPORT = jinja2.Environment(
    loader=jinja2.PackageLoader("vidpipe", "."),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def write_report(result: RunResult, shots: Sequence[ShotResult] | None = None) -> Path:
    """A self-contained report.html beside the videos (they play inline): every shot of
    the storyboard in its order, with the timings of the run that made it."""
    path = result.out_dir / "report.html"
    template = _REPORT.get_template("report.html.j2")
    chunks = template.generate(
        result=result,
        shots=[
            (s, _relative(s.file, result.out_dir), _indented(s.request).decode())
            for s in (shots or result.storyboard_shots())
        ],
        final_file=_relative(result.final.file, result.out_dir) if result.final else None,
        variants=_variant_sheets(result),
        escape=html.escape,
        usd=dollars,
        version=__version__,
    )
    _write_atomic(path, map(str.encode, chunks))
    return path
