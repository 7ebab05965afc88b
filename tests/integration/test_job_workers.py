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
from tests.support.firestore_delivery import detach_trigger, reattach_trigger
from tests.support.job_workers import (
    accepted,
    account_with_credits,
    answer,
    assert_ledger_sums_to_balance,
    dispatch_of,
    dispatcher_process,
    post_callback,
    put_job_type,
    put_priced_types,
    refuse,
)
from tests.support.jobs import balance, due_now, held, ledger_entries, post_job, stored_jobs
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
        api,
        "render",
        receiver.url("/render"),
        pricing={"credits": 3},
        description="Renders.",
        test_jobs="worker",  # test-mode jobs go to the worker too (livemode false)
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
    assert dispatch["user_id"] == "alice" and "callback_url" not in dispatch
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
    put_job_type(api, "transcribe", receiver.url(), pricing=pricing, test_jobs="worker")
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
    # Both jobs are held (run_at): "hold"'s stays queued; "long"'s is made due and dispatched in this process.
    alice, bob = tenants(20)
    put_priced_types(api, {"hold": 2})
    put_job_type(api, "long", receiver.url(), pricing={"credits": 5})
    with WebhookReceiver() as hooks:
        webhook_secret = setup_endpoint("alice", hooks.url(), ("job.canceled", "job.completed"))
        queued = post_job(api, alice, held("hold")).json()["job_id"]
        assert api.request("POST", f"/v1/jobs/{queued}/cancel", token=bob).status_code == 404
        canceled = api.request("POST", f"/v1/jobs/{queued}/cancel", token=alice)
        assert canceled.status_code == 200, canceled.text
        assert (canceled.json()["status"], canceled.json()["cost"]) == ("canceled", 0)
        assert balance("alice") == 20
        again = api.request("POST", f"/v1/jobs/{queued}/cancel", token=alice)
        assert (again.status_code, again.json()["status"]) == (200, "canceled")

        # Running: a dispatcher (in this process) waits on the worker while the job is canceled. The host
        # never dispatches the job: its creation trigger is detached while it is made, and it is held (run_at)
        # until made due here.
        firestore_host = project.stack.firestore_host
        detach_trigger(firestore_host, project.id, "on_job_created")
        try:
            running = post_job(api, alice, held("long")).json()["job_id"]
        finally:
            reattach_trigger(firestore_host, project.id, "on_job_created")
        due_now(running)
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
    put_priced_types(api, {"hold": 3})
    alice, bob = tenants(10)
    # Held (run_at): nothing starts them; each expires queue_timeout_s after its run_at.
    job_id = post_job(api, alice, held("hold")).json()["job_id"]
    other = post_job(api, bob, held("hold")).json()["job_id"]
    assert sweep_jobs().expired == []  # not yet
    job = stored_jobs("alice")[job_id]
    assert job.expires_at is not None
    job_ref(other).update({"expires_at": job.expires_at + timedelta(days=1)})  # bob's type waits longer
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
    alice, _ = tenants(10)
    secret = put_job_type(api, "resumable", receiver.url(), pricing={"credits": 2})["worker_secret"]
    # Held at creation (run_at): the functions host does not dispatch it; the dispatcher below does.
    job_id = post_job(api, alice, held("resumable", {"n": 1})).json()["job_id"]
    due_now(job_id)
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
    assert "legacy" not in created and created["worker_url"] == receiver.url()
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
    second = {"worker_url": receiver.url(), "pricing": {"credits": 1}}
    fresh = api.request("PUT", "/v1/admin/job_types/paint2", token=admin, json=second)
    assert fresh.status_code == 201 and fresh.headers["Cache-Control"] == "no-store"
    again = api.request("PUT", "/v1/admin/job_types/paint2", token=admin, json=second)
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


# ---------------------------------------------------------------------------------------------------
# Callback completion, delayed jobs, test mode, cancel notices (docs/workers.md)


def _requests_of(receiver: WebhookReceiver, secret: str, job_id: str) -> list[dict[str, Any]]:
    """What the worker received about `job_id`, each verified with the type's secret."""
    return [dispatch_of(secret, r) for r in receiver.received() if json.loads(r.body).get("job_id") == job_id]


