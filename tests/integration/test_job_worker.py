"""The job lifecycle, the echo worker end to end (POST -> trigger -> Pub/Sub -> run_job -> echo_worker),
refunds once."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from shared.core.clients import firestore_client, project_scope, publish
from shared.core.errors import ApiError
from shared.core.function_registry import JOBS_TOPIC
from shared.core.pubsub_events import MalformedMessage, PubSubMessage
from shared.jobs.lifecycle import (
    TransitionOutcome,
    complete_job,
    fail_job,
    start_attempt,
    start_job,
)
from shared.jobs.service import job_ref
from shared.jobs.sweep import sweep_jobs
from shared.jobs.types import forget_cached_types
from shared.models import JobStatus, LedgerEntryType, utc_now
from shared.workers.dispatch import handle_run_job
from tests.conftest import Project
from tests.support.job_workers import put_priced_types, reprice
from tests.support.jobs import (
    balance,
    due_now,
    held,
    job_status,
    ledger_entries,
    marker_exists,
    post_job,
    stored_jobs,
)
from tests.support.platform import ApiClient, create_account, create_api_key
from tests.support.waiting import eventually


def job_message(job_id: str, message_id: str = "m1") -> PubSubMessage:
    return PubSubMessage(message_id, json.dumps({"job_id": job_id}).encode(), {}, JOBS_TOPIC)


def refunds(user_id: str) -> list[int]:
    return [e.amount for e in ledger_entries(user_id) if e.type is LedgerEntryType.REFUND]


def test_echo_worker_completes_a_job_end_to_end(project: Project, api: ApiClient) -> None:
    create_account("alice", credits=3)
    _, key = create_api_key("alice", "live")
    payload = {"text": "hi", "nested": {"n": [1, 2, {"k": None}]}, "ok": True, "f": 1.5}
    job_id = post_job(api, key, {"type": "echo", "input": payload}).json()["job_id"]
    job = eventually(lambda: job_status(api, key, job_id), message="echo job finished")
    assert job["status"] == "completed"
    assert job["result"] == payload
    assert job["error"] is None
    assert balance("alice") == 2
    assert refunds("alice") == []


def test_failing_echo_job_ends_failed_and_is_refunded_once(project: Project, api: ApiClient) -> None:
    reprice(api, "echo", 2)
    create_account("alice", credits=5)
    _, key = create_api_key("alice", "live")
    job_id = post_job(api, key, {"type": "echo", "input": {"fail": True}}).json()["job_id"]
    # The same job message, delivered twice more through Pub/Sub while the first is being handled.
    for _ in range(2):
        publish(JOBS_TOPIC, json.dumps({"job_id": job_id}).encode(), job_id=job_id)
    job = eventually(lambda: job_status(api, key, job_id), message="echo job finished")
    assert job["status"] == "failed"
    assert job["result"] is None
    assert "fail" in job["error"]
    eventually(lambda: balance("alice") == 5, message="refund applied")
    # A redelivered failure event, handled again in-process: nothing more is refunded.
    handle_run_job(job_message(job_id, "again-1"))
    handle_run_job(job_message(job_id, "again-2"))
    assert fail_job(job_id, "failed again").changed is False
    assert balance("alice") == 5
    assert refunds("alice") == [2]
    entries = sorted(ledger_entries("alice"), key=lambda e: e.created_at)
    assert [(e.type.value, e.amount, e.balance_after, e.reference) for e in entries] == [
        ("job_debit", -2, 3, job_id),
        ("refund", 2, 5, job_id),
    ]
    assert marker_exists(f"refund:job:{job_id}")
    assert stored_jobs("alice")[job_id].refunded is True


def test_concurrent_failure_events_refund_exactly_once(project: Project, api: ApiClient) -> None:
    put_priced_types(api, {"hold": 4})  # its job is held (run_at): the test drives the lifecycle itself
    create_account("alice", credits=4)
    _, key = create_api_key("alice", "live")
    job_id = post_job(api, key, held("hold")).json()["job_id"]
    assert balance("alice") == 0
    assert start_job(job_id).changed is True

    def deliver_failure(i: int) -> TransitionOutcome:
        with project_scope(project.id):  # threads do not inherit the test's project
            return fail_job(job_id, f"failure event {i}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(deliver_failure, range(8)))
    assert sum(o.changed for o in outcomes) == 1
    assert balance("alice") == 4
    assert refunds("alice") == [4]
    assert sum(e.amount for e in ledger_entries("alice")) == 0


def test_failed_test_jobs_refund_nothing(project: Project, api: ApiClient) -> None:
    create_account("alice", credits=1)
    _, key = create_api_key("alice", "test")
    job_id = post_job(api, key, {"type": "echo", "input": {"fail": True}}).json()["job_id"]
    job = eventually(lambda: job_status(api, key, job_id), message="echo job finished")
    assert (job["status"], job["livemode"], job["cost"]) == ("failed", False, 0)
    assert ledger_entries("alice") == []
    assert balance("alice") == 1


def test_lifecycle_refuses_illegal_transitions(project: Project, api: ApiClient) -> None:
    put_priced_types(api, {"hold": 0})
    create_account("alice", credits=0)
    _, key = create_api_key("alice", "live")
    job_id = post_job(api, key, held("hold", {"v": 1})).json()["job_id"]
    with pytest.raises(ApiError) as refused:
        complete_job(job_id, {"too": "early"})
    assert refused.value.code == "illegal_state_transition"
    with pytest.raises(ApiError):
        fail_job(job_id, "not started")
    assert start_job(job_id).changed is True
    assert start_job(job_id).changed is False
    done = complete_job(job_id, {"v": 1})
    assert done.changed and done.job.status is JobStatus.COMPLETED
    for illegal in (lambda: start_job(job_id), lambda: fail_job(job_id, "late")):
        with pytest.raises(ApiError):
            illegal()
    job = stored_jobs("alice")[job_id]
    assert (job.status, job.result, job.error) == (JobStatus.COMPLETED, {"v": 1}, None)
    assert job.started_at is not None and job.finished_at is not None


def test_worker_ignores_messages_it_cannot_use(project: Project, api: ApiClient) -> None:
    put_priced_types(api, {"hold": 0})
    create_account("alice", credits=0)
    _, key = create_api_key("alice", "live")
    with pytest.raises(MalformedMessage):
        handle_run_job(PubSubMessage("m", b"not json", {}, JOBS_TOPIC))
    with pytest.raises(MalformedMessage):
        handle_run_job(PubSubMessage("m", b'{"job_id": "../x"}', {}, JOBS_TOPIC))
    handle_run_job(job_message("job_" + "0" * 24))  # a job that does not exist: logged, acknowledged
    hold = post_job(api, key, held("hold")).json()["job_id"]
    # Its type's document gone (removed by hand, not deleted through the API): no worker to run it, so
    # the job is left queued, due or not, for the sweep to end at its deadline.
    firestore_client().collection("job_types").document("hold").delete()
    due_now(hold)
    forget_cached_types()  # this process's cache: the dispatch below reads the types afresh
    handle_run_job(job_message(hold))
    assert stored_jobs("alice")[hold].status is JobStatus.QUEUED
    assert stored_jobs("alice")[hold].attempts == 0


def test_sweep_republishes_jobs_left_queued(project: Project, api: ApiClient) -> None:
    # google-cloud-pubsub ships no py.typed: mypy does not see pubsub_v1 in the google.cloud namespace.
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    from shared.core.clients import topic_path

    reprice(api, "echo", 0)
    put_priced_types(api, {"hold": 0})
    create_account("alice", credits=0)
    _, key = create_api_key("alice", "live")
    hold = post_job(api, key, held("hold")).json()["job_id"]  # held a day: not due
    done = post_job(api, key, {"type": "echo", "input": {}}).json()["job_id"]
    eventually(lambda: job_status(api, key, done), message="echo job finished")
    lost = post_job(api, key, {"type": "echo", "input": {}}).json()["job_id"]
    eventually(lambda: job_status(api, key, lost), message="echo job finished")
    # As if its publish had been lost: queued again, due since long ago.
    job_ref(lost).update(
        {"status": "queued", "sweep_at": utc_now() - timedelta(minutes=1), "next_attempt_at": None}
    )

    subscriber = pubsub_v1.SubscriberClient()
    subscription = subscriber.subscription_path(project.id, "sweep-check")
    subscriber.create_subscription(request={"name": subscription, "topic": topic_path(JOBS_TOPIC)})
    assert sweep_jobs().dispatched == [lost]
    received = subscriber.pull(request={"subscription": subscription, "max_messages": 10}, timeout=30)
    assert [json.loads(m.message.data)["job_id"] for m in received.received_messages] == [lost]
    assert stored_jobs("alice")[hold].status is JobStatus.QUEUED


def test_one_dispatcher_starts_an_attempt(project: Project, api: ApiClient) -> None:
    put_priced_types(api, {"hold": 0})
    create_account("alice", credits=0)
    _, key = create_api_key("alice", "live")
    job_id = post_job(api, key, held("hold")).json()["job_id"]
    due_now(job_id)  # due: each dispatcher below may start it

    def claim(_: int) -> bool:
        with project_scope(project.id):
            return bool(start_attempt(job_id).changed)

    with ThreadPoolExecutor(max_workers=8) as pool:
        claims = list(pool.map(claim, range(8)))
    assert sum(claims) == 1
    job = stored_jobs("alice")[job_id]
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
