import ipaddress
import socket
from collections.abc import Sequence

import pytest

from shared.outbound.ssrf import (
    AddrInfo,
    UnsafeTargetError,
    is_public_address,
    parse_host_address,
    resolve_and_check,
    validate_target_url,
)

NOT_PUBLIC = [
    # private
    "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255", "192.168.1.1",
    # loopback
    "127.0.0.1", "127.255.255.254", "::1",
    # link-local, including the cloud metadata endpoint
    "169.254.169.254", "169.254.0.1", "fe80::1", "fe80::1%eth0",
    # CGNAT, "this network", benchmarking, IETF protocol assignments
    "100.64.0.1", "100.127.255.255", "0.0.0.0", "0.1.2.3", "198.18.0.1", "198.19.255.255",  # noqa: S104
    "192.0.0.8", "192.0.0.170", "192.88.99.1",
    # documentation
    "192.0.2.1", "198.51.100.1", "203.0.113.1", "2001:db8::1", "3fff::1",
    # multicast, reserved, broadcast, unspecified
    "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "ff02::1", "ff0e::1", "::",
    # IPv6 unique-local, site-local, discard, reserved
    "fc00::1", "fd12:3456::1", "fec0::1", "100::1", "4000::1",
    # IPv4-mapped / IPv4-compatible forms of internal addresses
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:0.0.0.0",
    "::127.0.0.1", "::10.0.0.1", "::ffff:0:127.0.0.1",
    # 6to4, Teredo and NAT64 are refused outright, even wrapping public addresses
    "2002:7f00:1::1", "2002:808:808::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "64:ff9b::808:808", "64:ff9b::7f00:1", "64:ff9b:1::1",
]  # fmt: skip

PUBLIC = [
    "8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "2001:4860:4860::8888",
    "::ffff:8.8.8.8", "::8.8.8.8", "100.63.255.255", "100.128.0.0", "172.32.0.1", "198.20.0.1",
]  # fmt: skip


@pytest.mark.parametrize("text", NOT_PUBLIC)
def test_not_public(text: str) -> None:
    assert not is_public_address(ipaddress.ip_address(text))


