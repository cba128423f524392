"""What a validated create request asks the emulator to render: prompt, seed, size,
duration, frame rate, reference image and remix source, read through the spec's
``x-vidpipe.fields`` and defaults."""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

import attrs

from ..specs import Spec
from .bodies import FilePart
from .config import EmulatorConfig
from .problems import RequestProblem
from .render import MAX_DIMENSION, MIN_DIMENSION, RENDER_FPS
from .render_jobs import Scene

__all__ = ["Requested", "decode_data_url", "interpret"]


@attrs.frozen(kw_only=True)
class Requested(Scene):
    """What a validated create request asks the emulator to render, and whether it names
    a video to remix or gives an image."""

    remix_of: str | None = None
    has_image: bool = False


def _rule(spec: Spec, unified: str) -> tuple[str | None, str]:
    rule = spec.fields.get(unified)
    return (rule.field, rule.form) if rule is not None else (None, "value")


def _default(spec: Spec, field: str | None, content_type: str) -> Any:
    if field is None:
        return None
    try:
        return spec.field_schema(field, content_type).get("default")
    except Exception:
        return None


_SIZE_RE = re.compile(r"^\s*(\d+)\s*[xX*\u00d7]\s*(\d+)\s*$")
_RESOLUTION_RE = re.compile(r"^\s*(\d+)\s*[pP]\s*$")
_NAMED_RESOLUTIONS = {"2k": 1440, "4k": 2160, "8k": 4320}
_RATIO_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$")


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def _short_side(text: str, param: str) -> int:
    named = _NAMED_RESOLUTIONS.get(text.strip().lower())
    if named:
        return named
    match = _RESOLUTION_RE.match(text)
    if not match:
        raise RequestProblem(f"Unsupported resolution {text!r}.", param=param)
    return int(match.group(1))


def _by_resolution(
    resolution: str, ratio: str, res_param: str, ratio_param: str
) -> tuple[int, int]:
    short = _short_side(resolution, res_param)
    match = _RATIO_RE.match(ratio or "")
    across, down = (float(match.group(1)), float(match.group(2))) if match else (16.0, 9.0)
    if not match and ratio and ratio.strip().lower() != "adaptive":
        raise RequestProblem(f"Unsupported ratio {ratio!r}.", param=ratio_param)
    if across <= 0 or down <= 0:
        raise RequestProblem(f"Unsupported ratio {ratio!r}.", param=ratio_param)
    if across >= down:
        return _even(short * across / down), short
    return short, _even(short * down / across)


def _size(
    spec: Spec, fields: Mapping[str, Any], ctype: str, config: EmulatorConfig
) -> tuple[int, int]:
    width, height = fields.get("width"), fields.get("height")
    if width is not None or height is not None:
        if not (isinstance(width, int) and isinstance(height, int)) or isinstance(width, bool):
            raise RequestProblem("Give both width and height as integers.", param="width")
        return width, height
    size_field = _rule(spec, "size")[0] or "size"
    res_field = _rule(spec, "resolution")[0] or "resolution"
    ratio_field = _rule(spec, "ratio")[0] or "ratio"
    size = fields.get(size_field)
    if isinstance(size, str):
        return _parse_size(size, size_field, ratio_field, res_field)
    resolution, ratio = fields.get(res_field), fields.get(ratio_field)
    if isinstance(resolution, str) or isinstance(ratio, str):
        resolution = resolution if isinstance(resolution, str) else _default(spec, res_field, ctype)
        ratio = ratio if isinstance(ratio, str) else _default(spec, ratio_field, ctype)
        return _by_resolution(str(resolution or "720p"), str(ratio or ""), res_field, ratio_field)
    default_size = _default(spec, size_field, ctype)
    if isinstance(default_size, str):
        return _parse_size(default_size, size_field, ratio_field, res_field)
    resolution, ratio = _default(spec, res_field, ctype), _default(spec, ratio_field, ctype)
    if isinstance(resolution, str) or isinstance(ratio, str):
        return _by_resolution(str(resolution or "720p"), str(ratio or ""), res_field, ratio_field)
    return _parse_size(config.default_size, size_field, ratio_field, res_field)


def _parse_size(text: str, param: str, ratio_field: str, res_field: str) -> tuple[int, int]:
    match = _SIZE_RE.match(text)
    if match:
        return int(match.group(1)), int(match.group(2))
    if _RESOLUTION_RE.match(text) or text.strip().lower() in _NAMED_RESOLUTIONS:
        return _by_resolution(text, "16:9", param, ratio_field)
    raise RequestProblem(
        f"Unsupported size {text!r}; use WIDTHxHEIGHT such as 1280x720.", param=param
    )


