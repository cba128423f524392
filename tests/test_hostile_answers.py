"""Hostile answers from a gateway on a real loopback port, through `vidpipe run`.

An HTML page where the video should be, JSON answers without end, result URLs on private,
link-local, metadata or `file:` addresses, redirect chains: each is a provider failure (exit
code 1) with one clear line, no traceback, and never a shot marked done with a file that is
not a video.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from starlette.responses import RedirectResponse, Response

from vidpipe.cli import main
from vidpipe.emulator.render import render_video

from .hostile import TASK, Gateway, Handler, hostile_gateway

BOARD = """\
version: 1
name: hostile
providers:
  gw: {{api: apifree, base_url: "{base}", api_key: sk-hostile-test}}
defaults: {{provider: gw, model: video-model-id, seconds: 1, size: 64x48}}
shots:
  - id: one
    prompt: a red kite over the sea
"""
CONTENT = f"/v1/videos/{TASK}/content"
HTML = b"<!DOCTYPE html><html><body>Access denied</body></html>"


@pytest.fixture(scope="module")
def mp4() -> bytes:
    return render_video(model="m", prompt="kite", seed=1, width=64, height=48, seconds=1.0)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with hostile_gateway() as gw:
        yield gw


def redirect(location: str) -> Handler:
    """A handler answering 302 to `location`."""
    return lambda request: RedirectResponse(location, 302)


def cdn(gateway: Gateway) -> str:
    """The same server by its other loopback name: another origin, as a CDN is."""
    return gateway.base_url.replace("127.0.0.1", "localhost")


def run(gateway: Gateway, tmp_path: Path) -> tuple[Result, dict[str, Any]]:
    board = tmp_path / "hostile.yaml"
    board.write_text(BOARD.format(base=gateway.base_url))
    argv = ["run", str(board), "--out", str(tmp_path / "out"), "--json"]
    result = CliRunner().invoke(main, argv, catch_exceptions=False)
    summary = json.loads(result.stdout) if result.stdout.startswith("{") else {}
    return result, summary


def assert_failed(result: Result, summary: dict[str, Any], tmp_path: Path, message: str) -> str:
    """Exit 1, the shot failed with `message` in its error, and no video file anywhere."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    shot = summary["shots"]["one"]
    assert shot["status"] == "failed" and shot["file"] is None
    assert message in shot["error"], shot["error"]
    assert not (tmp_path / "out" / "hostile" / "one.mp4").exists()
    cache = tmp_path / ".vidpipe" / "cache"
    assert not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))
    error: str = shot["error"]
    return error


@pytest.mark.parametrize(
    ("body", "media_type", "message"),
    [
        (
            HTML,
            "text/html",
            "not a video: Content-Type text/html, an HTML page (54 bytes) starting "
            "'<!DOCTYPE html><html><body>Access denied'",
        ),
        (HTML, "video/mp4", "not a video: an HTML page (54 bytes)"),  # the bytes decide
        (
            b'{"error": {"message": "quota exceeded"}}',
            "application/octet-stream",
            "not a video: JSON (40 bytes) starting",
        ),
    ],
)
def test_what_is_not_a_video_is_never_saved_as_the_shot(
    gateway: Gateway, tmp_path: Path, body: bytes, media_type: str, message: str
) -> None:
    gateway.completed()
    gateway.routes[CONTENT] = lambda request: Response(body, media_type=media_type)
    result, summary = run(gateway, tmp_path)
    assert_failed(result, summary, tmp_path, message)
    assert gateway.count(CONTENT) > 1  # retried like a broken transfer, then reported


def test_a_status_answer_without_end_is_read_only_up_to_the_cap(
    gateway: Gateway, tmp_path: Path
) -> None:
    gateway.endless(f"/v1/videos/{TASK}", b'{"id": "' + TASK.encode() + b'", "pad": "')
    result, summary = run(gateway, tmp_path)
    assert_failed(result, summary, tmp_path, "over the limit of 4.0 MiB for an API answer")
    assert gateway.count(CONTENT) == 0
    reads = gateway.count(f"/v1/videos/{TASK}")
    assert reads > 1 and gateway.sent < reads * (32 << 20)  # each read stopped near the cap