def _dispatched(receiver: WebhookReceiver, secret: str, job_id: str) -> dict[str, Any] | None:
    """The (verified) dispatch of `job_id` the worker received, once it did."""
    dispatches = [p for p in _requests_of(receiver, secret, job_id) if "notice" not in p]
    return dispatches[0] if dispatches else None


def _notices(receiver: WebhookReceiver, secret: str, job_id: str) -> list[dict[str, Any]]:
    return [p for p in _requests_of(receiver, secret, job_id) if p.get("notice") == "cancel"]


def _running(api: ApiClient, key: str, job_id: str) -> dict[str, Any] | None:
    job = get_job(api, key, job_id)
    return job if job["status"] == "running" else None


def test_callback_result_progress_repeat_and_wrong_token(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    alice, bob = tenants(10)
    receiver.default = accepted()
    secret = put_job_type(
        api, "film", receiver.url(), pricing={"credits": 4}, completion="callback", timeout_s=7200
    )["worker_secret"]
    alice_job = post_job(api, alice, {"type": "film", "input": {"reel": 1}}).json()["job_id"]
    bob_job = post_job(api, bob, {"type": "film", "input": {"reel": 2}}).json()["job_id"]
    dispatch = eventually(lambda: _dispatched(receiver, secret, alice_job), message="alice's dispatch")
    bobs = eventually(lambda: _dispatched(receiver, secret, bob_job), message="bob's dispatch")
    assert dispatch["callback_url"] == f"{api.base_url}/v1/jobs/{alice_job}/callback"
    assert (dispatch["user_id"], bobs["user_id"]) == ("alice", "bob")
    assert dispatch["deadline"] > time.time() + 7000  # the callback's deadline: timeout_s
    token, url = dispatch["callback_token"], dispatch["callback_url"]
    running = eventually(lambda: _running(api, alice, alice_job), message="alice's job running")
    assert running["progress"] is None

    # A wrong token, bob's token, an API key, no token: 401, nothing changes.
    for wrong in ("cbt_wrong", bobs["callback_token"], alice, None):
        refused = post_callback(url, wrong, {"result": {"stolen": True}})
        assert (refused.status_code, refused.json()["error"]["code"]) == (401, "invalid_callback_token")
    # Outside the contract: 400, the job keeps waiting.
    assert post_callback(url, token, {"result": {}, "progress": {"percent": 5}}).status_code == 400
    assert post_callback(url, token, {"progress": {"percent": 140}}).status_code == 400

    progress = post_callback(url, token, {"progress": {"percent": 40, "message": "rendering"}})
    assert progress.status_code == 200, progress.text
    shown = get_job(api, alice, alice_job)
    assert (shown["status"], shown["progress"]["percent"], shown["progress"]["message"]) == (
        "running",
        40,
        "rendering",
    )
    assert get_job(api, bob, bob_job)["progress"] is None

    done = post_callback(url, token, {"result": {"frames": 240}})
    assert (done.status_code, done.json()) == (
        200,
        {"job_id": alice_job, "accepted": True, "status": "completed"},
    )
    job = get_job(api, alice, alice_job)
    assert (job["status"], job["result"], job["cost"], job["progress"]) == (
        "completed",
        {"frames": 240},
        4,
        None,
    )
    # A repeat (or any later report) is refused and changes nothing.
    for later in ({"result": {"frames": 1}}, {"error": {"message": "x"}, "retryable": False}):
        repeat = post_callback(url, token, later)
        assert (repeat.status_code, repeat.json()["error"]["code"]) == (409, "illegal_state_transition")
    assert get_job(api, alice, alice_job)["result"] == {"frames": 240}

    # Bob's worker reports a final error: failed, refunded.
    failed = post_callback(
        bobs["callback_url"],
        bobs["callback_token"],
        {"error": {"code": "bad", "message": "no reel"}, "retryable": False},
    )
    assert failed.json()["status"] == "failed"
    bob_done = get_job(api, bob, bob_job)
    assert (bob_done["failure_reason"], bob_done["error"], bob_done["cost"]) == (
        "worker_error",
        "bad: no reel",
        0,
    )
    eventually(lambda: balance("bob") == 10, message="bob refunded")
    assert balance("alice") == 6
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def test_a_callback_that_never_comes_fails_and_refunds_at_its_deadline(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    alice, bob = tenants(10)
    receiver.default = accepted()
    secret = put_job_type(
        api,
        "silent",
        receiver.url(),
        pricing={"credits": 3},
        completion="callback",
        timeout_s=5,
        max_attempts=1,
    )["worker_secret"]
    put_job_type(
        api, "patient", receiver.url(), pricing={"credits": 2}, completion="callback", timeout_s=86400
    )
    job_id = post_job(api, alice, {"type": "silent", "input": {}}).json()["job_id"]
    other = post_job(api, bob, {"type": "patient", "input": {}}).json()["job_id"]
    dispatch = eventually(lambda: _dispatched(receiver, secret, job_id), message="dispatched")
    eventually(lambda: _running(api, bob, other), message="bob's job running")
    eventually(lambda: _running(api, alice, job_id), message="running")
    stored = stored_jobs("alice")[job_id]
    assert stored.attempt_deadline is not None and stored.sweep_at == stored.attempt_deadline
    assert sweep_jobs(now=stored.attempt_deadline - timedelta(seconds=1)).callbacks_overdue == []
    report = sweep_jobs(now=stored.attempt_deadline + timedelta(seconds=1))
    assert report.callbacks_overdue == [job_id]
    job = get_job(api, alice, job_id)
    assert (job["status"], job["failure_reason"], job["cost"]) == ("failed", "attempts_exhausted", 0)
    assert "callback did not come" in job["error"]
    eventually(lambda: balance("alice") == 10, message="refund")
    late = post_callback(dispatch["callback_url"], dispatch["callback_token"], {"result": {}})
    assert late.status_code == 409
    # Bob's day-long callback job is untouched.
    assert get_job(api, bob, other)["status"] == "running" and balance("bob") == 8
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def test_response_types_keep_the_short_timeout(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    admin = api.user_token("root", admin=True)
    body = {"worker_url": receiver.url(), "pricing": {"credits": 1}, "timeout_s": 7200}
    refused = api.request("PUT", "/v1/admin/job_types/long", token=admin, json=body)
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "parameter_invalid"), refused.text
    too_long = {**body, "completion": "callback", "timeout_s": 86401}
    assert api.request("PUT", "/v1/admin/job_types/long", token=admin, json=too_long).status_code == 400
    ok = api.request("PUT", "/v1/admin/job_types/long", token=admin, json={**body, "completion": "callback"})
    assert ok.status_code == 201 and ok.json()["completion"] == "callback"


def test_a_delayed_job_waits_for_run_at_and_can_be_canceled_meanwhile(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    alice, bob = tenants(10)
    receiver.default = answer({"ran": True})
    put_job_type(api, "later", receiver.url(), pricing={"credits": 2})
    run_at = int(time.time()) + 15
    created = post_job(api, alice, {"type": "later", "input": {}, "run_at": run_at})
    assert created.status_code == 201, created.text
    job_id = created.json()["job_id"]
    # Not dispatched before run_at: neither by a dispatcher nor by the sweep.
    assert dispatch_job(job_id) is None
    assert job_id not in sweep_jobs().dispatched
    assert (created.json()["status"], created.json()["run_at"]) == ("queued", run_at)
    canceled_id = post_job(api, alice, {"type": "later", "input": {"n": 2}, "run_at": run_at}).json()[
        "job_id"
    ]
    assert balance("alice") == 6  # both reservations taken at creation
    canceled = api.request("POST", f"/v1/jobs/{canceled_id}/cancel", token=alice)
    assert (canceled.status_code, canceled.json()["status"], canceled.json()["cost"]) == (200, "canceled", 0)
    assert balance("alice") == 8
    bob_job = post_job(api, bob, {"type": "later", "input": {}}).json()["job_id"]
    eventually(lambda: finished(api, bob, bob_job), message="bob's job runs at once")
    if time.time() < run_at - 1:
        assert get_job(api, alice, job_id)["status"] == "queued"

    done = eventually(
        lambda: finished(api, alice, job_id, sweep=True), timeout=60, message="ran after run_at"
    )
    assert done["status"] == "completed" and done["run_at"] == run_at
    dispatches = [json.loads(r.body) for r in receiver.received()]
    assert [d["job_id"] for d in dispatches if d["job_id"] in (job_id, canceled_id)] == [job_id]
    assert next(d for d in dispatches if d["job_id"] == job_id)["attempt"] == 1
    assert time.time() >= run_at

    for bad in (int(time.time()) + 8 * 86400, "soon", -1, 10**20):
        refused = post_job(api, alice, {"type": "later", "input": {}, "run_at": bad})
        assert (refused.status_code, refused.json()["error"]["param"]) == (400, "run_at"), refused.text
    assert (balance("alice"), balance("bob")) == (8, 8)
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def test_test_mode_jobs_get_the_sample_result_or_the_worker(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    alice, _bob = tenants(10)
    _, alice_test = create_api_key("alice", "test")
    _, bob_test = create_api_key("bob", "test")
    receiver.default = answer({"real": True})
    secret = put_job_type(
        api, "sampled", receiver.url("/sampled"), pricing={"credits": 2}, sample_result={"sample": [1, 2]}
    )["worker_secret"]
    put_job_type(api, "plain", receiver.url("/plain"), pricing={"credits": 1})  # the default sample: {}
    worker_secret = put_job_type(
        api, "tested", receiver.url("/tested"), pricing={"credits": 1}, test_jobs="worker"
    )["worker_secret"]

    sample = post_job(api, alice_test, {"type": "sampled", "input": {"x": 1}}).json()["job_id"]
    plain = post_job(api, bob_test, {"type": "plain", "input": {}}).json()["job_id"]
    tested = post_job(api, alice_test, {"type": "tested", "input": {"x": 2}}).json()["job_id"]
    live = post_job(api, alice, {"type": "sampled", "input": {"x": 3}}).json()["job_id"]
    echo = post_job(api, bob_test, {"type": "echo", "input": {"y": 1}}).json()["job_id"]

    done = eventually(lambda: finished(api, alice_test, sample), message="sample job")
    assert (done["status"], done["result"], done["cost"]) == ("completed", {"sample": [1, 2]}, 0)
    assert eventually(lambda: finished(api, bob_test, plain), message="plain")["result"] == {}
    assert eventually(lambda: finished(api, alice, live), message="live job")["result"] == {"real": True}
    assert eventually(lambda: finished(api, alice_test, tested), message="tested")["result"] == {"real": True}
    assert eventually(lambda: finished(api, bob_test, echo), message="echo")["result"] == {"y": 1}
    # The worker saw the live job and the test job of the "worker" type only.
    paths = sorted(r.path for r in receiver.received())
    assert paths == ["/sampled", "/tested"], paths
    by_path = {r.path: r for r in receiver.received()}
    assert dispatch_of(secret, by_path["/sampled"])["livemode"] is True
    assert dispatch_of(worker_secret, by_path["/tested"])["livemode"] is False
    admin = api.user_token("root", admin=True)
    listed = {t["type"]: t for t in api.request("GET", "/v1/admin/job_types", token=admin).json()["data"]}
    assert (listed["sampled"]["test_jobs"], listed["sampled"]["sample_result"]) == (
        "sample",
        {"sample": [1, 2]},
    )
    assert listed["tested"]["test_jobs"] == "worker"
    assert (balance("alice"), balance("bob")) == (8, 10)
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def _cancel_running(
    api: ApiClient, receiver: WebhookReceiver, secret: str, key: str, job_type: str
) -> tuple[str, dict[str, Any]]:
    """A callback job of `job_type` made, dispatched (the worker answered 202) and canceled while running."""
    job_id = post_job(api, key, {"type": job_type, "input": {}}).json()["job_id"]
    dispatch = eventually(lambda: _dispatched(receiver, secret, job_id), message="dispatched")
    eventually(lambda: _running(api, key, job_id), message="running")
    canceled = api.request("POST", f"/v1/jobs/{job_id}/cancel", token=key)
    assert (canceled.status_code, canceled.json()["status"]) == (200, "canceled"), canceled.text
    return job_id, dispatch


def _notified(api: ApiClient, receiver: WebhookReceiver, secret: str, job_id: str) -> list[dict[str, Any]]:
    """Runs sweep passes until the worker got the job's cancel notice and the job recorded it."""

    def told() -> list[dict[str, Any]] | None:
        sweep_jobs()
        notices = _notices(receiver, secret, job_id)
        return notices if notices and stored_jobs()[job_id].cancel_notice_attempt is None else None

    return eventually(told, message="cancel notice")


def test_cancel_reaches_the_worker_and_the_refund_policy_gives_everything_back(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    alice, bob = tenants(10)
    receiver.default = accepted()
    secret = put_job_type(
        api, "refunded", receiver.url(), pricing={"credits": 4}, completion="callback", timeout_s=600
    )["worker_secret"]
    bob_job = post_job(api, bob, {"type": "refunded", "input": {}}).json()["job_id"]
    job_id, dispatch = _cancel_running(api, receiver, secret, alice, "refunded")
    assert get_job(api, alice, job_id)["cost"] == 0
    [notice] = _notified(api, receiver, secret, job_id)
    assert notice == {
        "notice": "cancel",
        "job_id": job_id,
        "type": "refunded",
        "attempt": 1,
        "user_id": "alice",
        "livemode": True,
    }
    assert sweep_jobs().cancel_notices == []  # told once
    assert (
        post_callback(dispatch["callback_url"], dispatch["callback_token"], {"result": {}}).status_code == 409
    )
    eventually(lambda: balance("alice") == 10, message="refund")
    assert _notices(receiver, secret, bob_job) == [] and get_job(api, bob, bob_job)["status"] == "running"
    assert balance("bob") == 6
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def test_charge_started_keeps_a_fixed_price_and_settles_a_metered_job_on_reported_units(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    alice, bob = tenants(200)
    receiver.default = accepted()
    fixed_secret = put_job_type(
        api,
        "kept",
        receiver.url("/kept"),
        pricing={"credits": 5},
        completion="callback",
        cancel_policy="charge_started",
    )["worker_secret"]
    metered_secret = put_job_type(
        api,
        "metered",
        receiver.url("/metered"),
        pricing={"credits_per_unit": 2, "max_credits": 100, "unit": "second"},
        completion="callback",
        cancel_policy="charge_started",
    )["worker_secret"]

    # Fixed price, running: kept. A delayed one not started yet: refunded.
    kept, _ = _cancel_running(api, receiver, fixed_secret, alice, "kept")
    assert get_job(api, alice, kept)["cost"] == 5
    _notified(api, receiver, fixed_secret, kept)
    waiting = post_job(api, alice, {"type": "kept", "input": {}, "run_at": int(time.time()) + 3600}).json()
    assert api.request("POST", f"/v1/jobs/{waiting['job_id']}/cancel", token=alice).json()["cost"] == 0
    assert balance("alice") == 195

    # Metered, running: the worker answers the notice with its units; 7.3 s x 2 = 15 of 100 reserved.
    job_id = post_job(api, alice, {"type": "metered", "input": {}}).json()["job_id"]
    eventually(lambda: _dispatched(receiver, metered_secret, job_id), message="metered dispatched")
    eventually(lambda: _running(api, alice, job_id), message="metered running")
    receiver.respond(answer({}, units=7.3))  # the next request is the notice
    assert api.request("POST", f"/v1/jobs/{job_id}/cancel", token=alice).json()["status"] == "canceled"
    assert balance("alice") == 95
    _notified(api, receiver, metered_secret, job_id)
    job = get_job(api, alice, job_id)
    assert (job["status"], job["cost"], job["usage"]) == ("canceled", 15, {"units": 7.3, "unit": "second"})
    eventually(lambda: balance("alice") == 180, message="release")
    releases = [e for e in ledger_entries("alice") if e.type is LedgerEntryType.JOB_RELEASE]
    assert [(e.amount, e.reference) for e in releases] == [(85, job_id)]

    # Bob's metered job, canceled with a worker that reports nothing: settled on 0 units.
    bob_job = post_job(api, bob, {"type": "metered", "input": {}}).json()["job_id"]
    # Its dispatch has reached the worker (not only started), so the next request is the notice.
    eventually(lambda: _dispatched(receiver, metered_secret, bob_job), message="bob's job dispatched")
    eventually(lambda: _running(api, bob, bob_job), message="bob's job running")
    receiver.respond(Scripted(500, body=b"down"))
    api.request("POST", f"/v1/jobs/{bob_job}/cancel", token=bob)
    _notified(api, receiver, metered_secret, bob_job)
    assert get_job(api, bob, bob_job)["cost"] == 0
    eventually(lambda: balance("bob") == 200, message="bob's release")
    assert balance("alice") == 180
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)
