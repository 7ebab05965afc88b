"""The client's address, as Google's front end reports it: the one thing an anonymous request is limited by.

Cloud Run (and so Cloud Functions gen2) puts requests behind Google's front end, which *appends* the address
of whoever connected to `X-Forwarded-For`. Entries before it are whatever the client sent and prove nothing;
the last one is the front end's own observation and cannot be chosen by the client. Firebase Hosting
forwards `/v1/**` the same way, so there the last entry is the Hosting edge that connected (shared by the
clients of that edge: still nothing a client can pick). Behind an external Application Load Balancer (Cloud
Armor, docs/deploy.md) the balancer appends its own address after the client's: `TRUSTED_PROXY_HOPS=1` then
takes the entry before it. No other header (X-Real-IP, Forwarded, Fastly-Client-IP, ...) is ever read.

IPv6 addresses are limited per /64: one subscriber commonly holds a whole /64 and could rotate through it.
"""

from __future__ import annotations

import ipaddress

FORWARDED_FOR = "X-Forwarded-For"
IPV6_PREFIX = 64


def normalized(address: str) -> str | None:
    """A canonical bucket name for an IP address (IPv6 by its /64), or None when it is not one."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        network = ipaddress.IPv6Network((parsed, IPV6_PREFIX), strict=False)
        return str(network)
    return str(parsed)


def client_address(forwarded_for: str | None, remote_addr: str | None, trusted_hops: int = 0) -> str:
    """The address to limit: the `X-Forwarded-For` entry `trusted_hops` from the end (the one Google's
    front end, or the first trusted proxy, appended), else the socket's peer (local development)."""
    if forwarded_for:
        hops = [hop.strip() for hop in forwarded_for.split(",")]
        index = len(hops) - 1 - trusted_hops
        if index >= 0:
            found = normalized(hops[index])
            if found is not None:
                return found
        # Unparseable where the front end writes: nothing to trust, so all such requests share one bucket.
        return "unknown"
    return normalized(remote_addr or "") or "unknown"
