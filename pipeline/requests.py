"""From a shot to the exact create request its API receives, checked against the spec.

A shot speaks vidpipe's unified names (prompt, duration, size or resolution and ratio, seed,
image, remix). The spec's `x-vidpipe.fields` says where each lands in the create call; the
create schema says what values are allowed. Everything is checked here, before anything is
sent, and every problem names the storyboard line it came from.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import math
import mimetypes
from collections.abc import Callable, Mapping
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .errors import InputError, Problem, SpecError
from .fingerprint import derive_seed, sha256_file
from .limits import MAX_PROMPT_CHARS
from .media import ImageInfo, ImageRules, NotAnImage, image_of_data_url, image_of_file
from .model import FrameRef, Shot, Storyboard, thaw
from .specs import Spec, SpecRegistry, schema_types

if TYPE_CHECKING:
    import jsonschema

RESERVED_PARAMS = frozenset({"model", "prompt"})


@attrs.frozen
class LocalFile:
    """A local file sent with a request (as a file part or inlined as a data: URL)."""

    path: Path
    sha256: str
    mime: str
    size: int

    @classmethod
    def of(cls, path: Path, mime: str | None = None) -> LocalFile:
        """The file as it is now (hashed once while its size and time stay the same).

        `mime` is its media type as read from its bytes; without it, guessed from its name.
        """
        mime = mime or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        stat = path.stat()
        return cls(path, _digest(path, stat.st_size, stat.st_mtime_ns), mime, stat.st_size)

    def public(self) -> dict[str, Any]:
        """What manifests and the ledger record in place of the bytes."""
        return {"file": self.path.name, "sha256": self.sha256, "bytes": self.size}


@functools.lru_cache(maxsize=64)
def image_rules(spec: Spec) -> ImageRules:
    """What `spec`'s API accepts as an input image (`x-vidpipe.image`, else the defaults)."""
    extension = spec.doc.get("x-vidpipe", {}).get("image")
    try:
        return ImageRules.from_extension(extension)
    except ValueError as exc:
        raise SpecError(str(exc), spec=spec.name) from None


def prompt_limit(spec: Spec, field: str, content_type: str | None = None) -> int:
    """The longest prompt `spec` takes: its field's `maxLength`, else `MAX_PROMPT_CHARS`."""
    schema = spec.field_schema(field, content_type)
    if schema.get("type") == "array":  # a content item list: the text item's own limit
        item = schema.get("items", {})
        schema = item.get("properties", {}).get("text", {}) if isinstance(item, dict) else {}
    limit = schema.get("maxLength")
    return limit if isinstance(limit, int) and limit > 0 else MAX_PROMPT_CHARS


@functools.lru_cache(maxsize=256)
def _digest(path: Path, size: int, mtime_ns: int) -> str:
    # `size` and `mtime_ns` make a changed file a new key. Many shots often share one image;
    # adapters check the digest again when they send it.
    return sha256_file(path)


@attrs.frozen
class CreateRequest:
    """One shot's create call, resolved: API fields, files, and how a remix is sent."""

    shot_id: str
    spec: Spec
    model: str
    fields: Mapping[str, Any]
    files: Mapping[str, LocalFile]
    content_type: str
    remix_of: str | None = None
    remix_via: str | None = None
    remix_field: str | None = None
    seed: int | None = None
    seed_sent: bool = False
    #: The frame of another shot this shot sends as its image (a placeholder stands in
    #: for it until `with_frame` puts the extracted frame in its place).
    frame_of: FrameRef | None = None

    @property
    def source_of(self) -> str | None:
        """The shot this one builds on (its remix source, or the shot of its frame image)."""
        return self.remix_of or (self.frame_of.shot if self.frame_of else None)

    def public_fields(self) -> dict[str, Any]:
        """The fields with local files replaced by their name and digest (JSON-safe)."""
        public: dict[str, Any] = _replace_files(dict(self.fields), LocalFile.public)
        return public | {k: f.public() for k, f in self.files.items()}

    def fingerprint_fields(self) -> dict[str, Any]:
        """The fields with local files replaced by their digest alone (a renamed file with
        the same bytes is the same request)."""
        fields: dict[str, Any] = _replace_files(dict(self.fields), lambda f: {"sha256": f.sha256})
        return fields

    def file_digests(self) -> dict[str, str]:
        """Every local file the request carries, by field, as sha256 (for fingerprints)."""
        digests = {k: f.sha256 for k, f in self.files.items()}
        for path, value in _walk(dict(self.fields), ""):
            if isinstance(value, LocalFile):
                digests[path] = value.sha256
        return digests


