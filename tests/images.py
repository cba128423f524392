"""Small real images for tests, made with Pillow (inputs are now read from their bytes)."""

from __future__ import annotations

from io import BytesIO

from PIL import Image


def image_bytes(fmt: str = "PNG", width: int = 16, height: int = 9) -> bytes:
    """A solid-colour image of `width` x `height` in Pillow's format `fmt` (PNG, JPEG, ...)."""
    buffer = BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(buffer, fmt)
    return buffer.getvalue()


PNG = image_bytes()
