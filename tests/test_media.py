"""What files really are: input images read from their bytes, downloads checked as videos."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from vidpipe.errors import NotAVideo
from vidpipe.media import (
    COMMON_IMAGE_TYPES,
    ImageInfo,
    ImageRules,
    NotAnImage,
    check_video,
    describe,
    image_of_data_url,
    image_of_file,
    video_problem,
)

from .images import image_bytes

MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2avc1mp41"


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif")],
)
def test_an_image_is_known_by_its_bytes_not_its_name(tmp_path: Path, fmt: str, mime: str) -> None:
    path = tmp_path / "misnamed.txt"
    path.write_bytes(image_bytes(fmt, 40, 30))
    info = image_of_file(path)
    assert (info.format, info.mime, info.width, info.height) == (fmt, mime, 40, 30)
    assert info.size == path.stat().st_size and info.summary() == f"{fmt} 40x30"


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"hello world\n", "not an image: text (12 bytes) starting 'hello world'"),
        (b"", "not an image: nothing (0 bytes)"),
        (b'{"error": "nope"}', 'not an image: JSON (17 bytes) starting \'{"error": "nope"}\''),
        (b"<html><p>x</p></html>", "not an image: an HTML page (21 bytes) starting"),
        (bytes([0, 1, 2, 255]), "not an image: binary data (4 bytes) starting 00 01 02 ff"),
        (image_bytes("PNG", 64, 64)[:70], "a damaged or truncated image (70 bytes)"),
    ],
)
def test_what_is_not_an_image_is_described(tmp_path: Path, data: bytes, found: str) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(data)
    with pytest.raises(NotAnImage) as info:
        image_of_file(path)
    assert str(info.value).startswith(found)


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(image_bytes("PNG", 10, 10))
    assert image_of_file(path).width == 10
    path.write_bytes(image_bytes("PNG", 20, 10))
    assert image_of_file(path).width == 20


def test_a_data_url_is_read_like_a_file() -> None:
    png = base64.b64encode(image_bytes("PNG", 8, 6)).decode()
    info = image_of_data_url(f"data:image/png;base64,{png}")
    assert (info.mime, info.width, info.height) == ("image/png", 8, 6)
    assert image_of_data_url(f"data:;base64,{png}").mime == "image/png"


@pytest.mark.parametrize(
    ("url", "found"),
    [
        ("data:image/png;base64,aGVsbG8=", "not an image: text (5 bytes) starting 'hello'"),
        ("data:image/png,hello", "not an image: text (5 bytes)"),
        ("data:image/png;base64", "a malformed data: URL"),
        (
            "data:image/png;base64," + base64.b64encode(image_bytes("JPEG")).decode(),
            "a data: URL declaring image/png that holds image/jpeg",
        ),
    ],
)
def test_a_data_url_that_is_not_what_it_says_is_refused(url: str, found: str) -> None:
    with pytest.raises(NotAnImage) as info:
        image_of_data_url(url)
    assert str(info.value).startswith(found)


def test_image_rules_default_to_the_common_types_and_the_size_limit() -> None:
    rules = ImageRules.from_extension(None)
    assert rules.media_types == COMMON_IMAGE_TYPES
    assert rules.problems(ImageInfo("PNG", "image/png", 1280, 720, 1000)) == []
    assert rules.problems(ImageInfo("TIFF", "image/tiff", 10, 10, 100)) == [
        "it is image/tiff; it takes " + ", ".join(COMMON_IMAGE_TYPES)
    ]


def test_image_rules_state_each_limit_they_break() -> None:
    rules = ImageRules.from_extension(
        {
            "media-types": ["image/PNG"],
            "max-bytes": 1000,
            "min-width": 300,
            "max-height": 200,
        }
    )
    assert rules.problems(ImageInfo("PNG", "image/png", 300, 200, 1000)) == []
    assert rules.problems(ImageInfo("JPEG", "image/jpeg", 100, 800, 5000)) == [
        "it is image/jpeg; it takes image/png",
        "it is 4.9 KiB; it takes at most 1000 bytes",
        "it is 100 px wide; it takes at least 300",
        "it is 800 px high; it takes at most 200",
    ]


@pytest.mark.parametrize(
    ("extension", "message"),
    [
        ({"mime-types": ["image/png"]}, "unknown keys: mime-types"),
        ({"media-types": "image/png"}, "media-types must be a list"),
        ({"max-bytes": 0}, "max-bytes must be a whole number, 1 or more"),
        ({"max-width": "1280"}, "max-width must be a whole number"),
    ],
)
def test_image_rules_refuse_what_they_do_not_understand(
    extension: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ImageRules.from_extension(extension)


@pytest.mark.parametrize(
    ("content_type", "head"),
    [
        ("video/mp4", MP4_HEAD),
        (None, MP4_HEAD),
        ("application/octet-stream", MP4_HEAD),
        ("binary/octet-stream", MP4_HEAD),
        ("video/quicktime; charset=binary", b"\x00\x00\x00\x08wide\x00\x01\x00\x00mdat"),
        ("video/mp4", b"\x00\x00\x00\x01ftyp" + b"\x00" * 8),  # a 64-bit box size
    ],
)
def test_a_video_is_an_iso_bmff_box_under_a_type_that_allows_it(
    content_type: str | None, head: bytes
) -> None:
    assert video_problem(content_type, head) is None


@pytest.mark.parametrize(
    ("content_type", "head", "problem"),
    [
        ("text/html", MP4_HEAD, "Content-Type text/html, binary data"),
        ("application/json", b'{"a": 1}', "Content-Type application/json, JSON"),
        ("video/mp4", b"<!doctype html><h1>502</h1>", "an HTML page starting"),
        ("video/mp4", b"", "nothing (0 bytes)"),
        ("video/mp4", b"\x00\x00\x00\x03ftypisom", "binary data starting"),
        ("video/mp4", b"\x1aE\xdf\xa3\x9fB\x86\x81", "binary data starting 1a 45 df a3"),
        ("image/png", image_bytes("PNG")[:64], "Content-Type image/png, binary data"),
    ],
)
def test_anything_else_is_not_a_video(content_type: str, head: bytes, problem: str) -> None:
    found = video_problem(content_type, head)
    assert found is not None and found.startswith(problem), found


def test_check_video_says_what_arrived() -> None:
    check = check_video("download t1")
    ok = httpx.Response(200, headers={"content-type": "video/mp4"})
    check(ok, MP4_HEAD)
    page = httpx.Response(200, headers={"content-type": "text/html", "content-length": "2048"})
    with pytest.raises(NotAVideo) as info:
        check(page, b"<html><body>Sign in</body></html>")
    assert str(info.value) == (
        "download t1: not a video: Content-Type text/html, an HTML page (2.0 KiB) starting "
        "'<html><body>Sign in</body></html>'"
    )


def test_describe_keeps_excerpts_short_and_printable() -> None:
    text = describe(b"line one\nline two\r\n\tand " + b"x" * 200)
    assert text == "text starting 'line one line two and " + "x" * 18 + "'"
    assert describe(b"\x1b[31mred\x00") == "binary data starting 1b 5b 33 31 6d 72 65 64 00"
