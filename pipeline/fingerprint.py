"""Content hashes: canonical JSON, shot fingerprints, derived seeds and safe file names.

A fingerprint names one fully resolved request. Two shots with the same fingerprint would
send the same bytes to the same endpoint, so the ledger and the cache are keyed by it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path

from .errors import InputError

__all__ = [
    "FINGERPRINT_VERSION",
    "CanonicalJSONError",
    "canonical_json",
    "canonical_text",
    "derive_seed",
    "fingerprint",
    "is_sha256",
    "safe_filename",
    "sha256_bytes",
    "sha256_file",
]

# Bump when the fingerprint payload changes shape, so old ledger rows stop matching
# instead of matching something they do not describe.
FINGERPRINT_VERSION = 1
_SEED_VERSION = 1

_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20

_SAFE_CHARS_RE = re.compile(r"[^A-Za-z0-9._-]")
_MAX_FILENAME = 120
_SUFFIX_HEX = 16
# Names Windows refuses whatever the extension; cheap to avoid everywhere.
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)


class CanonicalJSONError(InputError, ValueError):
    """A value cannot be written as canonical JSON (NaN, infinity, odd types or keys)."""


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def is_sha256(value: object) -> bool:
    """True when ``value`` is a lowercase hex sha256 digest."""
    return isinstance(value, str) and _SHA256_RE.fullmatch(value) is not None


class _Refused(Exception):
    """A value `_normalise` cannot write; `path` is where, from the inside out."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []


def _normalise(obj: object) -> object:
    # Walk the value ourselves instead of trusting json.dumps: it silently turns
    # int keys into strings and tuples into lists, and would let odd types through `default`.
    # What needs no change is returned as it is (a run's summary is not copied to be written).
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int):
        return obj if type(obj) is int else int(obj)
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise _Refused(f"{obj!r} is not allowed in a request")
        return obj
    if isinstance(obj, bytes | bytearray | memoryview):
        return {"sha256": sha256_bytes(bytes(obj))}
    if isinstance(obj, Mapping):
        out = obj if isinstance(obj, dict) else dict(obj)
        for key, value in obj.items():
            if not isinstance(key, str):
                raise _Refused(f"key {key!r} is not a string")
            new = _normalise_at(value, key)
            if new is not value:
                out = dict(obj) if out is obj else out
                out[key] = new
        return out
    if isinstance(obj, list | tuple):  # json.dumps writes a tuple as a list
        items: list[object] | tuple[object, ...] = obj
        for i, value in enumerate(obj):
            new = _normalise_at(value, i)
            if new is not value:
                items = list(obj) if items is obj else items
                items[i] = new  # type: ignore[index]
        return items
    raise _Refused(f"cannot hash a value of type {type(obj).__name__}")


def _normalise_at(value: object, place: str | int) -> object:
    """`_normalise(value)`, which is at `place` (a key or an index) in its container."""
    try:
        return _normalise(value)
    except _Refused as exc:
        exc.path.append(f"[{place}]" if isinstance(place, int) else f".{place}")
        raise


def canonical_text(obj: object) -> str:
    """`canonical_json` as text."""
    try:
        normalised = _normalise(obj)
    except _Refused as exc:
        where = "$" + "".join(reversed(exc.path))
        raise CanonicalJSONError(f"{where}: {exc.reason}") from None
    return _dumps(normalised)


#: Items past which a list is written one item at a time (see `_dumps`).
_LONG = 64


def _long(obj: object) -> bool:
    return isinstance(obj, list | tuple) and len(obj) > _LONG


def _dumps(obj: object) -> str:
    # json.dumps keeps every piece of its output as a string object of its own until the end
    # (Python 3.11): for a run's summary of 2,000 shots, 1.9 MB to write 0.3 MB. A long list,
    # and a mapping that holds one, is written an item at a time instead: the same text.
    if _long(obj):
        return "[" + ",".join(map(_dumps, obj)) + "]"  # type: ignore[call-overload]
    if isinstance(obj, dict) and any(map(_long, obj.values())):
        pairs = (f"{_dumps(key)}:{_dumps(obj[key])}" for key in sorted(obj))
        return "{" + ",".join(pairs) + "}"
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def canonical_json(obj: object) -> bytes:
    """Serialise ``obj`` deterministically: sorted keys, no whitespace, UTF-8.

    Bytes values become ``{"sha256": <hex>}``. NaN, infinities, non-string keys and
    types JSON does not know raise CanonicalJSONError (also a ValueError).
    """
    return canonical_text(obj).encode("utf-8")


