"""The 15 s bound is for the whole attempt, connect to last byte: servers that trickle bytes (headers, a TLS
handshake) or addresses that never accept must not stretch an attempt past it. Only 127.0.0.1 is used."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from shared.models import utc_now
from shared.outbound.results import AttemptResult
from shared.outbound.sender import SendPolicy, guarded_post
from shared.outbound.ssrf import SockAddr

POLICY = SendPolicy(timeout_s=1.0, allow_loopback=True, require_https=False)
DRIP_FOR_S = 12.0  # far beyond the 1 s deadline: a sender still reading at the end has not enforced it


class TricklingServer:
    """Accepts on 127.0.0.1, reads the request, sends `opening`, then one `drip` every 0.2 s."""

    def __init__(self, opening: bytes, drip: bytes) -> None:
        self.opening, self.drip = opening, drip
        self.finished_dripping = threading.Event()
        self.connections = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(self.opening)
                until = time.monotonic() + DRIP_FOR_S
                while time.monotonic() < until:
                    if self._stop.wait(0.2):
                        return
                    conn.sendall(self.drip)
                self.finished_dripping.set()
            except OSError:
                pass  # the sender hung up: what we want

    def close(self) -> None:
        self._stop.set()
        self._listener.close()


@contextmanager
def trickling(opening: bytes, drip: bytes) -> Iterator[TricklingServer]:
    server = TricklingServer(opening, drip)
    try:
        yield server
    finally:
        server.close()


@contextmanager
def never_accepting_port() -> Iterator[int]:
    """A 127.0.0.1 port whose accept queue is full: a connect() to it hangs until its timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    time.sleep(0.2)  # let the handshakes of the fillers fill the queue
    try:
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def pinned(*ports: int) -> object:
    """An injected resolver: the name resolves to these 127.0.0.1 ports, in order."""

    def resolver(host: str, port: int, allow_loopback: bool) -> list[tuple[int, SockAddr]]:
        return [(socket.AF_INET, ("127.0.0.1", p)) for p in ports]

    return resolver


def post(url: str, resolver: object | None = None) -> AttemptResult:
    if resolver is None:
        return guarded_post(url, b"{}", {"webhook-id": "evt_x"}, POLICY, utc_now())
    return guarded_post(url, b"{}", {"webhook-id": "evt_x"}, POLICY, utc_now(), resolver)  # type: ignore[arg-type]


def assert_timed_out(result: AttemptResult, server: TricklingServer) -> None:
    assert result.status_code is None
    assert result.error is not None and "timed out" in result.error
    assert not server.finished_dripping.is_set()
    assert result.duration_ms < 5000


def test_headers_still_trickling_at_the_deadline_are_a_timeout_not_a_success() -> None:
    with trickling(b"HTTP/1.1 200 OK\r\n", b"X-Slow: 1\r\n") as server:
        result = post(f"http://127.0.0.1:{server.port}/hook")
    assert_timed_out(result, server)


def test_the_deadline_covers_an_address_that_never_accepts_before_the_next_one() -> None:
    with never_accepting_port() as dead, trickling(b"HTTP/1.1 200 OK\r\n", b"X-Slow: 1\r\n") as server:
        result = post(f"http://hooks.example.test:{server.port}/hook", pinned(dead, server.port))
    assert_timed_out(result, server)


def test_the_deadline_covers_a_trickling_tls_handshake() -> None:
    # A TLS handshake record announcing 16 KB, then its bytes one at a time: each read gets a byte well
    # within any per-operation socket timeout, so only a deadline for the whole attempt ends it.
    with trickling(b"\x16\x03\x03\x40\x00", b"\x02") as server:
        result = post(f"https://127.0.0.1:{server.port}/hook")
    assert_timed_out(result, server)


def test_the_deadline_covers_a_name_that_takes_long_to_resolve() -> None:
    # getaddrinfo cannot be interrupted and the system resolver may retry for tens of seconds: a slow
    # answer must end the attempt at its deadline (the claim's lease assumes it), and nothing is sent.
    answered = threading.Event()

    with trickling(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", b"") as server:

        def slow_resolver(host: str, port: int, allow_loopback: bool) -> list[tuple[int, SockAddr]]:
            time.sleep(4)
            answered.set()
            return [(socket.AF_INET, ("127.0.0.1", server.port))]

        result = post(f"http://hooks.example.test:{server.port}/hook", slow_resolver)
        assert result.status_code is None
        assert result.error is not None and "timed out" in result.error
        assert not answered.is_set()
        assert answered.wait(10)
        time.sleep(0.5)  # a late answer must not lead to a connection after all
        assert server.connections == 0
