"""The emulator on a real loopback socket: the official OpenAI SDK, the CDN origin, the CLI."""

from __future__ import annotations

import socket
import warnings
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

import vidpipe.emulator.server
from vidpipe.emulator import EmulatorConfig, running_server
from vidpipe.emulator.cli import emulator_command
from vidpipe.emulator.render import probe

from .emulator_fixtures import AUTH, seedance

pytestmark = pytest.mark.e2e


def test_the_openai_sdk_creates_polls_and_downloads_a_video() -> None:
    openai = pytest.importorskip("openai")
    with running_server(EmulatorConfig(job_seconds=0)) as base, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the SDK marks Sora as sunsetting
        sdk = openai.OpenAI(base_url=f"{base}/v1", api_key="sk-test", max_retries=0)
        video = sdk.videos.create(model="sora-2", prompt="a cat in sunflowers", seconds="4")
        assert video.status == "queued" and video.id.startswith("video_")
        for _ in range(10):
            video = sdk.videos.retrieve(video.id)
            if video.status == "completed":
                break
        assert video.status == "completed" and video.progress == 100
        content = sdk.videos.download_content(video.id)
        data = content.read()
    info = probe(data)
    # Sora's default size (720x1280) and the requested 4 seconds.
    assert (info.width, info.height) == (720, 1280)
    assert info.duration == pytest.approx(4.0, abs=0.05)


def test_result_urls_point_at_a_second_origin_on_the_same_server() -> None:
    with running_server(EmulatorConfig(job_seconds=0, seed=4)) as base:
        with httpx.Client(base_url=base, headers=AUTH) as c:
            task = c.post("/v1/video/generations", json=seedance()).json()["id"]
            answer = c.get(f"/v1/video/generations/{task}").json()
            stats = c.get("/_emulator/stats").json()
        url = answer["data"]["result_url"]
        assert httpx.URL(url).host == "localhost" and httpx.URL(base).host == "127.0.0.1"
        cdn = httpx.get(url)  # no Authorization header
        part = httpx.get(url, headers={"Range": "bytes=0-9"})
    assert cdn.status_code == 200 and cdn.content[4:8] == b"ftyp"
    assert part.status_code == 206 and part.content == cdn.content[:10]
    assert stats["creates"]["total"] == 1 and stats["polls"]["total"] == 1


def test_served_connections_do_not_wait_for_delayed_acks() -> None:
    # An answer is written as headers then body; without TCP_NODELAY on the accepted socket
    # the body waits ~40 ms for the client's delayed ACK. asyncio sets it only for TCP sockets.
    sock = vidpipe.emulator.server._bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_the_cli_builds_the_config_and_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}

    def fake_serve(host: str, port: int, config: EmulatorConfig, **kwargs: Any) -> None:
        served.update(host=host, port=port, config=config)
        kwargs["announce"]("listening")

    monkeypatch.setattr(vidpipe.emulator.server, "serve", fake_serve)
    result = CliRunner().invoke(
        emulator_command,
        [
            "--host",
            "127.0.0.1",
            "--port",
            "8123",
            "--job-seconds",
            "2",
            "--faults",
            "429=0.1,reset=0.02",
            "--seed",
            "7",
            "--api-key",
            "secret-key",
        ],
    )
    assert result.exit_code == 0, result.output
    config = served["config"]
    assert (served["host"], served["port"]) == ("127.0.0.1", 8123)
    assert config.job_seconds == 2 and config.seed == 7
    assert config.faults.rate("429") == 0.1 and config.api_keys == frozenset({"secret-key"})
    assert "listening" in result.output and "secret-key" not in result.output


def test_the_cli_rejects_bad_faults() -> None:
    result = CliRunner().invoke(emulator_command, ["--faults", "teapot=1"])
    assert result.exit_code == 2 and "teapot" in result.output
