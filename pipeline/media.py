"""What a file really is, read from its bytes: images given as shot inputs, videos downloaded.

Images are read with Pillow (header and integrity, never the decoded pixels): the format,
its media type and the dimensions. `ImageRules` says what one API accepts: the media types,
the file size and the dimensions its document states (`x-vidpipe.image` in its spec), or
the common web types and `limits.MAX_IMAGE_BYTES` where it states none.

A download counts as a video when its Content-Type allows one and its first bytes are an
ISO-BMFF (MP4, QuickTime) box, normally `ftyp`. `describe` says in a few words what some
bytes look like instead (an HTML page, JSON, text), for the messages.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from io import BytesIO
from pathlib import Path
from typing import IO, Any, TypeAlias

import attrs
import httpx

from .errors import NotAVideo
from .limits import MAX_IMAGE_BYTES, size_text

__all__ = [
    "COMMON_IMAGE_TYPES",
    "HEAD_BYTES",
    "ImageInfo",
    "ImageRules",
    "NotAnImage",
    "StartCheck",
    "check_video",
    "describe",
    "image_of_data_url",
    "image_of_file",
    "video_problem",
]

#: The media types accepted where an API's document names none.
COMMON_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp")
#: How many leading bytes `video_problem` and `describe` look at.
HEAD_BYTES = 64

# Pillow's names for JPEG variants that are sent, and accepted, as JPEG.
_SAME_AS = {"MPO": "image/jpeg", "JPEG2000": "image/jp2"}
_VIDEO_TYPES = ("application/octet-stream", "binary/octet-stream", "application/mp4")
# Boxes an MP4 or QuickTime file starts with: `ftyp` (ISO-BMFF), or QuickTime's older ones.
_LEADING_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
_DATA_URL = re.compile(r"^data:([^;,]*)((?:;[^;,]*)*),", re.IGNORECASE)

#: Sees a download's response and its first bytes (up to `HEAD_BYTES`); raises to refuse.
StartCheck: TypeAlias = Callable[[httpx.Response, bytes], None]


class NotAnImage(ValueError):
    """The bytes are not an image Pillow can read; the message says what they are."""


@attrs.frozen
class ImageInfo:
    """An image as its bytes say: format, media type, dimensions and size in bytes."""

    format: str
    mime: str
    width: int
    height: int
    size: int

    def summary(self) -> str:
        """The format and dimensions: "PNG 1280x720"."""
        return f"{self.format} {self.width}x{self.height}"


def _read_image(stream: IO[bytes], size: int) -> ImageInfo:
    from PIL import Image, UnidentifiedImageError  # a tenth of a second: only when needed

    head = stream.read(HEAD_BYTES)
    stream.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                fmt = image.format or "?"
                width, height = image.size
                image.verify()  # chunk checksums, truncation: without decoding the pixels
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise NotAnImage("an image with too many pixels to be a frame") from None
    except UnidentifiedImageError:
        raise NotAnImage(f"not an image: {describe(head, size)}") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise NotAnImage(f"a damaged or truncated image ({size_text(size)})") from None
    mime = _SAME_AS.get(fmt) or Image.MIME.get(fmt) or f"image/x-{fmt.lower()}"
    return ImageInfo(fmt, mime, width, height, size)


@functools.lru_cache(maxsize=256)
def _image_of_file(path: Path, size: int, mtime_ns: int) -> ImageInfo:
    # `size` and `mtime_ns` make a changed file a new key.
    with path.open("rb") as stream:
        return _read_image(stream, size)


def image_of_file(path: Path) -> ImageInfo:
    """The image in `path`. Raises NotAnImage (saying what the file holds) or OSError."""
    stat = path.stat()
    if stat.st_size > MAX_IMAGE_BYTES * 4:  # far past any limit: not worth reading
        raise NotAnImage(f"{size_text(stat.st_size)}, far too large for an input image")
    return _image_of_file(path, stat.st_size, stat.st_mtime_ns)


def image_of_data_url(url: str) -> ImageInfo:
    """The image a `data:` URL carries; raises NotAnImage, also when the media type the URL
    declares is not the one its bytes have."""
    match = _DATA_URL.match(url)
    if match is None:
        raise NotAnImage("a malformed data: URL")
    declared = match.group(1).strip().lower()
    payload = url[match.end() :]
    if ";base64" in match.group(2).lower():
        try:
            data = base64.b64decode(payload, validate=False)
        except (binascii.Error, ValueError):
            raise NotAnImage("a data: URL whose base64 cannot be decoded") from None
    else:
        data = payload.encode("utf-8", "surrogateescape")
    info = _read_image(BytesIO(data), len(data))
    if declared and declared != info.mime:
        raise NotAnImage(f"a data: URL declaring {declared} that holds {info.mime}")
    return info


@attrs.frozen
class ImageRules:
    """What an API accepts as an input image (`x-vidpipe.image` in its spec)."""

    media_types: tuple[str, ...] = COMMON_IMAGE_TYPES
    max_bytes: int = MAX_IMAGE_BYTES
    min_width: int = 1
    min_height: int = 1
    max_width: int | None = None
    max_height: int | None = None

    KEYS = ("media-types", "max-bytes", "min-width", "min-height", "max-width", "max-height")

    @classmethod
    def from_extension(cls, data: Mapping[str, Any] | None) -> ImageRules:
        """The rules a spec's `x-vidpipe.image` states; the defaults for what it leaves out.

        Raises ValueError for a key or value it does not understand.
        """
        data = data or {}
        unknown = sorted(set(data) - set(cls.KEYS))
        if unknown:
            raise ValueError(f"x-vidpipe.image has unknown keys: {', '.join(unknown)}")
        types = data.get("media-types", COMMON_IMAGE_TYPES)
        if isinstance(types, str) or not isinstance(types, Sequence):
            raise ValueError("x-vidpipe.image.media-types must be a list of media types")
        if not all(isinstance(t, str) for t in types):
            raise ValueError("x-vidpipe.image.media-types must be a list of media types")
        numbers = {}
        for key in cls.KEYS[1:]:
            value = data.get(key)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"x-vidpipe.image.{key} must be a whole number, 1 or more")
            if value is not None:
                numbers[key.replace("-", "_")] = value
        return cls(media_types=tuple(t.lower() for t in types), **numbers)

    def problems(self, info: ImageInfo) -> list[str]:
        """What in `info` this API does not accept, one phrase each."""
        found = []
        if info.mime not in self.media_types:
            found.append(f"it is {info.mime}; it takes {', '.join(self.media_types)}")
        if info.size > self.max_bytes:
            found.append(
                f"it is {size_text(info.size)}; it takes at most {size_text(self.max_bytes)}"
            )
        for side, value, low, high in (
            ("wide", info.width, self.min_width, self.max_width),
            ("high", info.height, self.min_height, self.max_height),
        ):
            if value < low:
                found.append(f"it is {value} px {side}; it takes at least {low}")
            if high is not None and value > high:
                found.append(f"it is {value} px {side}; it takes at most {high}")
        return found


def describe(head: bytes, size: int | None = None) -> str:
    """What `head` (the first bytes of something) looks like, with a short excerpt."""
    if not head:
        return "nothing (0 bytes)" if size in (None, 0) else f"no bytes of {size_text(size)}"
    text = head.lstrip()
    lowered = text[:20].lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        kind = "an HTML page"
    elif text[:1] in (b"{", b"["):
        kind = "JSON"
    elif lowered.startswith(b"<?xml") or lowered.startswith(b"<"):
        kind = "XML or HTML"
    elif _is_text(head):
        kind = "text"
    else:
        kind = "binary data"
    if size is not None:
        kind += f" ({size_text(size)})"
    return f"{kind} starting {_excerpt(head)}"


def _is_text(data: bytes) -> bool:
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        decoded = data[:-3].decode("utf-8", "ignore")  # a character cut at the end
    return bool(decoded) and all(c.isprintable() or c in "\r\n\t" for c in decoded)


def _excerpt(head: bytes, length: int = 40) -> str:
    if _is_text(head):
        shown = " ".join(head.decode("utf-8", "replace").split())[:length]
        return repr(shown)
    return head[:16].hex(" ")


def video_problem(content_type: str | None, head: bytes, *, size: int | None = None) -> str | None:
    """Why a download whose Content-Type is `content_type` and which starts with `head` is
    not a video, or None when it is one (an ISO-BMFF box first, a type that allows it)."""
    media = (content_type or "").partition(";")[0].strip().lower()
    if media and not (media.startswith("video/") or media in _VIDEO_TYPES):
        return f"Content-Type {media}, {describe(head, size)}"
    if len(head) >= 8 and head[4:8] in _LEADING_BOXES:
        box = int.from_bytes(head[:4], "big")
        if box in (0, 1) or box >= 8:
            return None
    return describe(head, size)


def check_video(what: str) -> StartCheck:
    """A `StartCheck` that raises `NotAVideo` (saying what arrived) for anything but a video."""

    def check(response: httpx.Response, head: bytes) -> None:
        announced = response.headers.get("content-length", "").strip()
        size = int(announced) if announced.isdigit() else None
        problem = video_problem(response.headers.get("content-type"), head, size=size)
        if problem is not None:
            raise NotAVideo(f"{what}: not a video: {problem}")

    return check
