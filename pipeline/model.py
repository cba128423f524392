"""The frozen, validated storyboard model.

`vidpipe.loading` builds these from a file, text or a dict; nothing else should need to
construct them by hand except tests. Every type is immutable: mappings are `FrozenDict` (a dict
subclass, so `json.dumps` still works) and sequences are tuples.

Each shot remembers where its values came from (`Shot.lines`, 1-based lines in
`Storyboard.source`), so later checks, such as validation against a provider spec, can
point at the exact line of a bad value, including values inherited from `defaults`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NoReturn

import attrs

#: `base_url` value (and the default) meaning the in-process emulator.
EMBEDDED = "embedded"


class FrozenDict(dict[str, Any]):
    """A read-only, hashable dict. JSON-serialisable like any dict."""

    __slots__ = ()

    def _readonly(self, *args: object, **kwargs: object) -> NoReturn:
        raise TypeError(f"{type(self).__name__} is read-only")

    __setitem__ = _readonly
    __delitem__ = _readonly
    __ior__ = _readonly
    clear = _readonly
    pop = _readonly
    popitem = _readonly
    setdefault = _readonly
    update = _readonly

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[type[FrozenDict], tuple[dict[str, Any]]]:
        return (type(self), (dict(self),))

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"


def freeze(value: Any) -> Any:
    """Return a deeply immutable copy: dicts become FrozenDict, lists and tuples tuples."""
    if isinstance(value, Mapping):
        return FrozenDict((str(k), freeze(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Return a plain mutable copy (dicts and lists) of a frozen value."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


def _frozen_mapping(value: Mapping[str, Any]) -> FrozenDict:
    return value if isinstance(value, FrozenDict) else freeze(value)


def _int_mapping(value: Mapping[str, int]) -> FrozenDict:
    return FrozenDict(value)


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class ProviderConfig:
    """One entry of `providers:`. The API key is kept out of repr and str."""

    name: str
    api: str
    base_url: str = EMBEDDED
    api_key: str = attrs.field(default="", repr=False)
    # Tasks in flight at once on this provider; None: only the run's --concurrency applies.
    concurrency: int | None = None
    rate: float | None = None  # requests per second to the API origin; None: no limit
    # Result URLs on loopback, private, link-local or metadata addresses are downloaded
    # even when base_url is not on one (see `vidpipe.resulturls`).
    allow_private_urls: bool = False
    #: What models cost on this provider, over its spec's prices (`vidpipe.pricing.Price`).
    prices: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=FrozenDict)
    line: int | None = None
    lines: Mapping[str, int] = attrs.field(factory=FrozenDict, converter=_int_mapping, eq=False)

    @property
    def is_embedded(self) -> bool:
        """True when requests go to the in-process emulator instead of a URL."""
        return self.base_url == EMBEDDED


@attrs.frozen
class FrameRef:
    """`image: {shot: establish, frame: last}`: a frame of another shot's video, sent as
    this shot's image. `frame` is "first", "last" or a time in seconds from the start."""

    shot: str
    frame: str | float = "last"

    def describe(self) -> str:
        """ "the last frame of establish", "the frame at 2.5 s of establish"."""
        if isinstance(self.frame, str):
            return f"the {self.frame} frame of {self.shot}"
        return f"the frame at {self.frame:g} s of {self.shot}"


@attrs.frozen(kw_only=True)
class Shot:
    """One shot, with defaults applied and its prompt already rendered.

    `duration` unifies `seconds` and `duration`. `seed` is the explicit seed (from the
    shot or `defaults`), or None; a seed derived from the master seed is the request
    builder's business (`vidpipe.fingerprint.derive_seed`). `image` is an absolute Path for local files, or the URL string. `vars` are the
    variables the prompt was rendered with. `lines` maps field names (and
    `params.<key>`, `vars.<key>`) to the 1-based line they were written on. `image` is a
    `FrameRef` when it is a frame of another shot's video (that shot is in `depends_on`).
    """

    id: str
    index: int
    provider: str
    prompt: str
    model: str | None = None
    template: str | None = None
    vars: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=_frozen_mapping)
    duration: int | float | None = None
    size: str | None = None
    resolution: str | None = None
    ratio: str | None = None
    seed: int | None = None
    image: Path | str | FrameRef | None = None
    remix: str | None = None
    params: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=_frozen_mapping)
    line: int | None = None
    depends_on: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    lines: Mapping[str, int] = attrs.field(factory=FrozenDict, converter=_int_mapping, eq=False)
    #: A variant of a written shot (`takes:`, `matrix:`): that shot's id, the variant's
    #: label ("take=2", "model=veo3"), its take number, and the id its seed derives from.
    base: str | None = None
    label: str | None = None
    take: int | None = None
    seed_key: str | None = None

    @property
    def image_is_local(self) -> bool:
        """True when `image` is a local file (to upload or inline), not a URL."""
        return isinstance(self.image, Path)

    @property
    def frame_of(self) -> FrameRef | None:
        """The frame of another shot this shot takes as its image, if it does."""
        return self.image if isinstance(self.image, FrameRef) else None


