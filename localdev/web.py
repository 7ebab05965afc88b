"""The dashboard's local hosting: serves the built SPA (web/dist) and rewrites `/v1/**` to the `api` function,
as Firebase Hosting does in production (firebase.json `hosting`), so the browser calls the API same-origin.

Also serves `/dashboard-config.json` (the SPA's runtime settings: Auth emulator, localstripe's stand-in
Stripe.js). Every answer carries the dashboard's security headers (`security_headers`): the same policy as
firebase.json's Hosting headers, with the local stand-ins' origins in place of Stripe's and Firebase Auth's. `python -m localdev.web --port 5000 --api-url URL --config JSON`; started by `make dev` and the
browser test as a managed process.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from localdev.emulators import REPO_ROOT, ManagedProcess

DIST = REPO_ROOT / "web" / "dist"
MAX_BODY = 2 * 1024 * 1024  # the API refuses far smaller bodies (413); this only bounds the proxy's memory
FORWARDED_REQUEST_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "Accept")
FORWARDED_RESPONSE_HEADERS = ("Request-Id", "Retry-After", "Idempotent-Replayed")


# The origins the dashboard talks to in production: Stripe.js (its script, its frames, its API) and Firebase
# Auth (email and password sign-in, token refresh). Hosting serves the app and its Firebase config itself.
STRIPE_ORIGINS = ("https://js.stripe.com",)
STRIPE_FRAME_ORIGINS = ("https://js.stripe.com", "https://hooks.stripe.com")
STRIPE_API_ORIGINS = ("https://api.stripe.com",)
FIREBASE_AUTH_ORIGINS = ("https://identitytoolkit.googleapis.com", "https://securetoken.googleapis.com")


def content_security_policy(scripts: Iterable[str], frames: Iterable[str], connect: Iterable[str]) -> str:
    """Only the app itself plus the given origins; nothing may frame the dashboard (clickjacking)."""

    def sources(*origins: str) -> str:
        return " ".join(["'self'", *dict.fromkeys(origins)])

    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {sources(*scripts)}",
            f"frame-src {sources(*frames)}",
            f"connect-src {sources(*connect)}",
            "img-src 'self' data:",
            "style-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(csp: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    }


def production_headers() -> dict[str, str]:
    """What firebase.json's Hosting headers say (a unit test holds the file to this)."""
    return security_headers(
        content_security_policy(
            STRIPE_ORIGINS, STRIPE_FRAME_ORIGINS, STRIPE_API_ORIGINS + FIREBASE_AUTH_ORIGINS
        )
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def local_headers(config: Mapping[str, object]) -> dict[str, str]:
    """The production policy with the local stand-ins: localstripe (Stripe.js and its API at one origin)
    and the Auth emulator."""
    stripe = _origin(str(config["stripeJsUrl"]))
    auth = config.get("authEmulatorUrl")
    connect = [stripe, *([_origin(str(auth))] if auth else [])]
    return security_headers(content_security_policy([stripe], [stripe], connect))


def dashboard_config(project: str, auth_host: str, stripe_api_base: str) -> dict[str, object]:
    """The SPA's runtime settings for the local platform."""
    return {
        # The Auth emulator accepts any API key; the project id is the audience of its ID tokens.
        "firebase": {"apiKey": "local-emulator-key", "authDomain": "127.0.0.1", "projectId": project},
        "authEmulatorUrl": f"http://{auth_host}",
        "stripeJsUrl": f"{stripe_api_base}/js.stripe.com/v3/",
        "stripePublishableKey": "pk_test_local_development",
    }


def make_handler(dist: Path, api_url: str, config: bytes) -> type[BaseHTTPRequestHandler]:
    root = dist.resolve()
    headers = local_headers(json.loads(config))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            sys.stderr.write(f"web {self.command} {self.path} {args[1] if len(args) > 1 else ''}\n")

        def _send(
            self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for name, value in {**headers, **(extra or {})}.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _proxy(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                error = {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "body_too_large",
                        "message": "Too big.",
                    }
                }
                self._send(413, json.dumps(error).encode(), "application/json", {"Connection": "close"})
                return
            body = self.rfile.read(length) if length else None
            request = urllib.request.Request(api_url + self.path, data=body, method=self.command)
            for name in FORWARDED_REQUEST_HEADERS:
                if self.headers.get(name) is not None:
                    request.add_header(name, self.headers[name])
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    status, headers, data = response.status, response.headers, response.read()
            except urllib.error.HTTPError as exc:
                status, headers, data = exc.code, exc.headers, exc.read()
            except (urllib.error.URLError, OSError):
                error = {
                    "error": {
                        "type": "api_error",
                        "code": "upstream_unavailable",
                        "message": "The API is not reachable.",
                    }
                }
                self._send(502, json.dumps(error).encode(), "application/json")
                return
            extra = {n: headers[n] for n in FORWARDED_RESPONSE_HEADERS if headers.get(n)}
            self._send(status, data, headers.get("Content-Type") or "application/json", extra)

        def _static(self) -> None:
            path = self.path.split("?", 1)[0].split("#", 1)[0]
            if path == "/dashboard-config.json":
                self._send(200, config, "application/json")
                return
            candidate = (root / path.lstrip("/")).resolve()
            if not candidate.is_relative_to(root) or not candidate.is_file():
                # Single-page app: unknown paths get index.html (Firebase Hosting's `**` rewrite).
                candidate = root / "index.html"
            if not candidate.is_file():
                self._send(503, b"The dashboard is not built: run `make web`.", "text/plain")
                return
            content_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
            self._send(200, candidate.read_bytes(), content_type)

        def _route(self) -> None:
            if self.path == "/v1" or self.path.startswith(("/v1/", "/v1?")):
                self._proxy()
            elif self.command in ("GET", "HEAD"):
                self._static()
            else:
                self._send(
                    405,
                    b'{"error": {"type": "invalid_request_error", "code": "method_not_allowed", '
                    b'"message": "Only GET here."}}',
                    "application/json",
                )

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _route

    return Handler


def web_server(
    port: int, api_url: str, config: dict[str, object], log_dir: Path | None = None, dist: Path = DIST
) -> ManagedProcess:
    """The hosting server as a managed process (its own process group, readiness polled)."""
    return ManagedProcess(
        "web",
        [
            sys.executable,
            "-m",
            "localdev.web",
            "--port",
            str(port),
            "--api-url",
            api_url,
            "--config",
            json.dumps(config),
            "--dist",
            str(dist),
        ],
        f"http://127.0.0.1:{port}/dashboard-config.json",
        log_path=log_dir / "web.log" if log_dir else None,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Serve the dashboard with /v1/** proxied to the api function."
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-url", required=True, help="the api function's URL, without /v1")
    parser.add_argument("--config", required=True, help="dashboard-config.json content")
    parser.add_argument("--dist", default=str(DIST))
    args = parser.parse_args(argv)
    handler = make_handler(Path(args.dist), args.api_url.rstrip("/"), args.config.encode())
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