def _replace_files(value: Any, replace: Callable[[LocalFile], Any]) -> Any:
    """`value` with every LocalFile inside it (at any depth) replaced by `replace(file)`."""
    if isinstance(value, LocalFile):
        return replace(value)
    if isinstance(value, Mapping):
        return {k: _replace_files(v, replace) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_replace_files(v, replace) for v in value]
    return value


def _walk(value: Any, path: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [item for k, v in value.items() for item in _walk(v, f"{path}.{k}".lstrip("."))]
    if isinstance(value, list):
        return [item for i, v in enumerate(value) for item in _walk(v, f"{path}[{i}]")]
    return [(path, value)]


def _match_case(value: str, options: list[str] | None) -> str:
    """`value` spelled as the spec spells it (720p vs 720P), when it matches one."""
    for option in options or ():
        if isinstance(option, str) and option.lower() == value.lower():
            return option
    return value


def _parse_size(size: str) -> tuple[int, int] | None:
    width, sep, height = size.lower().partition("x")
    if sep and width.isdigit() and height.isdigit() and int(width) and int(height):
        return int(width), int(height)
    return None


def _size_from(resolution: str, ratio: str | None) -> str | None:
    """`720p` + `16:9` -> `1280x720` (the short side is the resolution's number)."""
    digits = resolution.lower().rstrip("p")
    if not digits.isdigit():
        return None
    short = int(digits)
    w, _, h = (ratio or "16:9").partition(":")
    if not (w.isdigit() and h.isdigit()) or not int(w) or not int(h):
        return None
    frac = Fraction(int(w), int(h))
    if frac >= 1:
        return f"{round(short * frac)}x{short}"
    return f"{short}x{round(short / frac)}"


class _Builder:
    def __init__(
        self, storyboard: Storyboard, shot: Shot, spec: Spec, source_spec: Spec | None = None
    ) -> None:
        self.storyboard = storyboard
        self.shot = shot
        self.spec = spec
        self.source_spec = source_spec  # the spec of the shot this one remixes
        self.problems: list[Problem] = []
        self.fields: dict[str, Any] = {}
        self.files: dict[str, LocalFile] = {}
        self.origin: dict[str, str] = {}  # API field -> unified name (for error lines)
        self.reported: set[str] = set()  # unified names that already have a problem

    def line(self, key: str) -> int | None:
        return self.shot.lines.get(key, self.shot.line)

    def problem(self, message: str, key: str) -> None:
        self.reported.add(key)
        self.problems.append(
            Problem(f"shot {self.shot.id!r}: {message}", self.storyboard.source, self.line(key))
        )

    def where(self) -> str:
        return f"{self.shot.model} on {self.spec.api} ({self.spec.name})"

    def rule(self, unified: str) -> Any:
        rule = self.spec.fields.get(unified)
        if rule is None:
            self.problem(f"{self.where()} takes no {unified}", unified)
        return rule

    def put(self, unified: str, field: str, value: Any) -> None:
        self.fields[field] = value
        self.origin[field] = unified

    def content_item(self, item: dict[str, Any], field: str, unified: str) -> None:
        self.fields.setdefault(field, []).append(item)
        self.origin.setdefault(field, unified)

    def prompt(self) -> None:
        rule = self.rule("prompt")
        if rule is None:
            return
        limit = prompt_limit(self.spec, rule.field)
        if len(self.shot.prompt) > limit:
            self.problem(
                f"the prompt is {len(self.shot.prompt):,} characters; {self.where()} takes at "
                f"most {limit:,}",
                "prompt" if "prompt" in self.shot.lines else "template",
            )
            self.reported.add("prompt")
            return
        if rule.form == "text-item":
            self.content_item({"type": "text", "text": self.shot.prompt}, rule.field, "prompt")
        else:
            self.put("prompt", rule.field, self.shot.prompt)

    def duration(self, content_type: str) -> None:
        value = self.shot.duration
        if value is None:
            return
        rule = self.rule("duration")
        if rule is None:
            return
        kinds = schema_types(self.spec.field_schema(rule.field, content_type))
        if isinstance(value, float) and not value.is_integer():
            if "number" not in kinds:
                self.problem(f"{self.where()} takes whole seconds, not {value}", "duration")
                return
        elif isinstance(value, float):
            value = int(value)
        if "integer" in kinds or "number" in kinds:
            self.put("duration", rule.field, value)
        else:
            self.put("duration", rule.field, str(value))

    def geometry(self) -> None:
        shot = self.shot
        if shot.size is None and shot.resolution is None and shot.ratio is None:
            return
        size_rule = self.spec.fields.get("size")
        res_rule = self.spec.fields.get("resolution")
        ratio_rule = self.spec.fields.get("ratio")
        if size_rule is not None:
            size = shot.size
            key = "size"
            if size is None and shot.resolution is not None:
                size = _size_from(shot.resolution, shot.ratio)
                key = "resolution"
                if size is None:
                    self.problem(f"cannot turn resolution {shot.resolution!r} into a size", key)
                    return
            elif size is None:
                self.problem(f"{self.where()} takes a size (WxH), not only a ratio", "ratio")
                return
            self.put(key, size_rule.field, size)
            return
        if res_rule is None and ratio_rule is None:
            key = "size" if shot.size is not None else "resolution"
            self.problem(f"{self.where()} takes no size, resolution or ratio", key)
            return
        resolution, ratio = shot.resolution, shot.ratio
        if shot.size is not None and (resolution is None or ratio is None):
            parsed = _parse_size(shot.size)
            if parsed is None:
                self.problem(f"size {shot.size!r} is not WIDTHxHEIGHT", "size")
                return
            w, h = parsed
            frac = Fraction(w, h)
            resolution = resolution or f"{min(w, h)}p"
            ratio = ratio or f"{frac.numerator}:{frac.denominator}"
        for unified, rule, value in (
            ("resolution", res_rule, resolution),
            ("ratio", ratio_rule, ratio),
        ):
            if value is None:
                continue
            if rule is None:
                self.problem(f"{self.where()} takes no {unified}", unified)
                continue
            enum = self.spec.field_schema(rule.field).get("enum")
            key = unified if getattr(shot, unified) is not None else "size"
            self.put(key, rule.field, _match_case(value, enum))

    def seed(self) -> tuple[int | None, bool]:
        explicit = self.shot.seed
        rule = self.spec.fields.get("seed")
        if explicit is not None and rule is None:
            self.problem(
                f"{self.where()} takes no seed; remove `seed` (the result is not "
                "seed-reproducible on this API)",
                "seed",
            )
            return explicit, False
        seed = explicit
        key = self.shot.seed_key or self.shot.id  # a later take's seed is its own
        maximum = (self.spec.field_schema(rule.field).get("maximum") if rule else None) or 2**31 - 1
        if seed is None and self.storyboard.seed is not None:
            seed = derive_seed(self.storyboard.seed, key, maximum=maximum)
        elif seed is not None and key != (self.shot.base or self.shot.id):
            seed = derive_seed(seed, key, maximum=maximum)
        if rule is not None and seed is not None:
            self.put("seed", rule.field, seed)
            return seed, True
        return seed, False

    def image(self) -> None:
        image = self.shot.image
        if image is None:
            return
        rule = self.rule("image")
        if rule is None:
            return
        ref: Any
        info: ImageInfo | None = None
        if isinstance(image, FrameRef):
            # Known once the source's video is: a stand-in the same on every run.
            frame = str(image.frame)
            stand_in = hashlib.sha256(f"frame {frame} of the source".encode()).hexdigest()
            ref = LocalFile(Path(f"{image.shot}.{frame}.png"), stand_in, "image/png", 0)
        elif isinstance(image, Path):
            try:
                info = image_of_file(image)
                ref = LocalFile.of(image, info.mime)
            except NotAnImage as exc:
                self.problem(f"image {self.shown(image)}: {exc}", "image")
                return
            except OSError as exc:
                self.problem(f"cannot read image {image}: {exc.strerror}", "image")
                return
        else:
            ref = image
            if image.lower().startswith("data:"):
                try:
                    info = image_of_data_url(image)
                except NotAnImage as exc:
                    self.problem(f"image: {exc}", "image")
                    return
        if (
            info is not None
            and not isinstance(image, FrameRef)
            and not self.image_fits(info, image)
        ):
            return
        if rule.form == "file":
            if not isinstance(ref, LocalFile):
                self.problem(
                    f"{self.where()} takes the image as an uploaded file; give a local path",
                    "image",
                )
                return
            self.files[rule.field] = ref
            self.origin[rule.field] = "image"
        elif rule.form == "image-item":
            item = {"type": "image_url", "image_url": {"url": ref}, "role": "reference_image"}
            self.content_item(item, rule.field, "image")
        else:
            self.put("image", rule.field, ref)

    def shown(self, path: Path) -> str:
        """A local file as the storyboard names it: relative to its folder when inside it."""
        try:
            return str(path.relative_to(self.storyboard.base_dir))
        except ValueError:
            return str(path)

    def image_fits(self, info: ImageInfo, image: Path | str) -> bool:
        """Whether the API takes this image; a problem per reason when it does not."""
        found = image_rules(self.spec).problems(info)
        name = self.shown(image) if isinstance(image, Path) else "(data: URL)"
        for reason in found:
            self.problem(f"image {name} ({info.summary()}): {reason} ({self.where()})", "image")
        return not found

    def remix(self) -> tuple[str | None, str | None]:
        source = self.shot.remix
        if source is None:
            return None, None
        via = self.spec.remix_via
        if via is None:
            self.problem(f"{self.where()} cannot remix a video", "remix")
            return None, None
        other = self.storyboard.shot(source)
        if other.provider != self.shot.provider:
            self.problem(
                f"remixes {source!r}, which runs on provider {other.provider!r}; a remix must "
                f"use the same provider ({self.shot.provider!r})",
                "remix",
            )
        elif self.source_spec is not None and self.source_spec.family != self.spec.family:
            theirs = f"{other.model} on {self.source_spec.api} ({self.source_spec.name})"
            self.problem(
                f"remixes {source!r}, made by {theirs}, whose tasks {self.where()} cannot "
                f"reference: a remix source must come from the same API family "
                f"({self.spec.family})",
                "remix",
            )
        if via == "create-field":
            rule = self.rule("remix")
            return via, rule.field if rule else None
        return via, None

    def params(self, content_type: str) -> None:
        props = self.spec.create_schema(content_type).get("properties", {})
        for key, value in self.shot.params.items():
            where = f"params.{key}"
            if key in RESERVED_PARAMS:
                self.problem(f"params.{key} is set by vidpipe; use the shot's `{key}`", where)
            elif key not in props:
                hint = difflib.get_close_matches(key, list(props), n=1)
                extra = f"; did you mean {hint[0]!r}?" if hint else ""
                self.problem(f"{self.where()} has no field {key!r}{extra}", where)
            else:
                self.fields[key] = thaw(value)
                self.origin[key] = where

    def check(self, content_type: str) -> None:
        probe = {k: _probe_value(v) for k, v in self.fields.items()}
        probe.update({k: "file" for k in self.files})
        validator = self.spec.create_validator(content_type)
        for error in sorted(validator.iter_errors(probe), key=lambda e: list(e.absolute_path)):
            field = str(error.absolute_path[0]) if error.absolute_path else None
            if error.validator == "required":
                missing = error.message.split("'")[1] if "'" in error.message else error.message
                rules = self.spec.fields.values()
                if any(r.field == missing and r.unified in self.reported for r in rules):
                    continue  # left out because its value was already reported
                hint = "image" if missing in {r.field for r in self._image_rules()} else missing
                self.problem(f"{self.where()} requires {hint!r}", "line")
                continue
            key = self.origin.get(field or "", "line")
            if key in self.reported:
                continue
            shown = field if field else "request"
            self.problem(f"{shown}: {_short(error)}", key)

    def _image_rules(self) -> list[Any]:
        rule = self.spec.fields.get("image")
        return [rule] if rule else []


def _probe_value(value: Any) -> Any:
    """A value as the schema sees it: local files become the URL or bytes they turn into."""
    if isinstance(value, LocalFile):
        return f"data:{value.mime};base64,"
    if isinstance(value, dict):
        return {k: _probe_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_probe_value(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _short(error: jsonschema.ValidationError) -> str:
    """A one-line jsonschema message; enums list their options."""
    if error.validator == "enum":
        options = ", ".join(str(v) for v in error.validator_value)
        return f"{error.instance!r} is not one of: {options}"
    if error.validator in {"minimum", "maximum"}:
        lo = error.schema.get("minimum")
        hi = error.schema.get("maximum")
        if lo is not None and hi is not None:
            return f"{error.instance!r} is out of range {lo}..{hi}"
    if error.validator == "anyOf":
        return f"{error.instance!r} is not an accepted value"
    return str(error.message).splitlines()[0]


def _source_spec(storyboard: Storyboard, shot: Shot, registry: SpecRegistry) -> Spec | None:
    """The spec of the shot `shot` remixes (None without a remix, or when it has no spec)."""
    if shot.remix is None:
        return None
    try:
        source = storyboard.shot(shot.remix)
    except KeyError:
        return None
    api = storyboard.provider_for(source).api
    return registry.find(api, source.model) if source.model else None


def build_request(storyboard: Storyboard, shot: Shot, registry: SpecRegistry) -> CreateRequest:
    """The create request for one shot; raises InputError listing every problem."""
    provider = storyboard.provider_for(shot)
    source = storyboard.source
    if not shot.model:
        raise InputError(
            Problem(f"shot {shot.id!r}: no model (set it or defaults.model)", source, shot.line)
        )
    spec = registry.find(provider.api, shot.model)
    if spec is None:
        offered = registry.models(provider.api)
        hint = difflib.get_close_matches(shot.model, offered, n=1)
        more = f"; did you mean {hint[0]!r}?" if hint else f"; it offers: {', '.join(offered)}"
        line = shot.lines.get("model", shot.line)
        raise InputError(
            Problem(
                f"shot {shot.id!r}: api {provider.api!r} has no model {shot.model!r}{more}",
                source,
                line,
            )
        )
    return _build(storyboard, shot, spec, _source_spec(storyboard, shot, registry))


def with_frame(storyboard: Storyboard, req: CreateRequest, frame: Path) -> CreateRequest:
    """`req` with the frame image it was waiting for (a file extracted from its source's
    video) in place of the stand-in; InputError when the API does not take that image."""
    shot = attrs.evolve(storyboard.shot(req.shot_id), image=frame)
    resolved = _build(storyboard, shot, req.spec, None)
    return attrs.evolve(resolved, frame_of=req.frame_of)


def _build(
    storyboard: Storyboard, shot: Shot, spec: Spec, source_spec: Spec | None
) -> CreateRequest:
    b = _Builder(storyboard, shot, spec, source_spec)
    model = str(shot.model)  # build_request refused a shot without one
    b.put("model", "model", model)
    b.prompt()
    b.image()
    content_type = spec.create_content_type
    if b.files and spec.upload_content_type:
        content_type = spec.upload_content_type
    b.duration(content_type)
    b.geometry()
    seed, seed_sent = b.seed()
    remix_via, remix_field = b.remix()
    b.params(content_type)
    b.check(content_type)
    if b.problems:
        raise InputError(b.problems)
    return CreateRequest(
        shot_id=shot.id,
        spec=spec,
        model=model,
        fields=b.fields,
        files=b.files,
        content_type=content_type,
        remix_of=shot.remix,
        remix_via=remix_via,
        remix_field=remix_field,
        seed=seed,
        seed_sent=seed_sent,
        frame_of=shot.frame_of,
    )


def build_requests(storyboard: Storyboard, registry: SpecRegistry) -> dict[str, CreateRequest]:
    """Every shot's create request, or one InputError with all problems of all shots."""
    requests: dict[str, CreateRequest] = {}
    problems: list[Problem] = []
    for shot in storyboard.shots:
        try:
            requests[shot.id] = build_request(storyboard, shot, registry)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return requests
