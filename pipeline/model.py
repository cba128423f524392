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
    line: int | None = None
    lines: Mapping[str, int] = attrs.field(factory=FrozenDict, converter=_int_mapping, eq=False)

    @property
    def is_embedded(self) -> bool:
        """True when requests go to the in-process emulator instead of a URL."""
        return self.base_url == EMBEDDED


@attrs.frozen(kw_only=True)
class Shot:
    """One shot, with defaults applied and its prompt already rendered.

    `duration` unifies `seconds` and `duration`. `seed` is the explicit seed (from the
    shot or `defaults`), or None; a seed derived from the master seed is the request
    builder's business (`vidpipe.fingerprint.derive_seed`). `image` is an absolute Path for local files, or the URL string. `vars` are the
    variables the prompt was rendered with. `lines` maps field names (and
    `params.<key>`, `vars.<key>`) to the 1-based line they were written on.
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
    image: Path | str | None = None
    remix: str | None = None
    params: Mapping[str, Any] = attrs.field(factory=FrozenDict, converter=_frozen_mapping)
    line: int | None = None
    depends_on: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    lines: Mapping[str, int] = attrs.field(factory=FrozenDict, converter=_int_mapping, eq=False)

    @property
    def image_is_local(self) -> bool:
        """True when `image` is a local file (to upload or inline), not a URL."""
        return isinstance(self.image, Path)


@attrs.frozen(kw_only=True)
class FinalCut:
    """`final: {concat: [...]}`: the shots joined, in order, into the final video."""

    concat: tuple[str, ...] = attrs.field(converter=_str_tuple)
    line: int | None = None


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
    source: str = attrs.field(default="", eq=False)
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

    def provider_for(self, shot: Shot) -> ProviderConfig:
        """The provider config a shot runs on."""
        return self.providers[shot.provider]