def test_a_create_answer_without_end_is_an_unknown_create_not_a_second_create(
    gateway: Gateway, tmp_path: Path
) -> None:
    gateway.endless("/v1/videos/huge-create", b'{"id": "')
    gateway.routes["create"] = gateway.routes.pop("/v1/videos/huge-create")
    result, summary = run(gateway, tmp_path)
    assert result.exit_code == 1, result.output
    shot = summary["shots"]["one"]
    assert shot["status"] == "unknown"
    assert "over the limit of 4.0 MiB for an API answer" in shot["error"]
    assert gateway.requests.count("POST /v1/videos") == 1


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/latest/", "metadata"),
        ("http://10.0.0.7/v.mp4", "private"),
        ("http://192.168.1.20:8080/v.mp4", "private"),
        ("http://169.254.10.10/v.mp4", "link-local"),
    ],
)
def test_a_result_url_on_a_private_address_is_refused(
    gateway: Gateway, tmp_path: Path, url: str, kind: str
) -> None:
    gateway.completed(metadata={"url": url})
    result, summary = run(gateway, tmp_path)
    error = assert_failed(result, summary, tmp_path, f"a {kind} address; refused")
    assert "allow_private_urls: true" in error
    assert gateway.count(CONTENT) == 0  # not quietly fetched from somewhere else either


def test_a_file_url_is_never_read(gateway: Gateway, tmp_path: Path) -> None:
    """`file:` is not a result URL: the video comes from the API's content route instead."""
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the gateway")
    gateway.completed(metadata={"url": f"file://{secret}"}, video_url=f"file://{secret}")
    gateway.routes[CONTENT] = lambda request: Response(HTML, media_type="text/html")
    result, summary = run(gateway, tmp_path)
    assert_failed(result, summary, tmp_path, "not a video")
    assert gateway.count(CONTENT) > 0


def test_a_redirect_chain_is_followed_and_checked_at_every_hop(
    gateway: Gateway, tmp_path: Path, mp4: bytes
) -> None:
    base = gateway.base_url
    gateway.completed(metadata={"url": f"{cdn(gateway)}/hop/0"})
    for hop, target in enumerate([f"{base}/hop/1", f"{base}/hop/2", f"{base}/files/one.mp4"]):
        gateway.routes[f"/hop/{hop}"] = redirect(target)
    gateway.routes["/files/one.mp4"] = lambda request: Response(mp4, media_type="video/mp4")
    result, summary = run(gateway, tmp_path)
    assert result.exit_code == 0, result.output
    assert summary["shots"]["one"]["status"] == "done"
    saved = tmp_path / "out" / "hostile" / "one.mp4"
    assert saved.read_bytes() == mp4
    assert [r for r in gateway.requests if r.startswith("GET /hop") or "files" in r] == [
        "GET /hop/0",
        "GET /hop/1",
        "GET /hop/2",
        "GET /files/one.mp4",
    ]


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("http://169.254.169.254/latest/meta-data/iam", "169.254.169.254, a metadata address"),
        ("http://10.1.2.3/v.mp4", "10.1.2.3, a private address"),
        ("file:///etc/passwd", "redirect to a non-http URL"),
    ],
)
def test_a_redirect_to_a_refused_place_stops_the_chain(
    gateway: Gateway, tmp_path: Path, location: str, message: str
) -> None:
    base = gateway.base_url
    gateway.completed(metadata={"url": f"{cdn(gateway)}/hop/0"})
    gateway.routes["/hop/0"] = lambda request: RedirectResponse(f"{base}/hop/1", 302)
    gateway.routes["/hop/1"] = lambda request: RedirectResponse(location, 302)
    result, summary = run(gateway, tmp_path)
    assert_failed(result, summary, tmp_path, message)
    assert gateway.count("/hop/1") == 1


def test_a_redirect_loop_ends(gateway: Gateway, tmp_path: Path) -> None:
    gateway.completed(metadata={"url": f"{cdn(gateway)}/loop"})
    gateway.routes["/loop"] = lambda request: RedirectResponse(f"{cdn(gateway)}/loop", 302)
    result, summary = run(gateway, tmp_path)
    assert_failed(result, summary, tmp_path, "too many redirects")


def test_the_same_gateway_serving_a_video_is_done(
    gateway: Gateway, tmp_path: Path, mp4: bytes
) -> None:
    """The hostile cases above fail because of what they answer, not because of the setup."""
    gateway.completed()
    gateway.routes[CONTENT] = lambda request: Response(mp4, media_type="video/mp4")
    result, summary = run(gateway, tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "hostile" / "one.mp4").read_bytes() == mp4
    assert summary["shots"]["one"]["status"] == "done"
