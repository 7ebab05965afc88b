"""Send one POST (a webhook delivery, a job dispatch) to a checked, pinned address: SSRF-safe, no redirects, bounded in time.

The URL's host name is resolved and every address checked (shared/outbound/ssrf.resolve_and_check) right before
sending; the connection then goes to exactly a checked address, never re-resolving the name (DNS rebinding
cannot swap in an internal address), while the Host header and the TLS SNI / certificate check keep the
URL's host name. Redirects are never followed (http.client does not follow them): a 3xx is just a failed
attempt. The whole attempt, connect to last byte, is bounded by `timeout_s` with a watchdog.
"""

from __future__ import annotations

import heapq
import http.client
import ipaddress
import itertools
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from shared.core import logs
from shared.outbound.results import AttemptResult, honours_retry_after, parse_retry_after
from shared.outbound.ssrf import SockAddr, UnsafeTargetError, resolve_and_check, validate_target_url

MAX_RESPONSE_BYTES = 4096  # the body is not needed; read a little so the server sees a clean close
USER_AGENT = "credits-platform-webhooks/1"

Resolver = Callable[[str, int, bool], list[tuple[int, SockAddr]]]


@dataclass(frozen=True)
class SendPolicy:
    timeout_s: float
    allow_loopback: bool
    require_https: bool
    # How much of the answer is read; job dispatch reads the worker's result, webhooks only drain a little.
    response_bytes: int = MAX_RESPONSE_BYTES


class _Deadline:
    """The end of the whole attempt. When it passes, the watchdog shuts down every socket the attempt has
    opened so far, and any socket opened later is refused: a connect or TLS handshake still under way
    when it fires cannot escape it, nor can a response still trickling in."""

    def __init__(self, timeout_s: float) -> None:
        self.at = time.monotonic() + timeout_s
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.expired = False
        self.finished = False

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise TimeoutError("attempt deadline passed")
        return left

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                raise TimeoutError("attempt deadline passed")
            self._sockets.append(sock)

    def finish(self) -> None:
        """The attempt is over: the watchdog leaves it alone from now on."""
        with self._lock:
            self.finished = True

    def expire(self) -> None:
        with self._lock:
            if self.finished:
                return
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                # socket.socket.shutdown, not SSLSocket's: it works mid-handshake and leaves TLS state alone.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass


