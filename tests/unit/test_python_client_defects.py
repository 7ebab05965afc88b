"""The Python client's defects an integrating developer met (issue: clients a developer adopts without
surprises), each against a scripted HTTP server on 127.0.0.1: the supported Python floor, a newer server's
enum values and fields, answers that do not parse, every terminal status, expanded pages, usage pages, what
a POST without a key may resend, configuration from the environment, timeouts, cancel and job types."""

from __future__ import annotations

import ast
import json
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from credits_client import (
    ApiConnectionError,
    ApiError,
    ApiTimeoutError,
    Client,
    ConfigurationError,
    ResponseParseError,
)
from credits_client._described import TERMINAL_JOB_STATUSES
from credits_client.models import Job, JobStatus
from credits_client.webhooks import Webhooks, WebhookVerificationError
from standardwebhooks.webhooks import Webhook

from tests.support.webhook_receiver import Scripted, WebhookReceiver
from tests.unit.test_python_client import JOB, Sleeps, error_reply, json_reply

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "python"
# The first Python release that has each name the generated code imports.
FIRST_RELEASE_WITH = {("typing", "Self"): (3, 11), ("enum", "StrEnum"): (3, 11)}


@pytest.fixture
def server() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def client_of(server: WebhookReceiver, **options: Any) -> Client:
    return Client(api_key="sk_test_x", base_url=server.url("/api"), sleep=Sleeps(), **options)


def test_the_stated_python_floor_has_what_the_generated_code_imports() -> None:
    stated = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert stated.startswith(">=")
    floor = tuple(int(part) for part in stated[2:].split("."))
    needed = {(3, 10)}
    for source in (CLIENT / "credits_client").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                needed.update(
                    FIRST_RELEASE_WITH.get((node.module, alias.name), (3, 10)) for alias in node.names
                )
    assert floor >= max(needed), f"requires-python {stated} but the code needs {max(needed)}"


def test_a_newer_servers_enum_values_and_fields_are_kept(server: WebhookReceiver) -> None:
    newer = {**JOB, "status": "paused", "failure_reason": "a_new_reason", "priority": 3}
    server.respond(
        json_reply(200, newer), json_reply(200, {"data": [newer], "has_more": False, "next_cursor": None})
    )
    client = client_of(server)
    job = client.jobs.get("job_1")
    assert job.status == "paused" and str(job.status) == "paused" and not isinstance(job.status, Exception)
    assert job.additional_properties["priority"] == 3
    [listed] = list(client.jobs.list_all())
    assert listed.status == "paused"
    assert JobStatus("paused") is JobStatus("paused") and JobStatus.COMPLETED in list(JobStatus)


def test_an_answer_that_does_not_parse_is_an_api_error_with_the_request_id(server: WebhookReceiver) -> None:
    server.respond(json_reply(200, {"job_id": 7}), Scripted(200, {"Request-Id": "req_2"}, body=b"not json"))
    client = client_of(server)
    with pytest.raises(ResponseParseError) as missing:
        client.jobs.get("job_1")
    assert isinstance(missing.value, ApiError) and missing.value.request_id == "req_1"
    assert missing.value.status == 200 and missing.value.code == "unparseable_response"
    with pytest.raises(ResponseParseError) as garbled:
        client.jobs.get("job_1")
    assert garbled.value.request_id == "req_2"


def test_terminal_statuses_come_from_the_description() -> None:
    document = json.loads((CLIENT.parent / "openapi.json").read_text())
    assert set(document["components"]["schemas"]["JobStatus"]["x-terminal"]) == TERMINAL_JOB_STATUSES
    assert "canceled" in TERMINAL_JOB_STATUSES


@pytest.mark.parametrize("status", sorted(TERMINAL_JOB_STATUSES))
def test_wait_ends_on_every_terminal_status(server: WebhookReceiver, status: str) -> None:
    server.respond(json_reply(200, {**JOB, "status": "running"}), json_reply(200, {**JOB, "status": status}))
    job = client_of(server).jobs.wait("job_1", timeout_s=5, interval_s=0.01)
    assert job.status == status and len(server.received()) == 2


def test_list_all_with_expand_pages_at_a_size_the_server_allows(server: WebhookReceiver) -> None:
    server.respond(json_reply(200, {"data": [JOB], "has_more": False, "next_cursor": None}))
    [job] = client_of(server).jobs.list_all(expand=["data.result", "data.input"])
    assert isinstance(job.job_id, str)
    [request] = server.received()
    assert request.path == "/api/v1/jobs?limit=20&expand%5B%5D=data.result&expand%5B%5D=data.input"


def test_usage_pages(server: WebhookReceiver) -> None:
    counts = {"requests": 1, "rate_limited": 0, "jobs_created": 0, "credits_spent": 0}
    day = {"date": "2026-01-01", "key_id": "key_1", "livemode": False, **counts}
    report = {"totals": counts, "from": "2026-01-01", "to": "2026-01-02"}
    server.respond(
        json_reply(200, {**report, "data": [day], "has_more": True, "next_cursor": "c1"}),
        json_reply(
            200, {**report, "data": [{**day, "key_id": "key_2"}], "has_more": False, "next_cursor": None}
        ),
        json_reply(200, {**report, "data": [], "has_more": False, "next_cursor": None}),
    )
    client = client_of(server)
    assert [row.key_id for row in client.usage.list_all(from_date="2026-01-01", page_size=1)] == [
        "key_1",
        "key_2",
    ]
    assert client.usage.get(limit=5, starting_after="c9").data == []
    paths = [request.path for request in server.received()]
    assert paths == [
        "/api/v1/usage?from=2026-01-01&limit=1",
        "/api/v1/usage?from=2026-01-01&limit=1&starting_after=c1",
        "/api/v1/usage?limit=5&starting_after=c9",
    ]


