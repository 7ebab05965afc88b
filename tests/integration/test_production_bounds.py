"""What one tenant can make the platform hold or do for free, bounded (docs/reliability.md): JSON value caps
on job inputs and worker results, lists that never read input or result, the public echo worker refusing
unsigned dispatches unread, webhook.test data that expires in both modes and capped test sends and retries,
and the webhook sweep handing each due event out once. A second customer is present throughout."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
import requests
from google.cloud import firestore
from standardwebhooks.webhooks import Webhook

from shared.core.clients import firestore_client, project_scope
from shared.core.errors import ApiError, ErrorCode
from shared.core.firestore_values import MAX_JSON_VALUES
from shared.core.index_shards import index_shard
from shared.core.principals import KeyPrincipal
from shared.jobs.service import jobs_query
from shared.models import (
    KeyEnvironment,
    WebhookControlUsage,
    WebhookEvent,
    WebhookEventStatus,
    WebhookEventType,
    utc_now,
)
from shared.outbound.signing import generate_signing_secret
from shared.webhooks.events import sweep_due_events
from shared.webhooks.quotas import LIMITS, Control
from shared.workers.echo import handle_echo
from tests.conftest import Project
from tests.support.firestore_calls import recording_calls
from tests.support.job_workers import account_with_credits, admin_token, put_job_type
from tests.support.jobs import post_job
from tests.support.platform import ApiClient, create_api_key
from tests.support.waiting import eventually
from tests.support.webhook_receiver import Scripted, WebhookReceiver
from tests.support.webhooks import setup_endpoint, stored_deliveries, stored_event


def get_job(api: ApiClient, key: str, job_id: str) -> dict[str, Any]:
    response = api.request("GET", f"/v1/jobs/{job_id}", token=key)
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def ended(api: ApiClient, key: str, job_id: str) -> dict[str, Any] | None:
    job = get_job(api, key, job_id)
    return job if job["status"] in ("completed", "failed", "canceled") else None


def test_job_inputs_and_worker_results_are_capped_in_json_values(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    account_with_credits("alice", 10)
    account_with_credits("bob", 10)
    alice_id, alice = create_api_key("alice", "live")
    _, bob = create_api_key("bob", "live")
    # The input: 21,000 empty objects in 64 KiB.
    body = json.dumps({"type": "echo", "input": {"a": [{}] * 21_000}}, separators=(",", ":"))
    assert len(body) < 64 * 1024
    flood = api.request(
        "POST", "/v1/jobs", token=alice, data=body, headers={"Content-Type": "application/json"}
    )
    assert flood.status_code == 400, flood.text
    error = flood.json()["error"]
    assert (error["code"], error["param"]) == ("parameter_invalid", "input")
    assert f"more than {MAX_JSON_VALUES} JSON values" in error["message"]
    # The largest input allowed: accepted (the object itself and 4,999 values in it).
    largest = post_job(api, alice, {"type": "echo", "input": {"a": [{}] * (MAX_JSON_VALUES - 2)}})
    assert largest.status_code == 201, largest.text

    # A list reads no input or result (a projection), expanded or not the page is the same size in memory.
    principal = KeyPrincipal(user_id="alice", key_id=alice_id, environment=KeyEnvironment.LIVE)
    listed = [s.to_dict() or {} for s in jobs_query(principal, None).stream()]
    assert listed and all("input" not in data and "result" not in data for data in listed)
    page = api.request("GET", "/v1/jobs?limit=100", token=alice)
    assert page.status_code == 200 and "input" not in page.json()["data"][0]
    expanded = api.request("GET", "/v1/jobs?limit=5&expand[]=data.input", token=alice)
    assert len(expanded.json()["data"][0]["input"]["a"]) == MAX_JSON_VALUES - 2

    # A worker's result of too many values: the job fails cleanly with the reason (never a 5xx).
    put_job_type(api, "spill", receiver.url(), pricing={"credits": 1}, max_attempts=1)
    big = json.dumps({"result": {"items": [{}] * MAX_JSON_VALUES}}).encode()
    receiver.respond(Scripted(200, {"Content-Type": "application/json"}, body=big))
    spilled = post_job(api, alice, {"type": "spill", "input": {}}).json()["job_id"]
    job = eventually(lambda: ended(api, alice, spilled), message="spill job ended")
    assert (job["status"], job["failure_reason"], job["result"]) == ("failed", "attempts_exhausted", None)
    assert f"more than {MAX_JSON_VALUES} JSON values" in job["error"]
    # bob's jobs are unaffected.
    bobs = post_job(api, bob, {"type": "echo", "input": {"n": 1}}).json()["job_id"]
    assert eventually(lambda: ended(api, bob, bobs), message="bob's echo")["result"] == {"n": 1}


def signed_headers_of_another_secret(body: bytes) -> dict[str, str]:
    now = utc_now()
    signature = Webhook(generate_signing_secret()).sign("msg_1", now, body)
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


def test_the_echo_worker_refuses_unsigned_dispatches_without_reading(
    project: Project, api: ApiClient
) -> None:
    account_with_credits("alice", 5)
    account_with_credits("bob", 5)
    _, alice = create_api_key("alice", "live")
    body = json.dumps({"job_id": "job_x", "input": {"n": 1}}).encode()
    stale = {
        "webhook-id": "m",
        "webhook-timestamp": str(int(time.time()) - 3600),
        "webhook-signature": "v1,xx",
    }
    with recording_calls() as calls:
        for headers in ({}, {"webhook-id": "m"}, stale, {"webhook-signature": "v1,abc"}):
            with pytest.raises(ApiError) as refused:
                handle_echo(headers, body)
            assert refused.value.code is ErrorCode.INVALID_SIGNATURE
        assert calls.read_calls() == 0 and calls.queries == 0
        # Well-formed but signed with another secret: refused; the secrets are read at most once.
        for _ in range(20):
            with pytest.raises(ApiError):
                handle_echo(signed_headers_of_another_secret(body), body)
        assert calls.read_calls() <= 1 and calls.queries == 0
    # Over HTTP, the public function answers 400 invalid_signature.
    answer = requests.post(project.function_url("echo_worker"), data=body, timeout=30)
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "invalid_signature")
    # Signed dispatches (run_job's) still complete jobs, alice's and bob's.
    _, bob = create_api_key("bob", "live")
    for key in (alice, bob):
        job_id = post_job(api, key, {"type": "echo", "input": {"k": key[:8]}}).json()["job_id"]
        assert eventually(partial(ended, api, key, job_id), message="echo job")["status"] == "completed"


def test_webhook_test_data_expires_in_both_modes_and_test_sends_and_retries_are_capped(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    account_with_credits("alice", 0)
    account_with_credits("bob", 0)
    setup_endpoint("alice", receiver.url())
    setup_endpoint("bob", receiver.url())
    alice_user = api.user_token("alice")
    _, bob_key = create_api_key("bob", "live")
    # A signed-in user's test send is live, yet its event and attempt expire like test data.
    sent = api.request("POST", "/v1/webhook/test", token=alice_user)
    assert sent.status_code == 202, sent.text
    event_id = sent.json()["event_id"]
    event = stored_event(event_id)
    assert event.livemode and event.delete_at is not None
    deliveries = eventually(lambda: stored_deliveries(event_id), message="test event delivered")
    assert all(d.livemode and d.delete_at is not None for d in deliveries)
    # A live job event keeps no expiry (covered by retention's own tests); the cap: alice's hour is spent.
    usage = firestore_client().collection(WebhookControlUsage.collection)
    spent = WebhookControlUsage(
        window_start=utc_now(), test_sends=LIMITS[Control.TEST_SEND], retries=LIMITS[Control.RETRY]
    )
    usage.document("alice").set(spent.to_firestore())
    refused = api.request("POST", "/v1/webhook/test", token=alice_user)
    assert (refused.status_code, refused.json()["error"]["code"]) == (429, "rate_limited")
    assert int(refused.headers["Retry-After"]) > 0
    retry = api.request("POST", f"/v1/webhook/events/{event_id}/retry", token=alice_user)
    assert (retry.status_code, retry.json()["error"]["code"]) == (429, "rate_limited")
    # The operator's retry is not counted; bob's own sends are his own budget.
    by_admin = api.request(
        "POST", f"/v1/admin/webhooks/alice/events/{event_id}/retry", token=admin_token(api)
    )
    assert by_admin.status_code == 202, by_admin.text
    assert api.request("POST", "/v1/webhook/test", token=bob_key).status_code == 202
    assert WebhookControlUsage.from_firestore(usage.document("bob").get().to_dict()).test_sends == 1


def due_event(user_id: str, event_id: str, **fields: Any) -> None:
    now = utc_now()
    event = WebhookEvent(
        user_id=user_id,
        type=WebhookEventType.JOB_COMPLETED,
        livemode=True,
        payload={"id": event_id},
        attempts=1,
        next_attempt_at=now - timedelta(seconds=10),
        index_shard=index_shard(event_id),
        created_at=now,
    )
    firestore_client().collection(WebhookEvent.collection).document(event_id).set(
        event.to_firestore() | fields
    )


def test_the_webhook_sweep_hands_each_due_event_out_once(project: Project) -> None:
    ids = [f"evt_{n:032x}" for n in range(1, 7)]
    for n, event_id in enumerate(ids):
        due_event("alice" if n < 5 else "bob", event_id)
    # A malformed one (no user id): logged and skipped, the others still go.
    broken = f"evt_{99:032x}"
    due_event("alice", broken)
    firestore_client().collection(WebhookEvent.collection).document(broken).update(
        {"user_id": firestore.DELETE_FIELD}
    )

    def sweep() -> int:
        with project_scope(project.id):
            return sweep_due_events()

    # Two sweeps at once (a Scheduler tick delivered twice): every event is handed out once between them.
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = list(pool.map(lambda _: sweep(), range(2)))
    assert sum(counts) == len(ids)
    # The next poll, 2.5 s later, hands out nothing again (before: all of them, every pass).
    assert sweep_due_events() == 0
    for event_id in ids:
        stored = stored_event(event_id)
        assert stored.status is not WebhookEventStatus.PENDING or (
            stored.next_attempt_at is not None and stored.next_attempt_at > utc_now()
        )
