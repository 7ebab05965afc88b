"""Operator job types run by real local worker processes (HTTP servers on loopback), end to end: the API
creates the job, on_job_created publishes it, run_job dispatches it through the functions host, the sweep
retries, expires and recovers. Every dispatch is verified with the `standardwebhooks` package; every money
test ends with the ledger summing to the balance, and a second tenant is present throughout."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from shared.core.clients import project_scope
from shared.jobs.attempts import Verdict
from shared.jobs.service import job_ref
from shared.jobs.sweep import sweep_jobs
from shared.models import JobStatus, LedgerEntryType, WebhookEventType, utc_now
from shared.workers.dispatch import Dispatched, dispatch_job
from tests.conftest import Project
from tests.support.job_workers import (
    account_with_credits,
    answer,
    assert_ledger_sums_to_balance,
    dispatch_of,
    dispatcher_process,
    put_job_type,
    refuse,
)
from tests.support.jobs import balance, ledger_entries, post_job, set_job_costs, stored_jobs
from tests.support.platform import ApiClient, create_api_key
from tests.support.waiting import eventually
from tests.support.webhook_receiver import Scripted, WebhookReceiver
from tests.support.webhooks import setup_endpoint, verify


def get_job(api: ApiClient, key: str, job_id: str) -> dict[str, Any]:
    response = api.request("GET", f"/v1/jobs/{job_id}", token=key)
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def finished(api: ApiClient, key: str, job_id: str, sweep: bool = False) -> dict[str, Any] | None:
    """The job once it ended; `sweep` runs a sweep pass first (retries are handed out by the sweep)."""
    if sweep:
        sweep_jobs()
    job = get_job(api, key, job_id)
    return job if job["status"] in ("completed", "failed", "canceled") else None


def tenants(credits: int = 100) -> tuple[str, str]:
    """alice (live key) and bob (live key), both with credits; returns their keys."""
    account_with_credits("alice", credits)
    account_with_credits("bob", credits)
    return create_api_key("alice", "live")[1], create_api_key("bob", "live")[1]


def test_signed_dispatch_completes_and_pays_the_fixed_price(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    alice, bob = tenants(10)
    _, alice_test = create_api_key("alice", "test")
    created = put_job_type(
        api, "render", receiver.url("/render"), pricing={"credits": 3}, description="Renders."
    )
    secret = created["worker_secret"]
    assert secret.startswith("whsec_")
    receiver.respond(answer({"frames": 24}))
    job_id = post_job(api, alice, {"type": "render", "input": {"scene": 1}}).json()["job_id"]
    job = eventually(lambda: finished(api, alice, job_id), message="render job finished")
    assert (job["status"], job["result"], job["attempts"], job["cost"], job["reserved_credits"]) == (
        "completed",
        {"frames": 24},
        1,
        3,
        3,
    )
    [request] = receiver.received()
    dispatch = dispatch_of(secret, request)
    assert dispatch["job_id"] == job_id and dispatch["type"] == "render"
    assert (dispatch["input"], dispatch["attempt"], dispatch["livemode"]) == ({"scene": 1}, 1, True)
    assert isinstance(dispatch["deadline"], int) and dispatch["deadline"] > time.time()
    assert request.headers["webhook-id"] == f"{job_id}_1"
    # A test key's job runs through the same worker at no cost; bob's balance is his own.
    receiver.respond(answer({"frames": 1}))
    test_job = post_job(api, alice_test, {"type": "render", "input": {}}).json()["job_id"]
    test_done = eventually(lambda: finished(api, alice_test, test_job), message="test job finished")
    assert (test_done["status"], test_done["cost"], test_done["livemode"]) == ("completed", 0, False)
    assert dispatch_of(secret, receiver.received()[1])["livemode"] is False
    assert (balance("alice"), balance("bob")) == (7, 10)
    assert post_job(api, bob, {"type": "render", "input": {}}).status_code == 201
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def test_a_500_always_worker_gets_exactly_max_attempts(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    alice, _ = tenants(10)
    # Retry-After: 0 lets the sweep hand out the next attempt at once instead of after the backoff.
    receiver.default = Scripted(500, {"Retry-After": "0"}, body=b"boom")
    put_job_type(api, "flaky", receiver.url(), pricing={"credits": 4}, max_attempts=3)
    job_id = post_job(api, alice, {"type": "flaky", "input": {}}).json()["job_id"]
    assert balance("alice") == 6
    job = eventually(lambda: finished(api, alice, job_id, sweep=True), message="attempts exhausted")
    assert (job["status"], job["failure_reason"], job["attempts"], job["cost"]) == (
        "failed",
        "attempts_exhausted",
        3,
        0,
    )
    assert "All 3 attempts failed" in job["error"] and "500" in job["error"]
    for _ in range(3):
        sweep_jobs()  # nothing is left to hand out
    attempts = [json.loads(r.body)["attempt"] for r in receiver.received()]
    assert attempts == [1, 2, 3]
    eventually(lambda: balance("alice") == 10, message="refund")
    assert [e.type for e in ledger_entries("alice")].count(LedgerEntryType.REFUND) == 1
    assert_ledger_sums_to_balance("alice")


def test_a_422_fails_at_once_with_the_workers_message(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    alice, _ = tenants(5)
    receiver.default = refuse(422, "The scene has no camera.")
    put_job_type(api, "strict", receiver.url(), pricing={"credits": 2}, max_attempts=5)
    job_id = post_job(api, alice, {"type": "strict", "input": {}}).json()["job_id"]
    job = eventually(lambda: finished(api, alice, job_id), message="job failed")
    assert (job["status"], job["failure_reason"], job["error"], job["attempts"]) == (
        "failed",
        "worker_error",
        "The scene has no camera.",
        1,
    )
    assert len(receiver.received()) == 1
    eventually(lambda: balance("alice") == 5, message="refund")
    assert_ledger_sums_to_balance("alice")


def test_a_hanging_worker_times_out(project: Project, api: ApiClient, receiver: WebhookReceiver) -> None:
    alice, _ = tenants(5)
    receiver.default = answer({"late": True}, delay_s=8)
    put_job_type(api, "slow", receiver.url(), pricing={"credits": 1}, timeout_s=1, max_attempts=1)
    job_id = post_job(api, alice, {"type": "slow", "input": {}}).json()["job_id"]
    job = eventually(lambda: finished(api, alice, job_id), message="job timed out")
    assert (job["status"], job["failure_reason"], job["attempts"]) == ("failed", "attempts_exhausted", 1)
    assert "timed out" in job["error"]
    eventually(lambda: balance("alice") == 5, message="refund")
    assert_ledger_sums_to_balance("alice")


def test_metered_jobs_reserve_the_max_and_release_what_usage_did_not_cost(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    alice, bob = tenants(150)
    _, alice_test = create_api_key("alice", "test")
    pricing = {"credits_per_unit": 2, "max_credits": 100, "unit": "second"}
    put_job_type(api, "transcribe", receiver.url(), pricing=pricing)
    receiver.respond(answer({"text": "hi"}, units=7.3), answer({"text": "long"}, units=1000))
    first = post_job(api, alice, {"type": "transcribe", "input": {}})
    assert (first.json()["reserved_credits"], first.json()["cost"]) == (100, None)
    assert balance("alice") == 50
    job = eventually(lambda: finished(api, alice, first.json()["job_id"]), message="metered job finished")
    assert (job["status"], job["cost"], job["reserved_credits"], job["usage"]) == (
        "completed",
        15,  # ceil(7.3 x 2)
        100,
        {"units": 7.3, "unit": "second"},
    )
    assert balance("alice") == 135
    entries = sorted(ledger_entries("alice"), key=lambda e: e.created_at)
    assert [(e.type, e.amount, e.reference) for e in entries][1:] == [
        (LedgerEntryType.JOB_DEBIT, -100, first.json()["job_id"]),
        (LedgerEntryType.JOB_RELEASE, 85, first.json()["job_id"]),
    ]
    # Usage past the cap costs the cap: nothing is released.
    capped = post_job(api, alice, {"type": "transcribe", "input": {}}).json()["job_id"]
    assert eventually(lambda: finished(api, alice, capped), message="capped job")["cost"] == 100
    assert balance("alice") == 35
    # Short of max_credits: 402, nothing written.
    short = post_job(api, alice, {"type": "transcribe", "input": {}})
    assert (short.status_code, short.json()["error"]["code"]) == (402, "insufficient_credits")
    # A test key: the same states at no cost.
    receiver.respond(answer({}, units=3))
    test_job = post_job(api, alice_test, {"type": "transcribe", "input": {}}).json()
    assert test_job["reserved_credits"] == 0
    done = eventually(lambda: finished(api, alice_test, test_job["job_id"]), message="test job")
    assert (done["status"], done["cost"], done["usage"]["units"]) == ("completed", 0, 3)
    assert (balance("alice"), balance("bob")) == (35, 150)
    assert post_job(api, bob, {"type": "transcribe", "input": {}}).json()["reserved_credits"] == 100
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def test_cancel_while_queued_and_while_running(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    # Legacy types without a worker: "hold" stays queued; "long" is given a worker after its job is made.
    set_job_costs({"hold": 2, "long": 5})
    alice, bob = tenants(20)
    with WebhookReceiver() as hooks:
        webhook_secret = setup_endpoint("alice", hooks.url(), ("job.canceled", "job.completed"))
        queued = post_job(api, alice, {"type": "hold", "input": {}}).json()["job_id"]
        assert api.request("POST", f"/v1/jobs/{queued}/cancel", token=bob).status_code == 404
        canceled = api.request("POST", f"/v1/jobs/{queued}/cancel", token=alice)
        assert canceled.status_code == 200, canceled.text
        assert (canceled.json()["status"], canceled.json()["cost"]) == ("canceled", 0)
        assert balance("alice") == 20
        again = api.request("POST", f"/v1/jobs/{queued}/cancel", token=alice)
        assert (again.status_code, again.json()["status"]) == (200, "canceled")

        # Running: a dispatcher (in this process) waits on the worker while the job is canceled.
        running = post_job(api, alice, {"type": "long", "input": {}}).json()["job_id"]
        put_job_type(api, "long", receiver.url(), pricing={"credits": 5})
        receiver.respond(answer({"too": "late"}, delay_s=2))
        with ThreadPoolExecutor(max_workers=1) as pool:
            dispatch = pool.submit(_dispatch_in, project.id, running)
            eventually(lambda: receiver.received(), message="worker called")
            assert get_job(api, alice, running)["status"] == "running"
            response = api.request("POST", f"/v1/jobs/{running}/cancel", token=alice)
            assert response.json()["status"] == "canceled"
            late = dispatch.result(timeout=30)
        # The worker's answer arrived after the cancel: it changed nothing.
        assert late is not None and late.outcome.verdict is Verdict.COMPLETED and late.applied is False
        job = get_job(api, alice, running)
        assert (job["status"], job["result"], job["cost"], job["attempts"]) == ("canceled", None, 0, 1)
        eventually(lambda: balance("alice") == 20, message="refund")

        events = eventually(lambda: _received_types(hooks, webhook_secret, 2), message="canceled events")
        assert [e["type"] for e in events] == [WebhookEventType.JOB_CANCELED.value] * 2
        objects = {e["data"]["object"]["job_id"]: e["data"]["object"] for e in events}
        assert (objects[running]["attempts"], objects[running]["cost"]) == (1, 0)
        assert (objects[queued]["attempts"], objects[queued]["cost"]) == (0, 0)

    done = post_job(api, alice, {"type": "echo", "input": {}}).json()["job_id"]
    eventually(lambda: finished(api, alice, done), message="job completed")
    refused = api.request("POST", f"/v1/jobs/{done}/cancel", token=alice)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "illegal_state_transition")
    assert "completed" in refused.json()["error"]["message"]
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def _dispatch_in(project_id: str, job_id: str) -> Dispatched | None:
    with project_scope(project_id):
        return dispatch_job(job_id)


def _all_finished(api: ApiClient, key: str, job_ids: list[str]) -> list[dict[str, Any]] | None:
    jobs = [finished(api, key, job_id) for job_id in job_ids]
    return [job for job in jobs if job is not None] if all(jobs) else None


def _received_types(hooks: WebhookReceiver, secret: str, count: int) -> list[dict[str, Any]] | None:
    payloads = [verify(secret, r) for r in hooks.received()]
    return payloads if len(payloads) >= count else None


def test_a_job_nobody_starts_expires_and_is_refunded(project: Project, api: ApiClient) -> None:
    set_job_costs({"hold": 3})
    alice, bob = tenants(10)
    job_id = post_job(api, alice, {"type": "hold", "input": {}}).json()["job_id"]
    other = post_job(api, bob, {"type": "hold", "input": {}}).json()["job_id"]
    assert sweep_jobs().expired == []  # not yet
    job = stored_jobs("alice")[job_id]
    assert job.expires_at is not None
    job_ref(other).update({"expires_at": utc_now() + timedelta(days=1)})  # bob's type waits longer
    report = sweep_jobs(now=job.expires_at + timedelta(seconds=1))
    assert report.expired == [job_id]
    expired = get_job(api, alice, job_id)
    assert (expired["status"], expired["failure_reason"], expired["cost"]) == ("failed", "expired", 0)
    assert balance("alice") == 10 and balance("bob") == 7
    assert sweep_jobs(now=job.expires_at + timedelta(seconds=2)).expired == []  # once
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def test_a_dispatcher_killed_mid_attempt_is_counted_and_retried(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    set_job_costs({"resumable": 2})  # legacy at creation: the functions host does not dispatch it
    alice, _ = tenants(10)
    job_id = post_job(api, alice, {"type": "resumable", "input": {"n": 1}}).json()["job_id"]
    secret = put_job_type(api, "resumable", receiver.url(), pricing={"credits": 2})["worker_secret"]
    job_ref(job_id).update({"timeout_s": 2})  # as if created with the type's settings, short for the test
    receiver.respond(answer({"first": True}, delay_s=30))  # the first attempt hangs
    receiver.default = answer({"second": True})
    dispatcher = dispatcher_process(project.id, job_id)
    try:
        eventually(lambda: receiver.received(), message="worker called by the dispatcher")
    finally:
        dispatcher.kill()
        dispatcher.wait(timeout=10)
    job = stored_jobs("alice")[job_id]
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
    assert job.attempt_deadline is not None
    # Past its deadline (and the grace), the sweep counts the attempt as failed and retries after the
    # backoff (at most 5 s); the functions host's dispatcher then makes attempt 2.
    assert job.sweep_at is not None  # the attempt's deadline and the recovery grace
    wait_s = (job.sweep_at - utc_now()).total_seconds() + 15
    done = eventually(
        lambda: finished(api, alice, job_id, sweep=True), timeout=wait_s + 30, message="retried"
    )
    assert (done["status"], done["attempts"], done["result"]) == ("completed", 2, {"second": True})
    assert [dispatch_of(secret, r)["attempt"] for r in receiver.received()] == [1, 2]
    assert balance("alice") == 8
    assert_ledger_sums_to_balance("alice")


def test_a_hanging_worker_type_leaves_another_tenants_jobs_alone(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    alice, bob = tenants(50)
    with WebhookReceiver(answer({"quick": True})) as quick:
        receiver.default = answer({}, delay_s=20)
        put_job_type(api, "stuck", receiver.url(), pricing={"credits": 1}, timeout_s=25, max_attempts=1)
        put_job_type(api, "quick", quick.url(), pricing={"credits": 1})
        stuck = [
            post_job(api, alice, {"type": "stuck", "input": {"i": i}}).json()["job_id"] for i in range(8)
        ]
        eventually(lambda: receiver.received(), message="stuck jobs dispatched")
        fast = [post_job(api, bob, {"type": "quick", "input": {"i": i}}).json()["job_id"] for i in range(5)]
        done = eventually(lambda: _all_finished(api, bob, fast), message="bob's jobs")
        assert {job["status"] for job in done} == {"completed"}
        # ... while every one of alice's is still waiting on her hanging worker.
        assert {stored_jobs("alice")[j].status for j in stuck} <= {JobStatus.RUNNING, JobStatus.QUEUED}
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def test_job_types_api(project: Project, api: ApiClient, receiver: WebhookReceiver) -> None:
    alice, _ = tenants(10)
    admin = api.user_token("root", admin=True)
    created = put_job_type(api, "paint", receiver.url(), pricing={"credits": 2}, description="Paints.")
    assert created["legacy"] is False and created["worker_url"] == receiver.url()
    replaced = put_job_type(api, "paint", receiver.url("/v2"), pricing={"credits": 3})
    assert "worker_secret" not in replaced or replaced["worker_secret"] is None
    listing = api.request("GET", "/v1/job_types", token=alice).json()["data"]
    assert {"type": "paint", "description": "", "pricing": {"credits": 3}} in listing
    assert all("worker_url" not in t for t in listing)
    assert any(t["type"] == "echo" for t in listing)
    admin_list = api.request("GET", "/v1/admin/job_types", token=admin).json()["data"]
    assert [t["worker_url"] for t in admin_list if t["type"] == "paint"] == [receiver.url("/v2")]
    assert api.request("GET", "/v1/admin/job_types", token=alice).status_code == 403
    # Answers holding a worker secret are never stored by a cache or a proxy; the others may be.
    body = {"worker_url": receiver.url(), "pricing": {"credits": 1}}
    fresh = api.request("PUT", "/v1/admin/job_types/paint2", token=admin, json=body)
    assert fresh.status_code == 201 and fresh.headers["Cache-Control"] == "no-store"
    again = api.request("PUT", "/v1/admin/job_types/paint2", token=admin, json=body)
    assert again.status_code == 200 and again.headers.get("Cache-Control") != "no-store"
    # Rotation: the old secret keeps signing alongside the new one.
    rotation = api.request("POST", "/v1/admin/job_types/paint/rotate_secret", token=admin, json={})
    assert rotation.status_code == 200 and rotation.headers["Cache-Control"] == "no-store"
    rotated = rotation.json()
    receiver.respond(answer({"painted": True}))
    job_id = post_job(api, alice, {"type": "paint", "input": {}}).json()["job_id"]
    eventually(lambda: finished(api, alice, job_id), message="paint job")
    [request] = receiver.received()
    dispatch_of(rotated["worker_secret"], request)
    dispatch_of(created["worker_secret"], request)
    # Bad input: clear 400s.
    bad_bodies: tuple[tuple[str, dict[str, object]], ...] = (
        ("BadName", {"worker_url": receiver.url(), "pricing": {"credits": 1}}),
        ("x", {"worker_url": "ftp://x", "pricing": {"credits": 1}}),
        ("x", {"worker_url": receiver.url(), "pricing": {"credits": 1, "max_credits": 3}}),
        ("x", {"worker_url": receiver.url(), "pricing": {"credits": 1}, "timeout_s": 3601}),
        ("x", {"worker_url": receiver.url(), "pricing": {"credits": 1}, "max_attempts": 11}),
        ("x", {"worker_url": receiver.url(), "pricing": {"credits": 1}, "queue_timeout_s": 9}),
    )
    for name, bad_body in bad_bodies:
        response = api.request("PUT", f"/v1/admin/job_types/{name}", token=admin, json=bad_body)
        assert response.status_code == 400, (name, bad_body, response.text)
    # Deleted: new jobs refused, listing without it, a second delete is 404.
    assert api.request("DELETE", "/v1/admin/job_types/paint", token=admin).json() == {
        "type": "paint",
        "deleted": True,
    }
    refused = eventually(lambda: _refused(api, alice), message="deleted type refused")
    assert refused["error"]["param"] == "type"
    assert api.request("DELETE", "/v1/admin/job_types/paint", token=admin).status_code == 404
    recreated = put_job_type(api, "paint", receiver.url(), pricing={"credits": 1})
    assert recreated["worker_secret"] not in (created["worker_secret"], rotated["worker_secret"])
    assert_ledger_sums_to_balance("alice")


def _refused(api: ApiClient, key: str) -> dict[str, Any] | None:
    """The 400 answer once the instance's cached types know the type is deleted."""
    response = post_job(api, key, {"type": "paint", "input": {}})
    return response.json() if response.status_code == 400 else None
