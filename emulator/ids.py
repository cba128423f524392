"""Deterministic names: task ids and CDN tokens derived from digests of the seed and request."""

from __future__ import annotations

import hashlib

__all__ = ["ALPHABET", "digest_text", "encode"]

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def digest_text(*parts: object) -> bytes:
    """sha256 of the parts joined by a unit separator."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def encode(digest: bytes, length: int, alphabet: str) -> str:
    """`length` characters of `alphabet` drawn from the digest."""
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars)