@pytest.mark.parametrize("text", PUBLIC)
def test_public(text: str) -> None:
    assert is_public_address(ipaddress.ip_address(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1.2", "10.1.0.2"),
        ("0", "0.0.0.0"),  # noqa: S104
        ("0x", "0.0.0.0"),  # noqa: S104
        ("017700000001", "127.0.0.1"),
        ("169.254.43518", "169.254.169.254"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("[::ffff:7f00:1]", "::ffff:7f00:1"),
    ],
)
def test_parse_host_address(text: str, expected: str) -> None:
    assert parse_host_address(text) == ipaddress.ip_address(expected)


@pytest.mark.parametrize(
    "text",
    ["example.com", "localhost", "1.2.3.4.5", "256.0.0.1", "1.2.3.256", "4294967296", "08.0.0.1",
     "0x1g.0.0.1", "127..1", "1.2.3.4a", "١٢٧.0.0.1", "[example.com]", "[1.2.3.4]", "", "[]"],
)  # fmt: skip
def test_parse_host_address_non_ip(text: str) -> None:
    assert parse_host_address(text) is None


def fake_resolver(*answers: str) -> "FakeResolver":
    return FakeResolver(answers)


class FakeResolver:
    """Stands in for socket.getaddrinfo so tests never touch DNS."""

    def __init__(self, answers: Sequence[str]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int, family: int, type: int) -> list[AddrInfo]:
        self.calls.append((host, port))
        result: list[AddrInfo] = []
        for answer in self.answers:
            if ":" in answer:
                result.append((socket.AF_INET6, type, 6, "", (answer, port, 0, 0)))
            else:
                result.append((socket.AF_INET, type, 6, "", (answer, port)))
        return result


def test_resolve_public_answers_returned() -> None:
    resolver = fake_resolver("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "93.184.215.14")
    result = resolve_and_check("example.com", 443, False, resolver)
    assert result == [
        (socket.AF_INET, ("93.184.215.14", 443)),
        (socket.AF_INET6, ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", 443, 0, 0)),
    ]
    assert resolver.calls == [("example.com", 443)]


def test_resolve_one_private_answer_refuses_all() -> None:
    with pytest.raises(UnsafeTargetError, match="not publicly routable") as caught:
        resolve_and_check("rebind.example", 443, False, fake_resolver("8.8.8.8", "10.0.0.5"))
    # The address is for our logs only: the reason reaches the customer's delivery log.
    assert "10.0.0.5" not in caught.value.reason and "10.0.0.5" in caught.value.detail


@pytest.mark.parametrize("loopback", ["127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1"])
def test_loopback_allowed_only_with_flag(loopback: str) -> None:
    with pytest.raises(UnsafeTargetError):
        resolve_and_check("dev.local", 8080, False, fake_resolver(loopback))
    assert resolve_and_check("dev.local", 8080, True, fake_resolver(loopback))


@pytest.mark.parametrize("address", ["10.0.0.1", "192.168.0.1", "169.254.169.254", "0.0.0.0", "fd00::1"])  # noqa: S104
def test_private_refused_even_with_loopback_flag(address: str) -> None:
    with pytest.raises(UnsafeTargetError):
        resolve_and_check("dev.local", 8080, True, fake_resolver("127.0.0.1", address))


def test_no_answers_refused() -> None:
    with pytest.raises(UnsafeTargetError, match="no addresses"):
        resolve_and_check("empty.example", 443, False, fake_resolver())


def test_bad_resolver_answer_refused() -> None:
    with pytest.raises(UnsafeTargetError, match="unusable address"):
        resolve_and_check("odd.example", 443, False, fake_resolver("not-an-ip"))


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "[::1]", "::ffff:127.0.0.1"]
)
def test_encoded_literals_checked_without_resolver(host: str) -> None:
    resolver = fake_resolver("8.8.8.8")
    with pytest.raises(UnsafeTargetError):
        resolve_and_check(host, 80, False, resolver)
    assert resolve_and_check(host, 80, True, resolver)
    assert resolver.calls == []


def test_literal_returns_normalised_sockaddr() -> None:
    assert resolve_and_check("0x08080808", 443, False, fake_resolver()) == [
        (socket.AF_INET, ("8.8.8.8", 443))
    ]
    assert resolve_and_check("[2606:4700:4700::1111]", 443, False, fake_resolver()) == [
        (socket.AF_INET6, ("2606:4700:4700::1111", 443, 0, 0))
    ]


@pytest.mark.parametrize("host", ["1.2.3.08", "1.2.3.4.5", "256.1.1.1", "[example.com]"])
def test_malformed_numeric_hosts_refused_without_resolver(host: str) -> None:
    resolver = fake_resolver("8.8.8.8")
    with pytest.raises(UnsafeTargetError, match="malformed"):
        resolve_and_check(host, 80, False, resolver)
    assert resolver.calls == []


@pytest.mark.parametrize("port", [0, -1, 65536])
def test_port_out_of_range(port: int) -> None:
    with pytest.raises(UnsafeTargetError, match="port"):
        resolve_and_check("example.com", port, False, fake_resolver("8.8.8.8"))


def test_real_localhost_resolution() -> None:
    # "localhost" is answered from /etc/hosts; no network involved.
    with pytest.raises(UnsafeTargetError):
        resolve_and_check("localhost", 8080, False)
    addresses = resolve_and_check("localhost", 8080, True)
    assert all(ipaddress.ip_address(sockaddr[0]).is_loopback for _, sockaddr in addresses)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/webhooks",
        "https://example.com:8443/hook?x=1&y=@",
        "https://api.example.com./hook",
        "https://8.8.8.8/hook",
        "https://[2606:4700:4700::1111]:443/hook",
        "https://my_host.example.com/",
        "HTTPS://EXAMPLE.COM/",
    ],
)
def test_valid_urls(url: str) -> None:
    assert validate_target_url(url, require_https=True) is None


def test_http_allowed_only_when_not_requiring_https() -> None:
    assert validate_target_url("http://localhost:8080/hook", require_https=False) is None
    assert validate_target_url("http://example.com/hook", require_https=True) == "URL must use https"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://example.com/", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("//example.com/", "scheme"),
        ("https://user:pass@example.com/", "credentials"),
        ("https://user@example.com/", "credentials"),
        ("https://example.com@evil.com/", "credentials"),
        ("https://example.com/#frag", "fragment"),
        ("https://example.com/#", "fragment"),
        ("https:///path", "host"),
        ("https://:443/path", "host"),
        ("https://example.com:0/", "port"),
        ("https://example.com:65536/", "port"),
        ("https://example.com:abc/", "port"),
        ("https://example.com/" + "a" * 2048, "longer"),
        ("https://exa mple.com/", "ASCII"),
        ("https://example.com\t/", "ASCII"),
        ("https://example.com\\@evil.com/", "ASCII"),
        ("https://ex\u00e4mple.com/", "ASCII"),
        ("https://\uff11\uff12\uff17.0.0.1/", "ASCII"),
        ("https://%31%32%37.0.0.1/", "invalid characters"),
        ("https://exa..mple.com/", "invalid characters"),
        ("https://2130706433/", "dotted-decimal"),
        ("https://0x7f000001/", "dotted-decimal"),
        ("https://0177.0.0.1/", "dotted-decimal"),
        ("https://127.1/", "dotted-decimal"),
        ("https://1.2.3.08/", "not a valid IP"),
        ("https://example.999/", "not a valid IP"),
        ("https://[::1/", "malformed"),
        ("https://[not-ipv6]/", "malformed"),
    ],
)
def test_invalid_urls(url: str, reason: str) -> None:
    error = validate_target_url(url, require_https=False)
    assert error is not None and reason in error, error