def _require_sha256(value: object, what: str) -> str:
    if not is_sha256(value):
        raise ValueError(f"{what} must be a lowercase hex sha256, got {value!r}")
    assert isinstance(value, str)
    return value


def fingerprint(
    *,
    api: str,
    base_url: str,
    spec_sha256: str,
    model: str,
    request: Mapping[str, object],
    files: Mapping[str, str],
    remix_source: str | None,
    source_task: str | None = None,
) -> str:
    """Hex sha256 naming one fully resolved shot request.

    ``files`` maps a request field to the sha256 of the local file sent in it, and
    ``remix_source`` is the fingerprint of the shot this one remixes; ``source_task`` is that
    shot's task (its generation), so regenerating a source changes its remixes' fingerprints.
    Any change to any input changes the result; key order does not. A trailing slash on
    ``base_url`` is ignored because it names the same endpoint. Without ``source_task`` the
    payload is the one fingerprints had before it existed.
    """
    _require_sha256(spec_sha256, "spec_sha256")
    for field, digest in files.items():
        _require_sha256(digest, f"files[{field!r}]")
    if remix_source is not None:
        _require_sha256(remix_source, "remix_source")
    payload = {
        "version": FINGERPRINT_VERSION,
        "api": api,
        "base_url": base_url.rstrip("/"),
        "spec_sha256": spec_sha256,
        "model": model,
        "request": request,
        "files": dict(files),
        "remix_source": remix_source,
    }
    if source_task is not None:
        payload["source_task"] = source_task
    return sha256_bytes(canonical_json(payload))


def derive_seed(master: int, shot_id: str, *, maximum: int = 2**31 - 1) -> int:
    """A per-shot seed in ``[0, maximum]``, stable across runs, machines and Python versions."""
    if isinstance(master, bool) or not isinstance(master, int):
        raise TypeError(f"master seed must be an int, got {type(master).__name__}")
    if maximum < 0:
        raise ValueError(f"maximum must be >= 0, got {maximum}")
    digest = hashlib.sha256(
        canonical_json({"version": _SEED_VERSION, "master": master, "shot": shot_id})
    ).digest()
    # 128 bits modulo a 31-bit range: the bias is far below anything observable.
    return int.from_bytes(digest[:16], "big") % (maximum + 1)


def sha256_file(path: str | os.PathLike[str], *, chunk_size: int = _CHUNK) -> str:
    """Hex sha256 of a file's bytes, read in chunks so large videos never sit in memory."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while chunk := f.read(chunk_size):
            h.update(chunk)
    return h.hexdigest()


def safe_filename(task_or_shot_id: str) -> str:
    """Turn a server-provided id into a file name that is safe and unique.

    Only ``A-Z a-z 0-9 . _ -`` survive; anything else becomes ``_``, leading dots are
    dropped and the length is bounded. An id that was changed in any way, or that holds
    upper-case letters (case-insensitive file systems) or ends in a dot, gets a ``~<hash of the original>``
    suffix. ``~`` never survives sanitising, so a changed id cannot collide with an
    unchanged one, and two changed ids differ by their hashes.
    """
    original = task_or_shot_id
    cleaned = _SAFE_CHARS_RE.sub("_", original).lstrip(".")
    changed = cleaned != original
    if not cleaned or cleaned.split(".", 1)[0].lower() in _RESERVED:
        cleaned = f"_{cleaned}"
        changed = True
    if cleaned.lower() != cleaned or cleaned.endswith("."):
        changed = True
    if not changed and len(cleaned) <= _MAX_FILENAME:
        return cleaned
    suffix = "~" + sha256_bytes(original.encode("utf-8", "surrogatepass"))[:_SUFFIX_HEX]
    head = cleaned[: _MAX_FILENAME - len(suffix)].rstrip(".")
    return head + suffix
