"""SSRF protection for outgoing requests (webhook deliveries, job dispatches).

Flow: ``validate_target_url`` when a URL is registered, then
``resolve_and_check`` before every delivery; the caller must connect to the
returned socket addresses (not re-resolve the name) so DNS rebinding cannot
swap in an internal address after the check.
"""

import ipaddress
import socket
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SockAddr = tuple[Any, ...]
AddrInfo = tuple[int, int, int, str, SockAddr]
Resolver = Callable[[str, int, int, int], Sequence[AddrInfo]]

MAX_URL_LENGTH = 2048

# Explicit lists, because ``is_global`` differs between Python patch releases
# (3.11.7 calls 192.0.0.8, 224.0.0.1 and fec0::1 global).
# Multicast 224/4 and reserved 240/4 (incl. 255.255.255.255) are listed too.
_BLOCKED_V4 = tuple(map(ipaddress.IPv4Network, (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
)))  # fmt: skip
# 6to4, Teredo and NAT64 are refused outright rather than decoded: the real
# destination depends on relays/gateways we do not control, and no legitimate
# webhook receiver needs them.
_BLOCKED_V6 = tuple(map(ipaddress.IPv6Network, (
    "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32", "2002::/16",
    "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
)))  # fmt: skip
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class UnsafeTargetError(Exception):
    """The webhook target resolves to an address we must not connect to.

    `reason` is shown to the customer (the delivery log) and never names an address a host name resolved
    to: that would map our internal network for whoever controls the DNS. `detail` is for our logs only."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail or reason


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """IPv4 address a socket would really reach for ::ffff:a.b.c.d and ::a.b.c.d."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are themselves
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_public_address(embedded)
        if ip not in _GLOBAL_UNICAST_V6 or any(ip in n for n in _BLOCKED_V6):
            return False
    elif any(ip in n for n in _BLOCKED_V4):
        return False
    return ip.is_global and not ip.is_multicast


def _is_loopback(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return embedded.is_loopback
    return ip.is_loopback


def _parse_ipv4_part(part: str) -> int | None:
    """One inet_aton/WHATWG number: 0x.. hex, leading 0 octal, else decimal."""
    if part[:2].lower() == "0x":
        digits, base, allowed = part[2:], 16, "0123456789abcdefABCDEF"
    elif len(part) > 1 and part.startswith("0"):
        digits, base, allowed = part[1:], 8, "01234567"
    else:
        digits, base, allowed = part, 10, "0123456789"
    if not digits:
        return 0 if base == 16 else None  # "0x" alone is 0 for URL parsers
    if len(digits) > 32 or any(ch not in allowed for ch in digits):
        return None
    return int(digits, base)


def _parse_ipv4(text: str) -> ipaddress.IPv4Address | None:
    parts = text.removesuffix(".").split(".")
    if not 1 <= len(parts) <= 4 or "" in parts:
        return None
    numbers = [_parse_ipv4_part(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    # "127.1" = 127.0.0.1: the last number fills all remaining bytes.
    if any(v > 255 for v in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        return None
    value = 0
    for v in values[:-1]:
        value = value * 256 + v
    return ipaddress.IPv4Address((value << (8 * (5 - len(values)))) + values[-1])


def parse_host_address(text: str) -> IPAddress | None:
    """Parse an IP literal in any form resolvers accept; None means a hostname."""
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    elif ":" not in text:
        return _parse_ipv4(text)
    try:
        return ipaddress.IPv6Address(text)
    except ValueError:
        return None


def _ends_in_number(host: str) -> bool:
    """WHATWG treats such hosts as IPv4; if ours did not parse, refuse the host."""
    last = host.removesuffix(".").rsplit(".", 1)[-1]
    return last != "" and ((last.isascii() and last.isdigit()) or last[:2].lower() == "0x")


def _check(ip: IPAddress, allow_loopback: bool, resolved: bool = False) -> None:
    if is_public_address(ip) or (allow_loopback and _is_loopback(ip)):
        return
    what = "the host name resolves to an address" if resolved else "the target address"
    raise UnsafeTargetError(f"{what} that is not publicly routable", detail=f"address {ip} is not public")


def resolve_and_check(
    host: str,
    port: int,
    allow_loopback: bool,
    resolver: Resolver = socket.getaddrinfo,
) -> list[tuple[int, SockAddr]]:
    """Return (family, sockaddr) pairs to connect to; refuse if ANY is unsafe.

    IP literals (in any encoding) are checked without calling the resolver.
    Resolver errors (socket.gaierror) propagate: they are transient, not unsafe.
    """
    if not 0 < port < 65536:
        raise UnsafeTargetError(f"port {port} out of range")
    literal = parse_host_address(host)
    if literal is not None:
        _check(literal, allow_loopback)
        if isinstance(literal, ipaddress.IPv4Address):
            return [(socket.AF_INET, (str(literal), port))]
        return [(socket.AF_INET6, (str(literal), port, 0, 0))]
    if host.startswith("[") or _ends_in_number(host):
        raise UnsafeTargetError(f"malformed IP address {host!r}")

    results: list[tuple[int, SockAddr]] = []
    for family, _, _, _, sockaddr in resolver(host, port, 0, socket.SOCK_STREAM):
        if family not in (socket.AF_INET, socket.AF_INET6):
            raise UnsafeTargetError(f"unexpected address family {family}")
        try:
            address = ipaddress.ip_address(sockaddr[0])
        except ValueError as exc:
            raise UnsafeTargetError(
                "the host name resolved to an unusable address", detail=f"bad address {sockaddr[0]!r}"
            ) from exc
        _check(address, allow_loopback, resolved=True)
        if (family, sockaddr) not in results:
            results.append((family, sockaddr))
    if not results:
        raise UnsafeTargetError(f"{host!r} resolved to no addresses")
    return results


_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-._")


def validate_target_url(url: str, *, require_https: bool) -> str | None:
    """Return why the URL is unacceptable, or None. Addresses are checked at send time."""
    if len(url) > MAX_URL_LENGTH:
        return f"URL is longer than {MAX_URL_LENGTH} characters"
    # Parsers disagree on whitespace, backslashes and Unicode (urlsplit drops tabs,
    # browsers map "\" to "/" and fullwidth digits to ASCII): refuse them all.
    if not url.isascii() or any(ch <= " " or ch in "\x7f\\" for ch in url):
        return "URL must be ASCII without spaces, control characters or backslashes"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "URL is malformed or its port is out of range"
    if parts.scheme.lower() not in ("http", "https"):
        return "URL scheme must be http or https"
    if require_https and parts.scheme.lower() != "https":
        return "URL must use https"
    if "@" in parts.netloc:
        return "URL must not contain credentials"
    if "#" in url:
        return "URL must not contain a fragment"
    host = parts.hostname
    if not host:
        return "URL must include a host"
    if port is not None and not 0 < port < 65536:
        return "URL port is out of range"
    if parts.netloc.rpartition("]")[0].startswith("["):
        return None if parse_host_address(host) is not None else "invalid IPv6 address"
    if not set(host) <= _HOST_CHARS or ".." in host or host.startswith("."):
        return "URL host contains invalid characters"
    address = parse_host_address(host)
    if address is not None and str(address) != host.removesuffix("."):
        return "IP addresses must be written in plain dotted-decimal form"
    if address is None and _ends_in_number(host):
        return "URL host is not a valid IP address"
    return None