@pytest.mark.parametrize("status", [429, 503])
def test_a_post_without_an_idempotency_key_is_never_resent(server: WebhookReceiver, status: int) -> None:
    server.respond(error_reply(status, "refused", **{"Retry-After": "1"}))
    client = Client(id_token="tok", base_url=server.url("/api"), sleep=Sleeps())
    with pytest.raises(ApiError) as refused:
        client.api_keys.create(name="k")
    assert refused.value.status == status and len(server.received()) == 1


def test_configuration_from_the_environment(server: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITS_API_KEY", "sk_test_env")
    monkeypatch.setenv("CREDITS_BASE_URL", server.url("/api"))
    server.respond(json_reply(200, JOB))
    assert Client().jobs.get("job_1").job_id == "job_1"
    assert server.received()[0].headers["authorization"] == "Bearer sk_test_env"
    # Arguments win over the environment.
    assert Client(api_key="sk_test_arg")._credential == "sk_test_arg"


def test_no_base_url_is_a_clear_error_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDITS_BASE_URL", raising=False)
    monkeypatch.delenv("CREDITS_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="CREDITS_BASE_URL"):
        Client(api_key="sk_test_x")
    monkeypatch.setenv("CREDITS_BASE_URL", "http://127.0.0.1:9/api")
    with pytest.raises(ConfigurationError, match="CREDITS_API_KEY"):
        Client()


def test_timeouts_are_a_client_default_and_per_call(server: WebhookReceiver) -> None:
    slow = Scripted(200, {"Content-Type": "application/json"}, body=json.dumps(JOB).encode(), delay_s=1.0)
    server.respond(slow)
    with pytest.raises(ApiTimeoutError) as default:
        client_of(server, timeout_s=0.2, max_retries=0).jobs.get("job_1")
    assert isinstance(default.value, ApiConnectionError)
    server.respond(slow, slow)
    with pytest.raises(ApiTimeoutError):
        client_of(server, max_retries=0).jobs.get("job_1", timeout_s=0.2)
    assert client_of(server, timeout_s=0.2).jobs.get("job_1", timeout_s=5).job_id == "job_1"


def test_cancel_and_job_types(server: WebhookReceiver) -> None:
    job_type = {"type": "echo", "description": "Echo", "pricing": {"credits": 1}}
    server.respond(
        json_reply(200, {**JOB, "status": "canceled"}),
        json_reply(200, {"data": [job_type], "has_more": False, "next_cursor": None}),
    )
    client = client_of(server)
    canceled = client.jobs.cancel("job_1")
    assert isinstance(canceled, Job) and canceled.status is JobStatus.CANCELED
    assert [listing.type_ for listing in client.job_types.list().data] == ["echo"]
    assert [(r.method, r.path) for r in server.received()] == [
        ("POST", "/api/v1/jobs/job_1/cancel"),
        ("GET", "/api/v1/job_types?limit=10"),
    ]


def test_webhook_verification_takes_a_tolerance() -> None:
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = json.dumps({"id": "evt_1", "type": "webhook.test", "created": 1, "livemode": False, "data": {}})
    sent = datetime(2026, 1, 1, tzinfo=UTC)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(sent.timestamp())),
        "webhook-signature": "v1,bm90IGl0 " + Webhook(secret).sign("msg_1", sent, body),
    }
    ten_minutes_later = sent + timedelta(minutes=10)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhooks().verify(headers, body, secret, now=ten_minutes_later)
    event = Webhooks().verify(headers, body, secret, now=ten_minutes_later, tolerance_s=900)
    assert event.type == "webhook.test" and event.job is None
    with pytest.raises(WebhookVerificationError, match="too new"):
        Webhooks().verify(headers, body, secret, now=sent - timedelta(minutes=10))
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhooks().verify(headers, body + " ", secret, now=sent)


def test_credit_grants_and_auto_top_up(server: WebhookReceiver) -> None:
    settings = {"enabled": True, "threshold": 10, "package": "starter", "monthly_limit_cents": 5000}
    state = {**settings, "low_balance_threshold": None, "disabled_reason": None, "month_spent_cents": 0}
    server.respond(
        json_reply(200, {"data": [], "has_more": False, "next_cursor": None}),
        json_reply(200, {**state, "in_progress": False}),
        json_reply(200, {**state, "in_progress": False}),
    )
    client = Client(id_token="tok", base_url=server.url("/api"), sleep=Sleeps())
    assert list(client.credit_grants.list_all(page_size=5)) == []
    assert (
        client.auto_top_up.set(
            enabled=True, threshold=10, package="starter", monthly_limit_cents=5000
        ).package
        == "starter"
    )
    assert client.auto_top_up.get().threshold == 10
    grants, put, get = server.received()
    assert (grants.method, grants.path) == ("GET", "/api/v1/credit_grants?limit=5")
    assert (put.method, put.path, json.loads(put.body)) == ("PUT", "/api/v1/auto_top_up", settings)
    assert (get.method, get.path) == ("GET", "/api/v1/auto_top_up")


def test_jobs_create_run_at_is_sent_as_unix_seconds(server: WebhookReceiver) -> None:
    server.respond(json_reply(201, JOB))
    client_of(server).jobs.create(type="echo", run_at=datetime(2026, 1, 1, 1, tzinfo=UTC))
    assert json.loads(server.received()[0].body) == {"type": "echo", "input": {}, "run_at": 1767229200}
    with pytest.raises(ValueError, match="timezone-aware"):
        client_of(server).jobs.create(type="echo", run_at=datetime(2026, 1, 1))  # noqa: DTZ001  (the naive one it refuses)
