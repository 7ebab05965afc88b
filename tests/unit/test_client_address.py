"""shared/api/client_address.py: the address Google's front end appended, never one the client chose."""

from __future__ import annotations

from shared.api.client_address import client_address, normalized


def test_the_last_forwarded_entry_is_the_client() -> None:
    assert client_address("203.0.113.5", "169.254.1.1") == "203.0.113.5"
    # Whatever the client wrote first is ignored: the front end appends what it saw.
    assert client_address("1.2.3.4, 5.6.7.8, 203.0.113.5", "169.254.1.1") == "203.0.113.5"
    assert client_address(" 1.2.3.4 ,203.0.113.5 ", None) == "203.0.113.5"


def test_trusted_hops_skip_our_own_proxies() -> None:
    # Behind an external load balancer: client-sent, the client, the balancer.
    assert client_address("6.6.6.6, 203.0.113.5, 35.191.0.1", None, trusted_hops=1) == "203.0.113.5"
    assert client_address("203.0.113.5", None, trusted_hops=1) == "unknown"  # fewer hops than trusted


def test_unparseable_or_missing_addresses_share_one_bucket() -> None:
    assert client_address("1.2.3.4, not-an-address", None) == "unknown"
    assert client_address(None, "127.0.0.1") == "127.0.0.1"  # local development: the socket's peer
    assert client_address(None, None) == "unknown"
    assert client_address("", "garbage") == "unknown"


def test_ipv6_is_limited_per_64_and_mapped_ipv4_as_ipv4() -> None:
    a = normalized("2001:db8:1:2:aaaa::1")
    b = normalized("2001:db8:1:2:bbbb::9")
    assert a == b == "2001:db8:1:2::/64"
    assert normalized("2001:db8:1:3::1") != a
    assert normalized("::ffff:203.0.113.5") == "203.0.113.5"
    assert normalized("x") is None