class _Watchdog:
    """One thread that expires every attempt's deadline when it passes. A timer thread per attempt cost a
    thread start per delivery; deadlines are kept in a heap, and finished ones are dropped when they come up.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Deadline]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: _Deadline) -> None:
        with self._cond:
            heapq.heappush(self._heap, (deadline.at, next(self._order), deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="webhook-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].finished:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                left = self._heap[0][0] - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                due = heapq.heappop(self._heap)[2]
            due.expire()  # outside the lock: shutting sockets down may take a moment


_WATCHDOG = _Watchdog()


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _resolve_within(
    resolver: Resolver, host: str, port: int, allow_loopback: bool, deadline: _Deadline
) -> list[tuple[int, SockAddr]]:
    """The resolver's answer, or TimeoutError at the deadline: getaddrinfo cannot be interrupted, and the
    system resolver's own retries may take longer than the claim's lease assumes. A late answer is dropped."""
    if _is_ip_literal(host):
        # An address literal is not looked up (nothing to wait for): checked in this thread.
        return resolver(host, port, allow_loopback)
    outcome: list[list[tuple[int, SockAddr]] | BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append(resolver(host, port, allow_loopback))
        except BaseException as exc:  # handed to the caller's thread as is
            outcome.append(exc)
        done.set()

    threading.Thread(target=run, name="webhook-dns", daemon=True).start()
    if not done.wait(deadline.remaining()):
        raise TimeoutError("name resolution did not finish in time")
    answer = outcome[0]
    if isinstance(answer, BaseException):
        raise answer
    return answer


def _connect_pinned(addresses: list[tuple[int, SockAddr]], deadline: _Deadline) -> socket.socket:
    last_error: OSError | None = None
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(deadline.remaining())
            sock.connect(sockaddr)
            deadline.track(sock)
            sock.settimeout(deadline.remaining())
            return sock
        except TimeoutError:
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            last_error = exc
    assert last_error is not None
    raise last_error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(
        self, host: str, port: int, addresses: list[tuple[int, SockAddr]], deadline: _Deadline
    ) -> None:
        super().__init__(host, port, timeout=deadline.remaining())
        self._addresses = addresses
        self._deadline = deadline

    def connect(self) -> None:
        self.sock = _connect_pinned(self._addresses, self._deadline)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(
        self,
        host: str,
        port: int,
        addresses: list[tuple[int, SockAddr]],
        deadline: _Deadline,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, timeout=deadline.remaining(), context=context)
        self._addresses = addresses
        self._deadline = deadline
        self._context = context

    def connect(self) -> None:
        raw = _connect_pinned(self._addresses, self._deadline)
        # SNI and certificate verification use the URL's host name, not the pinned address.
        tls = self._context.wrap_socket(raw, server_hostname=self.host, do_handshake_on_connect=False)
        try:
            self._deadline.track(tls)
            tls.settimeout(self._deadline.remaining())
            tls.do_handshake()
        except BaseException:
            tls.close()
            raise
        self.sock = tls


def guarded_post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    policy: SendPolicy,
    now: datetime,
    resolver: Resolver = resolve_and_check,
) -> AttemptResult:
    """POST once; every failure becomes an AttemptResult (never raises for network or target problems)."""
    started = time.monotonic()

    def result(
        status: int | None, error: str | None, retry_after: str | None = None, body: bytes = b""
    ) -> AttemptResult:
        delay = parse_retry_after(retry_after, now) if honours_retry_after(status) else None
        elapsed = int((time.monotonic() - started) * 1000)
        return AttemptResult(
            status_code=status,
            error=error,
            duration_ms=elapsed,
            retry_after=delay,
            body=body,
            retry_after_header=retry_after,
        )

    problem = validate_target_url(url, require_https=policy.require_https)
    if problem is not None:
        return result(None, f"invalid URL: {problem}")
    # Per-operation socket timeouts do not bound a server that trickles bytes, nor a connect that hangs on
    # one address before the next is tried: the deadline and its watchdog bound it all, from here on.
    deadline = _Deadline(policy.timeout_s)
    _WATCHDOG.watch(deadline)
    try:
        answer = _exchange(url, body, headers, policy, resolver, result, deadline)
    finally:
        deadline.finish()
    # Whatever a cut-off connection looked like afterwards (end of headers, EOF in a handshake, ...), an
    # attempt the watchdog had to end did not finish in time: it is a timeout, never a success.
    if deadline.expired or answer is None:
        return result(None, f"timed out after {policy.timeout_s:g} s")
    return answer


def _exchange(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    policy: SendPolicy,
    resolver: Resolver,
    result: Callable[..., AttemptResult],
    deadline: _Deadline,
) -> AttemptResult | None:
    """Resolve, connect and POST; None when the deadline passed."""
    parts = urlsplit(url)
    https = parts.scheme.lower() == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    try:
        addresses = _resolve_within(resolver, host, port, policy.allow_loopback, deadline)
    except TimeoutError:
        return None
    except UnsafeTargetError as exc:
        logs.warning("webhook target refused", host=host, detail=exc.detail)
        return result(None, f"refused: {exc.reason}")
    except (socket.gaierror, UnicodeError) as exc:
        return result(None, f"DNS resolution failed: {exc}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    connection: http.client.HTTPConnection | None = None
    try:
        if https:
            connection = _PinnedHTTPSConnection(host, port, addresses, deadline, ssl.create_default_context())
        else:
            connection = _PinnedHTTPConnection(host, port, addresses, deadline)
        request_headers = {"User-Agent": USER_AGENT, **headers}
        connection.request("POST", path, body=body, headers=request_headers)
        response = connection.getresponse()
        body = response.read(policy.response_bytes)
        error = None
        if 300 <= response.status < 400:
            error = f"redirect not followed (Location: {(response.getheader('Location') or '')[:200]})"
        return result(response.status, error, response.getheader("Retry-After"), body)
    except TimeoutError:
        return None
    except ConnectionRefusedError:
        return result(None, "connection refused")
    except ssl.SSLError as exc:
        return result(None, f"TLS error: {exc.reason or exc}")
    except (OSError, http.client.HTTPException) as exc:
        return result(None, f"connection error: {type(exc).__name__}: {exc}")
    finally:
        if connection is not None:
            connection.close()
