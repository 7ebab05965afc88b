"""Send one webhook POST to a checked, pinned address: SSRF-safe, no redirects, bounded in time.

The URL's host name is resolved and every address checked (shared/ssrf.resolve_and_check) right before
sending; the connection then goes to exactly a checked address, never re-resolving the name (DNS rebinding
cannot swap in an internal address), while the Host header and the TLS SNI / certificate check keep the
URL's host name. Redirects are never followed (http.client does not follow them): a 3xx is just a failed
attempt. The whole attempt, connect to last byte, is bounded by `timeout_s` with a watchdog.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from shared.ssrf import SockAddr, UnsafeTargetError, resolve_and_check, validate_webhook_url
from shared.webhook_schedule import AttemptResult, honours_retry_after, parse_retry_after

MAX_RESPONSE_BYTES = 4096  # the body is not needed; read a little so the server sees a clean close
USER_AGENT = "credits-platform-webhooks/1"

Resolver = Callable[[str, int, bool], list[tuple[int, SockAddr]]]


@dataclass(frozen=True)
class SendPolicy:
    timeout_s: float
    allow_loopback: bool
    require_https: bool


def _connect_pinned(addresses: list[tuple[int, SockAddr]], timeout_s: float) -> socket.socket:
    last_error: OSError | None = None
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout_s)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last_error = exc
    assert last_error is not None
    raise last_error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, addresses: list[tuple[int, SockAddr]], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def connect(self) -> None:
        self.sock = _connect_pinned(self._addresses, float(self.timeout or 0) or 15.0)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(
        self,
        host: str,
        port: int,
        addresses: list[tuple[int, SockAddr]],
        timeout: float,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._addresses = addresses
        self._context = context

    def connect(self) -> None:
        raw = _connect_pinned(self._addresses, float(self.timeout or 0) or 15.0)
        # SNI and certificate verification use the URL's host name, not the pinned address.
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def _close_on_deadline(connection: http.client.HTTPConnection) -> None:
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def post_webhook(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    policy: SendPolicy,
    now: datetime,
    resolver: Resolver = resolve_and_check,
) -> AttemptResult:
    """POST once; every failure becomes an AttemptResult (never raises for network or target problems)."""
    started = time.monotonic()

    def result(status: int | None, error: str | None, retry_after: str | None = None) -> AttemptResult:
        delay = parse_retry_after(retry_after, now) if honours_retry_after(status) else None
        elapsed = int((time.monotonic() - started) * 1000)
        return AttemptResult(status_code=status, error=error, duration_ms=elapsed, retry_after=delay)

    problem = validate_webhook_url(url, require_https=policy.require_https)
    if problem is not None:
        return result(None, f"invalid URL: {problem}")
    parts = urlsplit(url)
    https = parts.scheme.lower() == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    try:
        addresses = resolver(host, port, policy.allow_loopback)
    except UnsafeTargetError as exc:
        return result(None, f"refused: {exc.reason}")
    except (socket.gaierror, UnicodeError) as exc:
        return result(None, f"DNS resolution failed: {exc}")

    connection: http.client.HTTPConnection
    if https:
        connection = _PinnedHTTPSConnection(
            host, port, addresses, policy.timeout_s, ssl.create_default_context()
        )
    else:
        connection = _PinnedHTTPConnection(host, port, addresses, policy.timeout_s)
    # Per-operation socket timeouts do not bound a server that trickles bytes; the watchdog bounds it all.
    watchdog = threading.Timer(policy.timeout_s, _close_on_deadline, args=(connection,))
    watchdog.daemon = True
    watchdog.start()
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        request_headers = {"User-Agent": USER_AGENT, **headers}
        connection.request("POST", path, body=body, headers=request_headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        error = None
        if 300 <= response.status < 400:
            error = f"redirect not followed (Location: {(response.getheader('Location') or '')[:200]})"
        return result(response.status, error, response.getheader("Retry-After"))
    except TimeoutError:
        return result(None, f"timed out after {policy.timeout_s:g} s")
    except ConnectionRefusedError:
        return result(None, "connection refused")
    except ssl.SSLError as exc:
        return result(None, f"TLS error: {exc.reason or exc}")
    except (OSError, http.client.HTTPException) as exc:
        if time.monotonic() - started >= policy.timeout_s:
            return result(None, f"timed out after {policy.timeout_s:g} s")
        return result(None, f"connection error: {type(exc).__name__}: {exc}")
    finally:
        watchdog.cancel()
        connection.close()
