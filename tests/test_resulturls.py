"""The result URL policy: which hosts a gateway may send a download to, by default and when
the provider is itself on a local address or allows private URLs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from vidpipe.errors import UnsafeURL
from vidpipe.resulturls import ResultUrlPolicy, host_kind, peer_address
from vidpipe.transport import Connection

from .hostile import hostile_gateway
from .test_adapters import KEY, MP4, Server, adapter, server, snap  # noqa: F401


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.1", "loopback"),
        ("2130706433", "loopback"),
        ("0x7f000001", "loopback"),
        ("017700000001", "loopback"),
        ("[::1]", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "loopback"),
        ("localhost", "loopback"),
        ("LOCALHOST.", "loopback"),
        ("api.localhost", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.0.1", "private"),
        ("100.64.0.1", "private"),
        ("fc00::1", "private"),
        ("169.254.1.1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("169.254.169.254", "metadata"),
        ("[fd00:ec2::254]", "metadata"),
        ("100.100.100.200", "metadata"),
        ("metadata.google.internal", "metadata"),
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
        ("cdn.example.com", None),
        ("1e100.net", None),
    ],
)
def test_host_kinds(host: str, kind: str | None) -> None:
    assert host_kind(host) == kind


def refused(policy: ResultUrlPolicy, url: str) -> bool:
    try:
        policy.check_url(url, what="download t")
    except UnsafeURL:
        return True
    return False


def test_a_public_gateway_may_not_send_downloads_to_local_addresses() -> None:
    policy = ResultUrlPolicy("https://api.example.com")
    assert not refused(policy, "https://cdn.example.com/v.mp4")
    for url in (
        "http://127.0.0.1:8123/v.mp4",
        "http://localhost/v.mp4",
        "http://2130706433/v.mp4",
        "http://10.0.0.2/v.mp4",
        "http://[fe80::1]/v.mp4",
        "http://169.254.169.254/latest/meta-data/",
    ):
        assert refused(policy, url), url


def test_non_http_schemes_are_refused_whatever_the_options() -> None:
    policy = ResultUrlPolicy("https://api.example.com", allow_private=True)
    for url in ("file:///etc/passwd", "ftp://cdn.example.com/v.mp4", "data:video/mp4,AAAA"):
        with pytest.raises(UnsafeURL, match="not http"):
            policy.check_url(url, what="download t")


def test_a_gateway_on_loopback_may_use_loopback_but_nothing_more_local() -> None:
    policy = ResultUrlPolicy("http://127.0.0.1:8123/apifree")
    assert not refused(policy, "http://localhost:8123/cdn/v.mp4")
    assert refused(policy, "http://192.168.1.2/v.mp4")
    assert refused(policy, "http://169.254.169.254/")


def test_a_gateway_on_the_lan_may_use_the_lan_but_not_this_machine() -> None:
    policy = ResultUrlPolicy("http://192.168.1.10:3000")
    assert not refused(policy, "http://192.168.1.11/v.mp4")
    assert not refused(policy, "http://10.1.1.1/v.mp4")
    assert refused(policy, "http://127.0.0.1/v.mp4")
    assert refused(policy, "http://169.254.169.254/")


def test_allow_private_urls_allows_every_address() -> None:
    policy = ResultUrlPolicy("https://api.example.com", allow_private=True)
    for url in ("http://127.0.0.1/v.mp4", "http://10.0.0.2/v", "http://169.254.169.254/"):
        assert not refused(policy, url)


class _Stream:
    def __init__(self, address: str) -> None:
        self.address = address

    def get_extra_info(self, name: str) -> Any:
        return (self.address, 443) if name == "server_addr" else None


def answer(url: str, address: str | None) -> httpx.Response:
    extensions = {} if address is None else {"network_stream": _Stream(address)}
    return httpx.Response(200, request=httpx.Request("GET", url), extensions=extensions)


def test_the_address_reached_is_checked_too() -> None:
    """A public name that resolves to a private address is refused after connecting."""
    policy = ResultUrlPolicy("https://api.example.com")
    policy.check_peer(answer("https://cdn.example.com/v", "93.184.216.34"), what="download t")
    policy.check_peer(answer("https://cdn.example.com/v", None), what="download t")
    with pytest.raises(UnsafeURL, match=r"cdn\.example\.com \(10\.0\.0\.9\), a private address"):
        policy.check_peer(answer("https://cdn.example.com/v", "10.0.0.9"), what="download t")


def test_a_gateway_name_answering_from_the_lan_makes_the_lan_acceptable() -> None:
    policy = ResultUrlPolicy("http://gateway.lan:3000")
    assert refused(policy, "http://192.168.1.11/v.mp4")
    policy.learn_api_peer(answer("http://gateway.lan:3000/v1/videos/x", "192.168.1.10"))
    assert not refused(policy, "http://192.168.1.11/v.mp4")
    policy.learn_api_peer(answer("http://gateway.lan:3000/v1/videos/x", "169.254.169.254"))
    assert refused(policy, "http://169.254.169.254/")  # metadata never becomes acceptable


async def test_httpx_tells_the_address_a_real_connection_reached() -> None:
    with hostile_gateway() as gateway:
        async with (
            httpx.AsyncClient() as client,
            client.stream("GET", f"{gateway.base_url}/anything") as response,
        ):
            assert peer_address(response) == "127.0.0.1"


async def test_a_loopback_result_url_from_a_public_gateway_is_never_requested(
    server: Server,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with Connection(
        "https://api.example.com", KEY, transport=httpx.MockTransport(server)
    ) as conn:
        download = adapter("newapi", conn).download
        with pytest.raises(UnsafeURL, match=r"127\.0\.0\.1, a loopback address; refused"):
            await download(snap("v1", "http://127.0.0.1:9/v.mp4"), tmp_path / "a.mp4")
    assert server.requests == []
    assert not (tmp_path / "a.mp4").exists()


async def test_the_option_lets_a_private_result_url_through(
    server: Server,  # noqa: F811
    tmp_path: Path,
) -> None:
    server.on("GET", "http://10.0.0.5/v.mp4", httpx.Response(200, content=MP4))
    transport = httpx.MockTransport(server)
    async with Connection(
        "https://api.example.com", KEY, transport=transport, allow_private_urls=True
    ) as conn:
        got = await adapter("newapi", conn).download(
            snap("v1", "http://10.0.0.5/v.mp4"), tmp_path / "a.mp4"
        )
    assert got.path.read_bytes() == MP4
