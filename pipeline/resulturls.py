"""Which result URLs a download may fetch: a gateway names them, so they are not trusted.

A result URL (and every URL a redirect leads to) must be http or https. By default it is
refused when its host is a loopback, private, link-local or cloud-metadata address, written
as an IP in any form the system resolver takes (`127.1`, `2130706433`, `[::ffff:7f00:1]`) or
as a name such as `localhost`, and again when the address the connection actually reached
is one (a public name that resolves to a private address). Exceptions:

- the provider's own `base_url` is on such an address (the emulator on this machine, a
  gateway on the LAN): that kind of address (loopback, or private) is allowed, as is any
  kind the API's own answers were seen to come from;
- the provider sets `allow_private_urls: true`, which allows every kind.

Cloud-metadata addresses (169.254.169.254 and the like) are allowed only by the option.
"""

from __future__ import annotations

import ipaddress
import re
import socket

import attrs
import httpx

from .errors import UnsafeURL

__all__ = ["ResultUrlPolicy", "address_kind", "host_kind", "peer_address"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
        "169.254.170.2",  # AWS ECS task metadata
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS over IPv6
    )
)
_METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$")
_SCHEMES = ("http", "https")
#: Kinds a `base_url` on such an address makes acceptable for its result URLs.
_TRUSTABLE = frozenset({"loopback", "private", "link-local"})


def address_kind(address: IPAddress) -> str | None:
    """ "metadata", "loopback", "link-local", "private" (any other non-public range) or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _METADATA_ADDRESSES:
        return "metadata"
    if address.is_loopback or address.is_unspecified:  # 0.0.0.0 reaches this machine
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if not address.is_global:
        return "private"
    return None


def _parse_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):  # forms the resolver reads as IPv4: 127.1, 0x7f000001
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def host_kind(host: str) -> str | None:
    """The kind of address a URL's host names (see `address_kind`), or None for a public
    address or a name that is not known to be local."""
    name = host.strip("[]").rstrip(".").lower()
    address = _parse_address(name.partition("%")[0])  # an IPv6 zone does not change it
    if address is not None:
        return address_kind(address)
    if name == "localhost" or name.endswith(".localhost"):
        return "loopback"
    if name in _METADATA_NAMES:
        return "metadata"
    return None


def peer_address(response: httpx.Response) -> str | None:
    """The IP address the response came from, when it came over a network connection."""
    stream = response.extensions.get("network_stream")
    get = getattr(stream, "get_extra_info", None)
    if get is None:
        return None
    try:
        server = get("server_addr")
    except Exception:  # a transport that cannot tell
        return None
    if isinstance(server, tuple) and server and isinstance(server[0], str):
        return server[0]
    return None


def _peer_kind(address: str | None) -> str | None:
    parsed = _parse_address(address.partition("%")[0]) if address else None
    return address_kind(parsed) if parsed is not None else None


@attrs.define
class ResultUrlPolicy:
    """What one provider's result URLs may point at."""

    base_url: str
    allow_private: bool = False
    trusted: set[str] = attrs.field(factory=set)

    def __attrs_post_init__(self) -> None:
        try:
            kind = host_kind(httpx.URL(self.base_url).host)
        except httpx.InvalidURL:
            kind = None
        if kind in _TRUSTABLE:
            self.trusted.add(kind)

    def learn_api_peer(self, response: httpx.Response) -> None:
        """An answer of the API itself: the kind of address it came from is acceptable."""
        kind = _peer_kind(peer_address(response))
        if kind in _TRUSTABLE:
            self.trusted.add(kind)

    def _refuse(self, kind: str | None) -> bool:
        return kind is not None and not self.allow_private and kind not in self.trusted

    def check_url(self, url: str, *, what: str) -> None:
        """Raise `UnsafeURL` unless `url` is http(s) on an acceptable host."""
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            raise UnsafeURL(f"{what}: the result URL is not a valid URL") from None
        if parsed.scheme not in _SCHEMES or not parsed.host:
            shown = parsed.scheme or "no scheme"
            raise UnsafeURL(f"{what}: the result URL is not http(s) ({shown}); not fetched")
        kind = host_kind(parsed.host)
        if self._refuse(kind):
            raise UnsafeURL(self._message(what, parsed.host, kind))

    def check_peer(self, response: httpx.Response, *, what: str) -> None:
        """Raise `UnsafeURL` when the connection reached an address that is not acceptable."""
        address = peer_address(response)
        kind = _peer_kind(address)
        if self._refuse(kind):
            raise UnsafeURL(self._message(what, f"{response.url.host} ({address})", kind))

    def _message(self, what: str, host: str, kind: str | None) -> str:
        return (
            f"{what}: the result URL points at {host}, a {kind} address; refused (set "
            "allow_private_urls: true on the provider if it is meant)"
        )