def _seconds(value: Any, param: str, config: EmulatorConfig) -> float:
    if isinstance(value, bool):
        raise RequestProblem(f"'{param}' must be a number of seconds.", param=param)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise RequestProblem(f"'{param}' must be a number of seconds.", param=param) from None
    if not isinstance(value, int | float) or value != value:
        raise RequestProblem(f"'{param}' must be a number of seconds.", param=param)
    if value <= 0:
        return config.auto_seconds
    if value > config.max_seconds:
        raise RequestProblem(
            f"'{param}' may be at most {config.max_seconds:g} seconds on the emulator.", param=param
        )
    return float(value)


def _duration(spec: Spec, fields: Mapping[str, Any], ctype: str, config: EmulatorConfig) -> float:
    ruled = _rule(spec, "duration")[0]
    for name in dict.fromkeys(n for n in (ruled, "seconds", "duration") if n):
        if fields.get(name) is not None:
            return _seconds(fields[name], name, config)
    default = _default(spec, ruled, ctype)
    if default is not None:
        return _seconds(default, ruled or "duration", config)
    return config.default_seconds


_DATA_URL_RE = re.compile(r"^data:([^,]*?),(.*)$", re.DOTALL)


def decode_data_url(url: str, param: str) -> bytes | None:
    """The bytes of a ``data:`` URL, None for any other URL (the emulator fetches nothing)."""
    match = _DATA_URL_RE.match(url.strip())
    if not match:
        return None
    meta, payload = match.groups()
    if meta.endswith(";base64"):
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise RequestProblem(
                f"'{param}' holds a data URL that is not valid base64.", param=param
            ) from None
    return urllib.parse.unquote_to_bytes(payload)


def _items(fields: Mapping[str, Any], field: str, kind: str) -> list[Mapping[str, Any]]:
    items = fields.get(field)
    if not isinstance(items, list):
        return []
    return [i for i in items if isinstance(i, Mapping) and i.get("type") == kind]


def _prompt(spec: Spec, fields: Mapping[str, Any]) -> str:
    field, form = _rule(spec, "prompt")
    field = field or "prompt"
    if form == "text-item":
        return "\n".join(str(i.get("text", "")) for i in _items(fields, field, "text"))
    value = fields.get(field)
    return value if isinstance(value, str) else ""


def _image(spec: Spec, fields: Mapping[str, Any]) -> tuple[bytes | None, bool]:
    field, form = _rule(spec, "image")
    if field is None:
        return None, False
    if form == "image-item":
        for item in _items(fields, field, "image_url"):
            url = item.get("image_url")
            if isinstance(url, Mapping) and isinstance(url.get("url"), str):
                return decode_data_url(url["url"], f"{field}.image_url.url"), True
        return None, False
    value = fields.get(field)
    if value is None and form == "url":
        listed = fields.get(f"{field}s")
        value = listed[0] if isinstance(listed, list) and listed else None
    if isinstance(value, FilePart):
        return value.data, True
    if isinstance(value, str) and value:
        return decode_data_url(value, field), True
    return None, False


def interpret(
    spec: Spec, fields: Mapping[str, Any], content_type: str, config: EmulatorConfig
) -> Requested:
    """Read prompt, seed, size, duration, frame rate, image and remix source of a create.

    Field names come from the spec's ``x-vidpipe.fields``; what a request leaves out comes
    from the spec's defaults, then from `config`. Sizes and durations the renderer cannot
    make raise RequestProblem.
    """
    width, height = _size(spec, fields, content_type, config)
    for name, value in (("width", width), ("height", height)):
        if not MIN_DIMENSION <= value <= MAX_DIMENSION or value % 2:
            raise RequestProblem(
                f"The emulator renders even sizes from {MIN_DIMENSION} to {MAX_DIMENSION} "
                f"pixels; {width}x{height} has an unsupported {name}.",
                param=_rule(spec, "size")[0] or "size",
            )
    fps = fields.get("fps", RENDER_FPS)
    if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= 120:
        raise RequestProblem("'fps' must be an integer from 1 to 120.", param="fps")
    seed_field = _rule(spec, "seed")[0]
    seed = fields.get(seed_field) if seed_field else None
    if isinstance(seed, bool) or not isinstance(seed, int):
        seed = None
    remix_field = _rule(spec, "remix")[0]
    remix = fields.get(remix_field) if remix_field else None
    image, has_image = _image(spec, fields)
    return Requested(
        prompt=_prompt(spec, fields),
        seed=seed,
        width=width,
        height=height,
        seconds=_duration(spec, fields, content_type, config),
        fps=fps,
        reference_image=image,
        remix_of=remix if isinstance(remix, str) and remix else None,
        has_image=has_image,
    )
