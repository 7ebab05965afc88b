"""The Python client's own layer (clients/python/credits_client) against a scripted HTTP server on
127.0.0.1: retries and what they may resend, Retry-After, one Idempotency-Key per call, errors as ApiError,
RateLimit fields, pagination and webhook verification."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from credits_client import (
    ApiConnectionError,
    ApiError,
    Client,
    InsufficientCreditsError,
    RateLimit,
    RateLimitedError,
    WebhookVerificationError,
)
from credits_client._http import retry_after_s, should_retry
from credits_client.models import Job, JobStatus
from credits_client.webhooks import Webhooks
from standardwebhooks.webhooks import Webhook

from tests.support.webhook_receiver import Scripted, WebhookReceiver

JOB = {
    "job_id": "job_1",
    "type": "echo",
    "status": "queued",
    "input": {"a": 1},
    "result": None,
    "error": None,
    "failure_reason": None,
    "livemode": False,
    "cost": 0,
    "reserved_credits": 0,
    "usage": None,
    "attempts": 0,
    "max_attempts": 3,
    "created_at": 1700000000,
    "finished_at": None,
}
LIMIT_HEADERS = {"RateLimit-Policy": '"key";q=25;w=1', "RateLimit": '"key";r=24;t=1', "Request-Id": "req_1"}


def json_reply(status: int, body: Any, **headers: str) -> Scripted:
    return Scripted(
        status,
        {"Content-Type": "application/json", **LIMIT_HEADERS, **headers},
        body=json.dumps(body).encode(),
    )


def error_reply(status: int, code: str, **headers: str) -> Scripted:
    return json_reply(status, {"error": {"type": "x", "code": code, "message": f"{code}!"}}, **headers)


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def server() -> Any:
    with WebhookReceiver() as running:
        yield running


def client_of(server: WebhookReceiver, sleeps: Sleeps | None = None, **options: Any) -> Client:
    return Client(api_key="sk_test_x", base_url=server.url("/api"), sleep=sleeps or Sleeps(), **options)


def test_a_job_is_a_typed_model_and_the_response_details_are_kept(server: WebhookReceiver) -> None:
    server.respond(json_reply(201, JOB, **{"Idempotent-Replayed": "true"}))
    client = client_of(server)
    job = client.jobs.create(type="echo", input={"a": 1})
    assert isinstance(job, Job) and job.job_id == "job_1" and job.status is JobStatus.QUEUED
    assert job.input_["a"] == 1
    [request] = server.received()
    assert (request.method, request.path) == ("POST", "/api/v1/jobs")
    assert request.headers["authorization"] == "Bearer sk_test_x"
    assert json.loads(request.body) == {"type": "echo", "input": {"a": 1}}
    assert len(request.headers["idempotency-key"]) == 36
    info = client.last_response
    assert info is not None and info.request_id == "req_1" and info.idempotent_replayed
    assert info.rate_limit == RateLimit(name="key", limit=25, window_s=1, remaining=24, reset_s=1)


def test_retries_reuse_one_idempotency_key_and_honour_retry_after(server: WebhookReceiver) -> None:
    server.respond(
        error_reply(503, "service_unavailable", **{"Retry-After": "7"}),
        error_reply(429, "rate_limited", **{"Retry-After": "2"}),
        error_reply(409, "idempotency_key_in_use", **{"Retry-After": "1"}),
        error_reply(500, "internal_error"),
        json_reply(201, JOB),
    )
    sleeps = Sleeps()
    client = client_of(server, sleeps, max_retries=4)
    assert client.jobs.create(type="echo").job_id == "job_1"
    keys = {r.headers["idempotency-key"] for r in server.received()}
    assert len(server.received()) == 5 and len(keys) == 1
    assert sleeps.waits[:3] == [7.0, 2.0, 1.0]
    assert 0 <= sleeps.waits[3] <= 4.0  # backoff without Retry-After
    assert client.last_response is not None and client.last_response.attempts == 5
    # The next logical call gets a key of its own.
    server.respond(json_reply(201, JOB))
    client.jobs.create(type="echo")
    assert server.received()[-1].headers["idempotency-key"] not in keys


def test_what_is_not_retried(server: WebhookReceiver) -> None:
    client = client_of(server)
    # Maintenance asks for a minute: the caller hears it at once, with when to come back.
    server.respond(error_reply(503, "maintenance_mode", **{"Retry-After": "60"}))
    with pytest.raises(ApiError) as maintenance:
        client.jobs.get("job_1")
    assert maintenance.value.code == "maintenance_mode" and maintenance.value.retry_after_s == 60.0
    # The same key with other parameters: no Retry-After, the caller's mistake.
    server.respond(error_reply(409, "idempotency_key_in_use"))
    with pytest.raises(ApiError) as conflict:
        client.jobs.create(type="echo", idempotency_key="k1")
    assert (conflict.value.status, conflict.value.code) == (409, "idempotency_key_in_use")
    server.respond(error_reply(402, "insufficient_credits"))
    with pytest.raises(InsufficientCreditsError) as poor:
        client.jobs.create(type="echo")
    assert poor.value.request_id == "req_1" and poor.value.message == "insufficient_credits!"
    assert len(server.received()) == 3


def test_a_post_without_idempotency_key_is_not_resent_after_a_5xx(server: WebhookReceiver) -> None:
    server.respond(error_reply(500, "internal_error"))
    client = Client(id_token="tok", base_url=server.url("/api"), sleep=Sleeps())
    with pytest.raises(ApiError) as failed:
        client.api_keys.create(name="k")
    assert failed.value.status == 500 and len(server.received()) == 1
    # A GET is resent.
    server.respond(error_reply(502, "bad_gateway"), json_reply(200, JOB))
    assert client.jobs.get("job_1").job_id == "job_1"


def test_429_after_the_retries_is_a_typed_error_with_the_limit(server: WebhookReceiver) -> None:
    server.respond(*[error_reply(429, "rate_limited", **{"Retry-After": "1"})] * 3)
    client = client_of(server, max_retries=2)
    with pytest.raises(RateLimitedError) as limited:
        client.jobs.get("job_1")
    assert limited.value.retry_after_s == 1.0 and limited.value.rate_limit is not None
    assert len(server.received()) == 3


def test_errors_without_a_json_body_and_unknown_codes_are_api_errors(server: WebhookReceiver) -> None:
    client = client_of(server, max_retries=0)
    server.respond(Scripted(502, {"Content-Type": "text/html"}, body=b"<html>bad gateway</html>"))
    with pytest.raises(ApiError) as proxy:
        client.jobs.get("job_1")
    assert (proxy.value.status, proxy.value.code) == (502, "http_error")
    server.respond(error_reply(400, "a_code_added_later"))
    with pytest.raises(ApiError) as later:
        client.jobs.get("job_1")
    assert later.value.code == "a_code_added_later"


def test_unreachable_platform_is_a_connection_error_after_retries() -> None:
    sleeps = Sleeps()
    client = Client(api_key="sk_test_x", base_url="http://127.0.0.1:9/api", sleep=sleeps, max_retries=2)
    with pytest.raises(ApiConnectionError) as unreachable:
        client.jobs.get("job_1")
    assert unreachable.value.status == 0 and len(sleeps.waits) == 2


def test_list_all_follows_the_cursors(server: WebhookReceiver) -> None:
    pages = [
        {"data": [{**JOB, "job_id": f"job_{i}"} for i in range(3)], "has_more": True, "next_cursor": "job_2"},
        {"data": [{**JOB, "job_id": "job_3"}], "has_more": False, "next_cursor": None},
    ]
    server.respond(*(json_reply(200, page) for page in pages))
    client = client_of(server)
    assert [job.job_id for job in client.jobs.list_all(page_size=3, status="queued")] == [
        "job_0",
        "job_1",
        "job_2",
        "job_3",
    ]
    first, second = server.received()
    assert first.path == "/api/v1/jobs?limit=3&status=queued"
    assert second.path == "/api/v1/jobs?limit=3&starting_after=job_2&status=queued"


def test_webhook_verification_uses_standard_webhooks() -> None:
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = json.dumps(
        {"id": "evt_1", "type": "job.completed", "created": 1, "livemode": True, "data": {"object": JOB}}
    )
    signer = Webhook(secret)
    now = time.time()
    headers = {
        "Webhook-Id": "msg_1",
        "Webhook-Timestamp": str(int(now)),
        "Webhook-Signature": signer.sign("msg_1", datetime.fromtimestamp(now, UTC), body),
    }
    event = Webhooks().verify(headers, body.encode(), secret)
    assert (event.id, event.type, event.livemode) == ("evt_1", "job.completed", True)
    assert event.job is not None and event.job.job_id == "job_1"
    with pytest.raises(WebhookVerificationError):
        Webhooks().verify(headers, body.replace("job_1", "job_2"), secret)


def test_pure_rules() -> None:
    assert retry_after_s(httpx.Headers({"Retry-After": "3"})) == 3.0
    assert retry_after_s(httpx.Headers({"Retry-After": "9999"})) == 60.0
    assert retry_after_s(httpx.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after_s(httpx.Headers({})) is None
    post = httpx.Request("POST", "http://127.0.0.1/v1/jobs")
    keyed = httpx.Request("POST", "http://127.0.0.1/v1/jobs", headers={"Idempotency-Key": "k"})
    assert not should_retry(post, httpx.Response(500))
    assert should_retry(keyed, httpx.Response(500))
    # A POST without a key is never sent again, whatever the answer (the README's promise).
    assert not should_retry(post, httpx.Response(429)) and not should_retry(post, httpx.Response(503))
    assert should_retry(keyed, httpx.Response(429)) and should_retry(keyed, httpx.Response(503))
    assert not should_retry(keyed, httpx.Response(400))
    assert RateLimit.from_headers(httpx.Headers({"RateLimit": "nonsense"})) is None
