"""A reverse proxy on 127.0.0.1 that loses answers: the first `--drops` requests whose method and path start
with `--match` reach the upstream (which acts on them) and then the client's connection is closed without an
answer, as a network that fails after the request went out. Everything else is relayed as it is.

Run as its own process (tests start it with `DroppingProxy`): `python -m tests.support.dropping_proxy
--upstream http://127.0.0.1:PORT --match "POST /x/v1/jobs" --drops 1`; it prints its port, then serves.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


def serve(upstream: str, match: str, drops: int) -> None:
    target = urlsplit(upstream)
    if target.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("the proxy only forwards to loopback")
    left = [drops]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP | {"host"}}
            connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=60)
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                payload = answer.read()
            finally:
                connection.close()
            with lock:
                drop = f"{self.command} {self.path}".startswith(match) and left[0] > 0
                if drop:
                    left[0] -= 1
            if drop:
                print(f"dropped the answer to {self.command} {self.path}", flush=True)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in HOP_BY_HOP | {"content-length"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _relay

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


class DroppingProxy:
    """The proxy as a child process, for a `with` block; `url` is its address."""

    def __init__(self, upstream: str, match: str, drops: int = 1) -> None:
        self._args = ["--upstream", upstream, "--match", match, "--drops", str(drops)]
        self._process: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> DroppingProxy:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.dropping_proxy", *self._args],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        self.port = int(self._process.stdout.readline())  # printed once it listens
        return self

    def dropped(self) -> int:
        """How many answers it dropped so far (it says so on its output); call after the traffic."""
        assert self._process is not None and self._process.stdout is not None
        self._process.terminate()
        self._process.wait(timeout=10)
        return sum(line.startswith("dropped") for line in self._process.stdout)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--match", required=True, help='"METHOD /path-prefix"')
    parser.add_argument("--drops", type=int, default=1)
    arguments = parser.parse_args()
    serve(arguments.upstream, arguments.match, arguments.drops)


if __name__ == "__main__":
    main()
