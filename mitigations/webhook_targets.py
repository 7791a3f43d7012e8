"""Where a webhook may go: a public address, over https, unless the operator says otherwise.

A team admin chooses the URL, and the server makes the request, so an unchecked URL lets any
team admin probe and call the hosts around the server: its loopback services, the private
network, the cloud metadata service with its credentials (issue 13.3). ``check_url`` runs at
save (a clear form error) and again before every delivery attempt, because what a name resolves
to can change in between. It resolves the host once and checks every address it gets; the
transport then connects to the checked address itself (``Target.address``), so a second lookup
cannot answer differently (DNS rebinding).

Refused: loopback, private (RFC 1918, fc00::/7), link-local (169.254/16, fe80::/10), CGNAT
(100.64/10), multicast, unspecified, reserved and otherwise non-global addresses, IPv6 forms
that embed such an IPv4 address, and cloud metadata addresses and names, which
``WEBHOOK_ALLOWED_PRIVATE_HOSTS`` (host names or CIDRs) can never open. Plain http is refused
while ``WEBHOOK_REQUIRE_HTTPS`` is on (the default outside DEBUG). Reasons are plain text and
never say what a name resolved to, so refusals do not map the internal network either.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        "169.254.170.2",  # AWS ECS task credentials
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure wire server (a public address, so listed by hand)
        "192.0.0.192",  # Oracle Cloud
    )
)
METADATA_NAMES = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"}
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(Exception):
    """The URL may not be delivered to; the message is safe to show and to store."""


@dataclass(frozen=True)
class Target:
    """A checked URL: connect to ``address``, speak to ``host`` (Host header, SNI, certificate)."""

    scheme: str
    host: str
    port: int
    address: str
    path: str


def _allow_list() -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    names, networks = set(), []
    for entry in getattr(settings, "WEBHOOK_ALLOWED_PRIVATE_HOSTS", []) or []:
        text = str(entry).strip().lower().rstrip(".")
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text.strip("[]"), strict=False))
        except ValueError:
            names.add(text)
    return frozenset(names), tuple(networks)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, Teredo), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` is no place for a webhook (None: a public unicast address)."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        return address_refusal(inner)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (isinstance(address, ipaddress.IPv4Address) and address in CGNAT, "a shared (CGNAT) address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def _allowed(host: str, address: IPAddress, names: frozenset[str], networks: tuple[IPNetwork, ...]) -> bool:
    """On the operator's allow-list (by host name or network), and not a metadata address."""
    if {address, _embedded_ipv4(address)} & METADATA_ADDRESSES:
        return False
    return host in names or any(address in network for network in networks)


def _parse(url: str) -> tuple[str, str, int, str, bool]:
    """(scheme, host, port, path, host is an IP literal) of an http(s) URL, or TargetRefused."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError as exc:
        raise TargetRefused("This is not a valid URL.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("Use an http(s) URL with a host name.")
    if scheme == "http" and getattr(settings, "WEBHOOK_REQUIRE_HTTPS", not settings.DEBUG):
        raise TargetRefused("Use an https URL: webhooks are not sent over plain http.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("Leave the user name and password out of the URL; the body is signed instead.")
    host = parts.hostname.lower().rstrip(".")
    try:
        host = str(ipaddress.ip_address(host.split("%")[0]))  # an IPv6 zone says nothing about where
        literal = True
    except ValueError:
        literal = False
        if "%" in host:
            raise TargetRefused("This is not a valid host name.") from None
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise TargetRefused("This is not a valid host name.") from exc
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path, literal


def check_url(url: str) -> Target:
    """Resolve and check ``url`` (see the module docstring); the Target to connect to, or refuse."""
    scheme, host, port, path, literal = _parse(url)
    names, networks = _allow_list()
    if host in METADATA_NAMES:
        raise TargetRefused("This host name is a cloud metadata service.")
    if not literal and (host == "localhost" or host.endswith(".localhost")) and host not in names:
        raise TargetRefused("This host name is this machine (loopback).")
    if literal:
        found = [ipaddress.ip_address(host)]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise TargetRefused("This host name does not resolve.") from exc
        found = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))
        if not found:
            raise TargetRefused("This host name does not resolve.")
    for address in found:
        if _allowed(host, address, names, networks):
            continue
        reason = address_refusal(address)
        if reason is not None:
            where = "This address is" if literal else "This host name resolves to"
            raise TargetRefused(f"{where} {reason}; webhooks only go to public addresses.")
    return Target(scheme=scheme, host=host, port=port, address=str(found[0]), path=path)
