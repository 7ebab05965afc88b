"""The request and answer of the job sender (shared/outbound/relay.py), and how its caller maps a failure of
the hop itself: every one an AttemptResult error, never an exception. The hop's stand-ins are real HTTP
servers on loopback."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import ValidationError

from shared.outbound.relay import (
    MAX_RELAYED_RESPONSE_BYTES,
    MAX_RELAYED_TIMEOUT_S,
    RelayedAnswer,
    RelayedPost,
    answer_of,
    relayed_post,
    relayed_request,
)
from shared.outbound.results import AttemptResult
from shared.outbound.sender import SendPolicy

POLICY = SendPolicy(timeout_s=2.5, allow_loopback=False, require_https=True, response_bytes=1000)
HEADERS = {"webhook-id": "job_1_1", "webhook-signature": "v1,abc=", "User-Agent": "credits-platform-jobs/1"}


def valid_request(**changes: Any) -> dict[str, Any]:
    return {**relayed_request("https://worker.example.com/run", b'{"a":1}', HEADERS, POLICY), **changes}


def test_a_request_round_trips_with_its_body_headers_and_policy() -> None:
    body = bytes(range(256))
    post = RelayedPost.model_validate(relayed_request("https://w.example/x?y=1", body, HEADERS, POLICY))
    assert post.url == "https://w.example/x?y=1"
    assert post.body_bytes() == body
    assert post.headers == HEADERS
    assert post.policy() == POLICY
    # As JSON too (what crosses the hop).
    again = RelayedPost.model_validate_json(json.dumps(post.model_dump(mode="json")))
    assert again == post


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"extra": 1}, "extra_forbidden"),
        ({"body": "not base64!"}, "base64"),
        ({"body": base64.b64encode(b"x" * (1024 * 1024 + 1)).decode()}, "limited"),
        ({"headers": {"X-A": "one\r\nInjected: yes"}}, "line break"),
        ({"headers": {"Host": "internal"}}, "set by the sender"),
        ({"headers": {"Content-Length": "5"}}, "set by the sender"),
        ({"headers": {"bad name": "v"}}, "not a header name"),
        ({"headers": {f"X-{i}": "v" for i in range(33)}}, "at most 32"),
        ({"timeout_s": 0}, "greater than 0"),
        ({"timeout_s": MAX_RELAYED_TIMEOUT_S + 1}, "less than or equal"),
        ({"timeout_s": "5"}, "float"),
        ({"allow_loopback": "true"}, "boolean"),
        ({"response_bytes": MAX_RELAYED_RESPONSE_BYTES + 1}, "less than or equal"),
        ({"url": ""}, "at least 1"),
    ],
)
def test_a_malformed_request_is_refused(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        RelayedPost.model_validate(valid_request(**changes))


@pytest.mark.parametrize(
    "missing", ["url", "body", "headers", "timeout_s", "allow_loopback", "require_https"]
)
def test_every_field_is_required(missing: str) -> None:
    request = valid_request()
    del request[missing]
    with pytest.raises(ValidationError, match="Field required"):
        RelayedPost.model_validate(request)


@pytest.mark.parametrize(
    "result",
    [
        AttemptResult(200, None, 12, body=b'{"result":{}}'),
        AttemptResult(429, None, 3, retry_after=timedelta(seconds=7), retry_after_header="7"),
        AttemptResult(None, "refused: loopback", 0),
        AttemptResult(302, "redirect not followed (Location: x)", 5, body=b"\x00\xff"),
    ],
)
def test_an_answer_round_trips_as_the_attempt_result(result: AttemptResult) -> None:
    answer = json.dumps(answer_of(result))
    assert RelayedAnswer.model_validate_json(answer).result() == result


def test_an_answer_with_fields_a_newer_sender_adds_is_still_read() -> None:
    answer = {**answer_of(AttemptResult(200, None, 1)), "added_later": True}
    assert RelayedAnswer.model_validate(answer).result() == AttemptResult(200, None, 1)


# ---------------------------------------------------------------------------------------------------
# The caller: relayed_post against loopback stand-ins of the sender

Respond = Callable[[BaseHTTPRequestHandler, bytes], None]


@contextmanager
def stand_in(respond: Respond) -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    seen: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen.append((dict(self.headers), body))
            respond(self, body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/p/r/send_to_worker", seen
    finally:
        server.shutdown()
        server.server_close()


def reply(status: int, body: bytes) -> Respond:
    def respond(handler: BaseHTTPRequestHandler, _body: bytes) -> None:
        handler.send_response(status)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return respond


def post(sender_url: str, **kwargs: Any) -> AttemptResult:
    return relayed_post(sender_url, "https://worker.example.com/", b"{}", HEADERS, POLICY, **kwargs)


def test_the_senders_answer_is_the_attempts_result_and_the_request_is_as_given() -> None:
    answer = answer_of(AttemptResult(503, None, 40, body=b"busy", retry_after_header="2"))
    with stand_in(reply(200, json.dumps(answer).encode())) as (url, seen):
        result = post(url, id_token=lambda audience: f"token-for:{audience}")
    assert result.status_code == 503 and result.body == b"busy" and result.retry_after_header == "2"
    [(headers, body)] = seen
    assert headers["Authorization"] == f"Bearer token-for:{url}"  # the sender's URL is the audience
    request = RelayedPost.model_validate_json(body)
    assert request.url == "https://worker.example.com/" and request.headers == HEADERS
    assert request.policy() == POLICY


def test_no_token_locally_means_no_authorization_header() -> None:
    with stand_in(reply(200, json.dumps(answer_of(AttemptResult(200, None, 1))).encode())) as (url, seen):
        assert post(url).status_code == 200
    assert "Authorization" not in seen[0][0]


def test_an_unreachable_sender_is_a_failed_attempt() -> None:
    with socket.socket() as sock:  # a port nobody listens on (bound, then closed)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = post(f"http://127.0.0.1:{port}/p/r/send_to_worker")
    assert result.status_code is None and result.error is not None and "sender hop" in result.error


@pytest.mark.parametrize("status", [500, 503, 400, 403, 302])
def test_a_sender_that_does_not_answer_200_is_a_failed_attempt(status: int) -> None:
    with stand_in(reply(status, b'{"error":{"code":"internal_error"}}')) as (url, _):
        result = post(url)
    assert result.status_code is None
    assert result.error is not None and f"answered {status}" in result.error


@pytest.mark.parametrize(
    "body", [b"not json", b"{}", b'{"status_code":200,"error":null,"duration_ms":1,"body":"%%"}']
)
def test_an_unreadable_answer_is_a_failed_attempt(body: bytes) -> None:
    with stand_in(reply(200, body)) as (url, _):
        result = post(url)
    assert result.status_code is None and result.error is not None and "unreadable answer" in result.error


def test_a_sender_that_hangs_is_a_timeout_at_the_attempts_timeout_plus_the_margin() -> None:
    release = threading.Event()

    def hang(handler: BaseHTTPRequestHandler, _body: bytes) -> None:
        release.wait(10)

    with stand_in(hang) as (url, _):
        try:
            result = relayed_post(
                url,
                "https://worker.example.com/",
                b"{}",
                HEADERS,
                SendPolicy(timeout_s=0.3, allow_loopback=False, require_https=True),
                margin_s=0.2,
            )
        finally:
            release.set()
    assert result.status_code is None and result.error is not None and "timed out" in result.error


def test_no_id_token_is_a_failed_attempt() -> None:
    def refuse(_audience: str) -> str:
        raise RuntimeError("metadata server unreachable")

    with stand_in(reply(200, b"{}")) as (url, seen):
        result = post(url, id_token=refuse)
    assert result.status_code is None and result.error is not None and "no ID token" in result.error
    assert seen == []  # nothing was sent without it


def test_a_request_the_sender_would_refuse_is_not_sent() -> None:
    with stand_in(reply(200, b"{}")) as (url, seen):
        result = relayed_post(url, "https://w.example/", b"{}", {"Host": "x"}, POLICY)
    assert result.status_code is None and result.error is not None and "not sendable" in result.error
    assert seen == []


# ---------------------------------------------------------------------------------------------------
# The sender never sends under a looser policy than its own settings allow


@pytest.fixture
def sender_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    from shared.core.settings import LOCAL_ONLY_VARIABLES, RUNTIME_VARIABLES, get_settings

    # The secrets too: a full run's stack sets local ones, which production's shape checks refuse.
    secrets = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "REDIS_URL", "REDIS_CA_CERT")
    for name in (*LOCAL_ONLY_VARIABLES, *RUNTIME_VARIABLES, *secrets, "PLATFORM_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-relay")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize(("environment", "loopback_allowed"), [("local", "false"), ("production", None)])
def test_loopback_asked_for_is_refused_where_the_senders_settings_forbid_it(
    sender_settings: pytest.MonkeyPatch, environment: str, loopback_allowed: str | None
) -> None:
    from datetime import UTC, datetime

    from shared.outbound.relay import send_relayed

    sender_settings.setenv("PLATFORM_ENV", environment)
    if loopback_allowed is not None:
        sender_settings.setenv("ALLOW_LOOPBACK_WEBHOOKS", loopback_allowed)
    with stand_in(reply(200, b"ok")) as (url, seen):
        loose = SendPolicy(timeout_s=2, allow_loopback=True, require_https=False)
        result = send_relayed(
            RelayedPost.model_validate(relayed_request(url, b"{}", {}, loose)), datetime.now(UTC)
        )
    assert result.status_code is None and result.error is not None
    # Production also insists on HTTPS, checked before any address is.
    assert result.error.startswith("invalid URL" if environment == "production" else "refused"), result.error
    assert seen == []


def test_loopback_is_sent_where_local_development_allows_it(sender_settings: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from shared.outbound.relay import send_relayed

    sender_settings.setenv("PLATFORM_ENV", "local")
    sender_settings.setenv("ALLOW_LOOPBACK_WEBHOOKS", "true")
    with stand_in(reply(200, b"ok")) as (url, seen):
        loose = SendPolicy(timeout_s=2, allow_loopback=True, require_https=False)
        result = send_relayed(
            RelayedPost.model_validate(relayed_request(url, b"{}", {}, loose)), datetime.now(UTC)
        )
    assert (result.status_code, result.body) == (200, b"ok") and len(seen) == 1
