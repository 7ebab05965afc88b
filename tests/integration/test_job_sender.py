"""The job sender (function `send_to_worker`, served by the functions host like every function): run_job's
only way to a worker. It applies the guarded sender's rules to what it is handed (loopback and private
addresses refused unless allowed), refuses malformed input with a clear 400, and a worker that hangs behind
it still frees its type's slot at the type's timeout. A second customer is present and the ledger sums to
the balance."""

from __future__ import annotations

import json

import pytest
import requests

from shared.models import JobStatus
from shared.outbound.relay import RelayedAnswer, relayed_request
from shared.outbound.sender import SendPolicy
from shared.workers.dispatch import SENDER_FUNCTION
from shared.workers.job_types import function_url
from tests.conftest import Project
from tests.support.job_workers import (
    account_with_credits,
    answer,
    assert_ledger_sums_to_balance,
    dispatch_of,
    put_job_type,
)
from tests.support.jobs import balance, post_job, stored_jobs
from tests.support.platform import ApiClient, create_api_key
from tests.support.waiting import eventually
from tests.support.webhook_receiver import Scripted, WebhookReceiver

STRICT = SendPolicy(timeout_s=5, allow_loopback=False, require_https=False)


def send(url: str, policy: SendPolicy = STRICT, body: bytes = b'{"job_id":"x"}') -> RelayedAnswer:
    response = requests.post(
        function_url(SENDER_FUNCTION), json=relayed_request(url, body, {"X-Test": "1"}, policy), timeout=30
    )
    assert response.status_code == 200, response.text
    return RelayedAnswer.model_validate(response.json())


@pytest.mark.parametrize(
    "target",
    [
        "loopback",
        "http://10.1.2.3/run",
        "http://169.254.169.254/computeMetadata/v1/",
        "http://[::1]:9/run",
        "http://192.168.0.1/run",
    ],
)
def test_the_sender_refuses_loopback_and_private_urls_when_loopback_is_not_allowed(
    project: Project, receiver: WebhookReceiver, target: str
) -> None:
    url = receiver.url("/run") if target == "loopback" else target
    result = send(url).result()
    assert result.status_code is None
    assert result.error is not None and result.error.startswith("refused"), result.error
    assert receiver.received() == []


def test_the_sender_posts_exactly_what_it_is_handed_where_loopback_is_allowed(
    project: Project, receiver: WebhookReceiver
) -> None:
    receiver.default = Scripted(503, {"Retry-After": "3"}, body=b"busy")
    body = b'{"job_id":"job_1","input":{"a":[1,2]}}'
    result = send(
        receiver.url("/run"), SendPolicy(5, allow_loopback=True, require_https=False), body
    ).result()
    assert (result.status_code, result.body, result.retry_after_header) == (503, b"busy", "3")
    [request] = receiver.received()
    assert (request.method, request.path, request.body) == ("POST", "/run", body)
    assert request.headers["x-test"] == "1"


@pytest.mark.parametrize(
    ("payload", "code", "param"),
    [
        ({**relayed_request("http://x/", b"", {}, STRICT), "extra": 1}, "parameter_unknown", "extra"),
        ({"url": "http://x/"}, "parameter_missing", "body"),
        (
            {**relayed_request("http://x/", b"", {}, STRICT), "timeout_s": 9999},
            "parameter_invalid",
            "timeout_s",
        ),
        ("not an object", "invalid_request", None),
    ],
    ids=["unknown", "missing", "invalid", "not-an-object"],
)
def test_malformed_input_is_a_clear_400(
    project: Project, payload: object, code: str, param: str | None
) -> None:
    response = requests.post(function_url(SENDER_FUNCTION), json=payload, timeout=30)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == code and error.get("param") == param
    not_json = requests.post(function_url(SENDER_FUNCTION), data=b"{", timeout=30)
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "invalid_json"
    assert requests.get(function_url(SENDER_FUNCTION), timeout=30).status_code == 405


def test_a_worker_hanging_behind_the_sender_frees_its_types_slot_at_the_timeout(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    account_with_credits("alice", 10)
    account_with_credits("bob", 10)
    alice, bob = create_api_key("alice", "live")[1], create_api_key("bob", "live")[1]
    created = put_job_type(
        api, "stuck", receiver.url(), pricing={"credits": 2}, max_concurrency=1, timeout_s=2, max_attempts=1
    )
    receiver.respond(Scripted(200, delay_s=25))  # alice's dispatch hangs far past the type's timeout
    receiver.default = answer({"ok": True})
    hung = post_job(api, alice, {"type": "stuck", "input": {}}).json()["job_id"]
    eventually(lambda: len(receiver.received()) == 1, message="alice's dispatch reached the worker")
    waiting = post_job(api, bob, {"type": "stuck", "input": {}}).json()["job_id"]
    eventually(
        lambda: stored_jobs("bob")[waiting].status is JobStatus.COMPLETED, timeout=60, message="bob's job ran"
    )
    first, second = receiver.received()[:2]
    assert dispatch_of(created["worker_secret"], second)["job_id"] == waiting
    # Bob's turn came when alice's attempt timed out (2 s), not when the worker would have answered (25 s).
    assert 1.5 <= second.at - first.at < 15, second.at - first.at
    failed = eventually(
        lambda: stored_jobs("alice")[hung] if stored_jobs("alice")[hung].status is JobStatus.FAILED else None,
        message="alice's job failed",
    )
    assert failed.error is not None and "timed out" in failed.error, failed.error
    assert (balance("alice"), balance("bob")) == (10, 8)
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)
    assert json.loads(second.body)["user_id"] == "bob"
