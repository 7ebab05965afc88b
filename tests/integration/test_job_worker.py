"""The job lifecycle, the echo worker end to end (POST -> trigger -> Pub/Sub -> run_job), refunds once."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from shared.core.clients import project_scope, publish
from shared.core.errors import ApiError
from shared.core.function_registry import JOBS_TOPIC
from shared.core.pubsub_events import MalformedMessage, PubSubMessage
from shared.jobs.echo_worker import handle_run_job
from shared.jobs.lifecycle import (
    TransitionOutcome,
    claim_stale_run,
    complete_job,
    fail_job,
    start_job,
)
from shared.jobs.service import job_ref
from shared.jobs.sweep import republish_stale_jobs
from shared.models import JobStatus, LedgerEntryType, utc_now
from tests.conftest import Project
from tests.support.jobs import (
    balance,
    job_status,
    ledger_entries,
    marker_exists,
    post_job,
    set_job_costs,
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
    set_job_costs({"echo": 2})
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
    set_job_costs({"echo": 1, "hold": 4})  # "hold" has no worker: the test drives the lifecycle itself
    create_account("alice", credits=4)
    _, key = create_api_key("alice", "live")
    job_id = post_job(api, key, {"type": "hold", "input": {}}).json()["job_id"]
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
    set_job_costs({"hold": 0})
    create_account("alice", credits=0)
    _, key = create_api_key("alice", "live")
    job_id = post_job(api, key, {"type": "hold", "input": {"v": 1}}).json()["job_id"]
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
    set_job_costs({"echo": 1, "hold": 0})
    create_account("alice", credits=0)
    _, key = create_api_key("alice", "live")
    with pytest.raises(MalformedMessage):
        handle_run_job(PubSubMessage("m", b"not json", {}, JOBS_TOPIC))
    with pytest.raises(MalformedMessage):
        handle_run_job(PubSubMessage("m", b'{"job_id": "../x"}', {}, JOBS_TOPIC))
    handle_run_job(job_message("job_" + "0" * 24))  # a job that does not exist: logged, acknowledged
    hold = post_job(api, key, {"type": "hold", "input": {}}).json()["job_id"]
    handle_run_job(job_message(hold))  # not an echo job: left for its own worker
    assert stored_jobs("alice")[hold].status is JobStatus.QUEUED


def test_sweep_republishes_jobs_left_queued(project: Project, api: ApiClient) -> None:
    from datetime import timedelta

    # google-cloud-pubsub ships no py.typed: mypy does not see pubsub_v1 in the google.cloud namespace.
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    from shared.core.clients import topic_path
    from shared.jobs.service import job_ref
    from shared.jobs.sweep import republish_stale_jobs
    from shared.models import utc_now

    set_job_costs({"echo": 0, "hold": 0})
    create_account("alice", credits=0)
    _, key = create_api_key("alice", "live")
    stale, _fresh, ancient = (  # the fresh one is too young to republish
        post_job(api, key, {"type": "hold", "input": {}}).json()["job_id"] for _ in range(3)
    )
    done = post_job(api, key, {"type": "echo", "input": {}}).json()["job_id"]
    eventually(lambda: job_status(api, key, done), message="echo job finished")
    job_ref(stale).update({"created_at": utc_now() - timedelta(minutes=10)})
    job_ref(ancient).update({"created_at": utc_now() - timedelta(days=3)})
    job_ref(done).update({"created_at": utc_now() - timedelta(minutes=10)})

    subscriber = pubsub_v1.SubscriberClient()
    subscription = subscriber.subscription_path(project.id, "sweep-check")
    subscriber.create_subscription(request={"name": subscription, "topic": topic_path(JOBS_TOPIC)})
    assert republish_stale_jobs() == [stale]
    received = subscriber.pull(request={"subscription": subscription, "max_messages": 10}, timeout=30)
    assert [json.loads(m.message.data)["job_id"] for m in received.received_messages] == [stale]


def _left_running(
    api: ApiClient, key: str, user_id: str, started_ago: list[tuple[dict[str, object], timedelta]]
) -> list[str]:
    """Echo jobs whose worker died (or whose message was lost) after moving them to running: made as `hold`
    jobs (no worker), then, once their creation messages are handled (a later echo job has finished),
    started and turned into echo jobs started `started_ago`."""
    job_ids = [post_job(api, key, {"type": "hold", "input": i}).json()["job_id"] for i, _ in started_ago]
    _, test_key = create_api_key(user_id, "test")
    later = post_job(api, test_key, {"type": "echo", "input": {}}).json()["job_id"]
    eventually(lambda: job_status(api, test_key, later), message="later echo job finished")
    for job_id, (_, ago) in zip(job_ids, started_ago, strict=True):
        assert start_job(job_id).changed is True
        job_ref(job_id).update({"type": "echo", "started_at": utc_now() - ago})
    return job_ids


def test_sweep_resumes_jobs_left_running_and_refunds_once(project: Project, api: ApiClient) -> None:
    set_job_costs({"echo": 2, "hold": 2})
    create_account("alice", credits=6)
    _, key = create_api_key("alice", "live")
    stale_fail, stale_ok, fresh = _left_running(
        api,
        key,
        "alice",
        [
            ({"fail": True}, timedelta(minutes=15)),
            ({"v": 1}, timedelta(minutes=12)),
            ({"v": 2}, timedelta(seconds=5)),  # fresh (locally a run is stale after 20 s)
        ],
    )
    assert balance("alice") == 0

    assert republish_stale_jobs() == [stale_fail, stale_ok]  # oldest first; the fresh one is left alone
    eventually(
        lambda: all(job_status(api, key, job_id) for job_id in (stale_fail, stale_ok)),
        message="stale running jobs finished",
    )
    jobs = stored_jobs("alice")
    assert (jobs[stale_ok].status, jobs[stale_ok].result) == (JobStatus.COMPLETED, {"v": 1})
    assert (jobs[stale_fail].status, jobs[stale_fail].refunded) == (JobStatus.FAILED, True)
    eventually(lambda: balance("alice") == 2, message="refund applied")
    # Delivered again (a duplicate, the next sweep): nothing changes, the refund stays single.
    handle_run_job(job_message(stale_fail, "again"))
    assert republish_stale_jobs() == []
    assert refunds("alice") == [2] and balance("alice") == 2
    # A fresh running job is another delivery's work: a duplicate message does not run it a second time.
    handle_run_job(job_message(fresh, "duplicate"))
    assert stored_jobs("alice")[fresh].status is JobStatus.RUNNING


def test_one_delivery_claims_a_stale_running_job(project: Project, api: ApiClient) -> None:
    set_job_costs({"hold": 0})
    create_account("alice", credits=0)
    _, key = create_api_key("alice", "live")
    stale, fresh = _left_running(api, key, "alice", [({}, timedelta(minutes=30)), ({}, timedelta(seconds=5))])

    def claim(job_id: str) -> bool:
        with project_scope(project.id):
            return claim_stale_run(job_id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        claims = list(pool.map(claim, [stale] * 8))
    assert sum(claims) == 1
    assert claim_stale_run(stale) is False  # claimed just now: fresh again
    assert claim_stale_run(fresh) is False
    assert stored_jobs("alice")[stale].status is JobStatus.RUNNING
