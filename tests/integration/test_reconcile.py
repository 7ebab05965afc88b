"""The reconciliation (function `reconcile`): finished jobs whose trigger never made their webhook event get
it, once; counter drift left by lost triggers is repaired with one write, and a counter still moving is
left alone. Two tenants throughout."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace

import pytest

from shared.core.clients import firestore_client, project_scope
from shared.core.index_shards import INDEX_SHARDS, index_shard
from shared.counters import reconcile as counters_reconcile
from shared.counters.reconcile import check_counters
from shared.counters.service import read_totals
from shared.counters.shards import Counter
from shared.models import Job, JobStatus, WebhookEventType, utc_now
from shared.webhooks.events import job_event_id
from shared.webhooks.reconcile import create_missing_job_events, state_ref
from tests.conftest import Project
from tests.support.firestore_delivery import detach_trigger
from tests.support.platform import create_account
from tests.support.waiting import eventually
from tests.support.webhooks import stored_event


def finished_job(user_id: str, status: JobStatus, finished_ago: timedelta) -> str:
    """A job as the worker leaves it, written with its update trigger detached: no event was made."""
    job_id = "job_" + secrets.token_hex(8)
    now = utc_now()
    job = Job(
        user_id=user_id,
        key_id="key_1",
        type="echo",
        input={"n": 1},
        livemode=True,
        cost=1,
        status=status,
        index_shard=index_shard(job_id),
        created_at=now - finished_ago - timedelta(seconds=1),
        finished_at=now - finished_ago,
    )
    firestore_client().collection(Job.collection).document(job_id).set(job.to_firestore())
    return job_id


def test_finished_jobs_without_their_event_get_it_once(project: Project) -> None:
    detach_trigger(project.stack.firestore_host, project.id, "on_job_updated")
    done = finished_job("alice", JobStatus.COMPLETED, timedelta(minutes=5))
    failed = finished_job("bob", JobStatus.FAILED, timedelta(minutes=5))
    just_now = finished_job("alice", JobStatus.COMPLETED, timedelta(seconds=0))

    checked, created = create_missing_job_events(grace=timedelta(minutes=2))
    assert checked == 2  # the job that finished just now is left to its trigger
    assert sorted(created) == sorted(
        [job_event_id(done, JobStatus.COMPLETED), job_event_id(failed, JobStatus.FAILED)]
    )
    alice_event = stored_event(job_event_id(done, JobStatus.COMPLETED))
    bob_event = stored_event(job_event_id(failed, JobStatus.FAILED))
    assert (alice_event.user_id, alice_event.type) == ("alice", WebhookEventType.JOB_COMPLETED)
    assert (bob_event.user_id, bob_event.type) == ("bob", WebhookEventType.JOB_FAILED)
    assert alice_event.payload["data"]["object"]["job_id"] == done

    # The next pass starts where this one stopped: the late one is made, nothing twice.
    later = utc_now() + timedelta(minutes=3)
    assert create_missing_job_events(now=later, grace=timedelta(minutes=2))[1] == [
        job_event_id(just_now, JobStatus.COMPLETED)
    ]
    assert create_missing_job_events(now=later, grace=timedelta(minutes=2))[1] == []


def test_counter_drift_is_repaired_with_one_write(project: Project) -> None:
    create_account("alice")
    create_account("bob")
    eventually(lambda: read_totals().total_users == 2, message="the users were counted")
    # Jobs whose creation trigger was lost (detached here): the shards never heard of them.
    detach_trigger(project.stack.firestore_host, project.id, "on_job_created")
    for user_id in ("alice", "alice", "bob"):
        finished_job(user_id, JobStatus.COMPLETED, timedelta(minutes=1))
    shards_before = len(list(firestore_client().collection("counter_shards").stream()))

    check = check_counters(settle_s=0.2)
    assert check.repaired == {Counter.TOTAL_JOBS: 3} and check.moving == []
    totals = read_totals()
    assert (totals.total_users, totals.total_jobs) == (2, 3)
    assert len(list(firestore_client().collection("counter_shards").stream())) <= shards_before + 1
    assert check_counters(settle_s=0.2).repaired == {}  # exact now: nothing more


def test_a_counter_still_moving_is_not_repaired(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    detach_trigger(project.stack.firestore_host, project.id, "on_job_created")
    finished_job("alice", JobStatus.COMPLETED, timedelta(minutes=1))

    def created_while_settling(_seconds: float) -> None:
        finished_job("bob", JobStatus.COMPLETED, timedelta(minutes=1))

    # A job created between the check's two readings: its trigger may be on its way, so no repair yet.
    monkeypatch.setattr(counters_reconcile, "time", SimpleNamespace(sleep=created_while_settling))
    check = check_counters(settle_s=1.0)
    assert check.moving == [Counter.TOTAL_JOBS] and check.repaired == {}
    assert read_totals().total_jobs == 0


def test_a_job_that_raises_is_skipped_and_each_shard_keeps_its_progress(project: Project) -> None:
    detach_trigger(project.stack.firestore_host, project.id, "on_job_updated")
    good = [finished_job(user, JobStatus.COMPLETED, timedelta(minutes=5)) for user in ("alice", "bob")]
    broken = finished_job("alice", JobStatus.COMPLETED, timedelta(minutes=5))
    firestore_client().collection(Job.collection).document(broken).update({"cost": "not a number"})

    checked, created = create_missing_job_events(grace=timedelta(minutes=2))
    assert checked == 3
    assert sorted(created) == sorted(job_event_id(job_id, JobStatus.COMPLETED) for job_id in good)
    state = state_ref().get().to_dict() or {}
    assert len(state["job_events_checked_until"]) == INDEX_SHARDS  # every shard saved its own progress


def test_overlapping_counter_checks_repair_once(project: Project) -> None:
    detach_trigger(project.stack.firestore_host, project.id, "on_job_created")
    for user_id in ("alice", "alice", "bob"):
        finished_job(user_id, JobStatus.COMPLETED, timedelta(minutes=1))

    def check() -> dict[Counter, int]:
        with project_scope(project.id):
            return check_counters(settle_s=0.5).repaired

    with ThreadPoolExecutor(max_workers=2) as pool:
        repairs = list(pool.map(lambda _: check(), range(2)))
    assert sorted(repairs, key=len) == [{}, {Counter.TOTAL_JOBS: 3}]
    assert read_totals().total_jobs == 3


def test_test_jobs_deleted_by_their_ttl_never_lower_total_jobs(project: Project) -> None:
    jobs = [finished_job(user, JobStatus.COMPLETED, timedelta(minutes=1)) for user in ("alice", "bob")]
    eventually(lambda: read_totals().total_jobs == 2, message="the jobs were counted")
    firestore_client().collection(Job.collection).document(jobs[0]).delete()  # as the TTL policy does

    check = check_counters(settle_s=0.2)
    assert check.documents[Counter.TOTAL_JOBS] == 1 and check.repaired == {}
    assert read_totals().total_jobs == 2