@attrs.frozen
class Clip:
    """One item of `final.concat` with its options: the part of the shot's video kept
    (`start` to `end`, seconds; None: its start or its end), the crossfade from the clip
    before into this one (None: the cut's own), and its caption."""

    shot: str
    start: float | None = None
    end: float | None = None
    crossfade: float | None = None
    caption: str | None = None


def _clip_tuple(value: Iterable[Clip]) -> tuple[Clip, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class FinalCut:
    """`final: {concat: [...]}`: the shots joined, in order, into the final video.

    `clips` are the items of `concat` with their options. The cut's own options: output
    `size` ("1280x720") and `fps`, the `crossfade` between clips (seconds), `audio`
    ("keep", "mute" or "music"; with `music` a file mixed under at `music_volume`), and
    `captions` ("vtt" or "srt": a sidecar of the clips' captions), `burn_captions` (written
    into the picture too). Without any, the shots
    are joined as they are (stream copy where they match).
    """

    concat: tuple[str, ...] = attrs.field(converter=_str_tuple)
    line: int | None = None
    clips: tuple[Clip, ...] = attrs.field(default=(), converter=_clip_tuple)
    size: str | None = None
    fps: float | None = None
    crossfade: float = 0.0
    audio: str = "keep"
    music: Path | None = None
    music_volume: float = 0.3
    captions: str | None = None
    burn_captions: bool = False

    @property
    def edited(self) -> bool:
        """True when the cut has options beyond joining (it is then always re-encoded)."""
        plain = all(c == Clip(c.shot) for c in self.clips)
        return not plain or bool(
            self.size
            or self.fps
            or self.crossfade
            or self.audio != "keep"
            or self.captions
            or self.burn_captions
        )

    def options(self) -> dict[str, Any]:
        """The options as plain data (recorded in the manifest, part of the cut's inputs)."""
        return {
            "clips": [attrs.asdict(c) for c in self.clips],
            "size": self.size,
            "fps": self.fps,
            "crossfade": self.crossfade,
            "audio": self.audio,
            "music": self.music.name if self.music else None,
            "music_volume": self.music_volume,
            "captions": self.captions,
            "burn_captions": self.burn_captions,
        }


def _path_tuple(value: Iterable[Path]) -> tuple[Path, ...]:
    return tuple(value)


def _shot_tuple(value: Iterable[Shot]) -> tuple[Shot, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Storyboard:
    """A loaded storyboard. `path` and `base_dir` are absolute; `source` is the file
    name as the user gave it, for messages (use it as `Problem.file`)."""

    path: Path
    base_dir: Path
    name: str
    version: int = 1
    seed: int | None = None
    providers: Mapping[str, ProviderConfig] = attrs.field(
        factory=FrozenDict, converter=_frozen_mapping
    )
    defaults: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=_frozen_mapping)
    vars: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=_frozen_mapping)
    shots: tuple[Shot, ...] = attrs.field(default=(), converter=_shot_tuple)
    final: FinalCut | None = None
    #: The storyboard's own folders of specs (`specs:`), absolute.
    spec_dirs: tuple[Path, ...] = attrs.field(default=(), converter=_path_tuple)
    #: The prices of the storyboard's prices file (`prices:`), for every provider.
    prices: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=FrozenDict)
    #: `budget: {usd: N}`: the most a run may spend, or None.
    budget: float | None = None
    #: `assets:`: named reference images (`image: "@name"`), each a local Path or a URL.
    assets: Mapping[str, Path | str] = attrs.field(factory=FrozenDict, converter=FrozenDict)
    source: str = attrs.field(default="", eq=False)
    #: The variant ids of each written shot that has several (`takes:`, `matrix:`), and the
    #: one picked for each (the lock file, else the first).
    variants: Mapping[str, tuple[str, ...]] = attrs.field(factory=FrozenDict, converter=FrozenDict)
    picks: Mapping[str, str] = attrs.field(factory=FrozenDict, converter=FrozenDict)
    _by_id: Mapping[str, Shot] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_id", FrozenDict((s.id, s) for s in self.shots))
        if not self.source:
            object.__setattr__(self, "source", str(self.path))

    def shot(self, shot_id: str) -> Shot:
        """The shot with this id; KeyError if there is none."""
        try:
            return self._by_id[shot_id]
        except KeyError:
            raise KeyError(f"no shot {shot_id!r} in storyboard {self.name!r}") from None

    @property
    def shot_ids(self) -> tuple[str, ...]:
        """Shot ids in file order."""
        return tuple(s.id for s in self.shots)

    def expand(self, ids: Iterable[str]) -> list[str]:
        """Shot ids with each written shot that has variants replaced by all of them."""
        return [v for i in ids for v in self.variants.get(i, (i,))]

    def provider_for(self, shot: Shot) -> ProviderConfig:
        """The provider config a shot runs on."""
        return self.providers[shot.provider]
