"""stripe_webhook reads at most its limit + 1 bytes of a body (finding 8), chunked or declared: a huge body
is refused with 413 without being held in memory. In-process, before any database is reached."""

from __future__ import annotations

import io

import flask
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder

from functions.stripe_webhook import stripe_webhook
from shared.billing.ingest import MAX_EVENT_BYTES


class CountingBody(io.RawIOBase):
    """An endless-looking body (5 MiB) that counts what the function reads from it."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), self.left)
        buffer[:count] = b"{" * count
        self.left -= count
        self.read_bytes += count
        return count


def post(body: CountingBody, declared: int | None) -> flask.Response:
    headers = Headers({"Stripe-Signature": "t=1,v1=00", "Content-Type": "application/json"})
    environ = EnvironBuilder(path="/", method="POST", headers=headers).get_environ()
    environ["wsgi.input"] = io.BufferedReader(body, buffer_size=8192)
    if declared is None:
        environ.pop("CONTENT_LENGTH", None)
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(declared)
    request = flask.Request(environ)
    response = stripe_webhook(request)
    # functions_framework.http types what it decorates as returning any flask.typing.ResponseReturnValue
    assert isinstance(response, flask.Response)
    return response


def test_a_chunked_oversized_body_is_refused_after_limit_plus_one_bytes() -> None:
    body = CountingBody(5 * 1024 * 1024)
    response = post(body, declared=None)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_too_large"
    assert body.read_bytes <= MAX_EVENT_BYTES + 1 + 8192  # the limit + 1, plus at most one buffer


def test_a_declared_oversized_body_is_refused_before_reading() -> None:
    body = CountingBody(5 * 1024 * 1024)
    response = post(body, declared=5 * 1024 * 1024)
    assert response.status_code == 413
    assert body.read_bytes == 0
