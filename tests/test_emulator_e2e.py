"""The emulator on a real loopback socket: the official OpenAI SDK, the CDN origin, the CLI."""

from __future__ import annotations

import http.client
import socket
import time
import warnings
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

import vidpipe.emulator.server
from vidpipe.emulator import EmulatorConfig, running_server
from vidpipe.emulator.cli import emulator_command
from vidpipe.emulator.faults import KINDS
from vidpipe.emulator.render import probe

from .emulator_fixtures import AUTH, apifree, seedance

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


def test_the_openai_sdk_lists_and_deletes_videos() -> None:
    openai = pytest.importorskip("openai")
    with running_server(EmulatorConfig(job_seconds=0)) as base, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sdk = openai.OpenAI(base_url=f"{base}/v1", api_key="sk-test", max_retries=0)
        made = [
            sdk.videos.create(model="sora-2", prompt=f"shot {i}", size="720x1280").id
            for i in range(3)
        ]
        page = sdk.videos.list(limit=2, order="asc")
        every = [video.id for video in sdk.videos.list(limit=2, order="asc")]  # all pages
        deleted = sdk.videos.delete(made[1])
        after = [video.id for video in sdk.videos.list()]
        with pytest.raises(openai.NotFoundError):
            sdk.videos.retrieve(made[1])
        with pytest.raises(openai.NotFoundError):
            sdk.videos.delete(made[1])
    assert [video.id for video in page.data] == made[:2] and page.has_more
    assert every == made
    assert deleted.id == made[1] and deleted.deleted and deleted.object == "video.deleted"
    assert after == [made[2], made[0]]


def test_a_wildcard_bind_hands_out_the_host_each_request_was_sent_to() -> None:
    with running_server(EmulatorConfig(job_seconds=0), host="0.0.0.0") as base:
        assert httpx.URL(base).host == "127.0.0.1"  # how this machine reaches it
        port = httpx.URL(base).port
        remote = {**AUTH, "Host": f"render-box.lan:{port}"}
        with httpx.Client(base_url=base, headers=remote) as c:
            vid = c.post("/v1/videos", json=apifree()).json()["id"]
            video = c.get(f"/v1/videos/{vid}").json()
        with httpx.Client(base_url=base, headers=AUTH) as c:
            task = c.post("/v1/video/generations", json=seedance()).json()["id"]
            local = c.get(f"/v1/video/generations/{task}").json()["data"]["result_url"]
    assert video["video_url"].startswith(f"http://render-box.lan:{port}/cdn/")
    assert video["metadata"]["url"] == video["video_url"]
    assert local.startswith(f"http://localhost:{port}/cdn/")  # loopback: the other name


def test_a_public_url_is_what_the_answers_name() -> None:
    config = EmulatorConfig(job_seconds=0, base_url="https://emu.example/")
    with (
        running_server(config, host="0.0.0.0") as base,
        httpx.Client(base_url=base, headers=AUTH) as c,
    ):
        task = c.post("/v1/video/generations", json=seedance()).json()["id"]
        url = c.get(f"/v1/video/generations/{task}").json()["data"]["result_url"]
    assert url.startswith("https://emu.example/cdn/") and url.endswith(".mp4")


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
            "429=0.1,reset=0.02,created-504-json=0.1,url-403=0.5x2,burst-5xx=0.2",
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
    assert config.faults.rate("created-504-json") == 0.1 and config.faults.count("url-403") == 2
    assert config.faults.count("burst-502") == 3
    assert "listening" in result.output and "secret-key" not in result.output


def test_the_cli_rejects_bad_faults() -> None:
    result = CliRunner().invoke(emulator_command, ["--faults", "teapot=1"])
    assert result.exit_code == 2 and "teapot" in result.output
    counted = CliRunner().invoke(emulator_command, ["--faults", "429=0.1x3"])
    assert counted.exit_code == 2 and "takes no count" in counted.output


def test_the_cli_help_documents_every_fault_kind() -> None:
    text = CliRunner().invoke(emulator_command, ["--help"]).output
    for kind in (*KINDS, "5xx", "created-5xx", "burst-5xx"):
        assert kind in text, kind


@pytest.mark.parametrize(
    ("host", "config", "says", "never"),
    [
        ("0.0.0.0", EmulatorConfig(), ["0.0.0.0:8123", "--public-url"], ["127.0.0.1", "localhost"]),
        ("::", EmulatorConfig(), ["[::]:8123"], ["127.0.0.1", "localhost", "::1"]),
        (
            "0.0.0.0",
            EmulatorConfig(base_url="http://10.0.0.5:8123"),
            ["on http://10.0.0.5:8123 (CDN http://10.0.0.5:8123)"],
            ["127.0.0.1", "localhost"],
        ),
        (
            "127.0.0.1",
            EmulatorConfig(),
            ["on http://127.0.0.1:8123 (CDN http://localhost:8123)"],
            [],
        ),
    ],
)
def test_the_banner_names_only_urls_that_work(
    host: str, config: EmulatorConfig, says: list[str], never: list[str]
) -> None:
    line = vidpipe.emulator.server.banner(host, 8123, config)
    assert all(part in line for part in says), line
    assert not any(part in line for part in never), line


def test_the_cli_takes_a_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}

    def fake_serve(host: str, port: int, config: EmulatorConfig, **kwargs: Any) -> None:
        served.update(host=host, config=config)

    monkeypatch.setattr(vidpipe.emulator.server, "serve", fake_serve)
    args = ["--host", "0.0.0.0", "--public-url", "http://10.0.0.5:8123/", "--cdn-url"]
    result = CliRunner().invoke(emulator_command, [*args, "http://cdn.lan:9000"])
    assert result.exit_code == 0, result.output
    assert served["config"].base_url == "http://10.0.0.5:8123"
    assert served["config"].cdn_base_url == "http://cdn.lan:9000"
    bad = CliRunner().invoke(emulator_command, ["--public-url", "10.0.0.5:8123"])
    assert bad.exit_code == 2 and "http(s) URL" in bad.output


def test_an_idle_connection_outlives_an_httpx_clients_keepalive() -> None:
    # httpx drops an idle connection after 5 s; were the server to close it at the same
    # moment, a create sent on it would be lost in flight and its shot `unknown`.
    expiry = httpx.AsyncClient()._transport._pool._keepalive_expiry  # type: ignore[attr-defined]
    assert expiry is not None and expiry + 5 < vidpipe.emulator.server.KEEP_ALIVE_SECONDS
    with running_server(EmulatorConfig(job_seconds=0)) as base:
        url = httpx.URL(base)
        conn = http.client.HTTPConnection(url.host, url.port, timeout=10)
        try:
            conn.request("GET", "/_emulator/stats")
            first = conn.getresponse()
            first.read()
            sock = conn.sock
            assert first.status == 200 and sock is not None
            time.sleep(expiry + 0.5)
            conn.request("GET", "/_emulator/stats")  # on the same, still open, connection
            second = conn.getresponse()
            assert second.status == 200 and conn.sock is sock
            second.read()
        finally:
            conn.close()
