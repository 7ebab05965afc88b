"""The whole path: job document status change -> trigger -> Pub/Sub -> deliver_webhook -> receiver."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

from standardwebhooks.webhooks import Webhook

from shared.core.clients import firestore_client
from shared.core.firestore_events import DocumentChange
from shared.jobs.resource import job_resource
from shared.models import Job, JobStatus, WebhookEvent, WebhookEventStatus, utc_now
from shared.webhooks.events import handle_job_updated, job_event_id, sweep_due_events
from tests.conftest import Project
from tests.support.firestore_delivery import wait_for_trigger_calls
from tests.support.waiting import eventually
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.webhooks import setup_endpoint, stored_deliveries, stored_event

USER = "user_jobs"


def write_job(livemode: bool = True, **fields: object) -> tuple[str, Job]:
    job_id = "job_" + secrets.token_hex(8)
    job = Job(
        user_id=USER,
        key_id="key_1",
        type="echo",
        input={"n": 1},
        livemode=livemode,
        cost=1,
        created_at=utc_now() - timedelta(seconds=3),
        **fields,
    )
    firestore_client().collection(Job.collection).document(job_id).set(job.to_firestore())
    return job_id, job


def finish(job_id: str, status: JobStatus, **fields: object) -> None:
    firestore_client().collection(Job.collection).document(job_id).update(
        {"status": status.value, "finished_at": utc_now(), "updated_at": utc_now(), **fields}
    )


def events_of(job_id: str) -> list[WebhookEvent]:
    found = []
    for status in (JobStatus.COMPLETED, JobStatus.FAILED):
        snapshot = (
            firestore_client()
            .collection(WebhookEvent.collection)
            .document(job_event_id(job_id, status))
            .get()
        )
        if snapshot.exists:
            found.append(WebhookEvent.from_firestore(snapshot.to_dict()))
    return found


def test_completed_job_is_delivered_signed_with_the_job_resource(
    project: Project, receiver: WebhookReceiver
) -> None:
    secret = setup_endpoint(USER, receiver.url())
    job_id, _ = write_job()
    firestore_client().collection(Job.collection).document(job_id).update({"status": "running"})
    finish(job_id, JobStatus.COMPLETED, result={"n": 1})
    [request] = eventually(receiver.received, timeout=30, message="job.completed received")
    payload = Webhook(secret).verify(request.body, request.headers)
    stored = Job.from_firestore(
        firestore_client().collection(Job.collection).document(job_id).get().to_dict()
    )
    assert payload["id"] == job_event_id(job_id, JobStatus.COMPLETED)
    assert payload["type"] == "job.completed" and payload["livemode"] is True
    assert payload["data"] == {"object": job_resource(job_id, stored)}
    assert payload["data"]["object"]["status"] == "completed" and payload["data"]["object"]["result"] == {
        "n": 1
    }
    eventually(lambda: stored_event(payload["id"]).status is WebhookEventStatus.DELIVERED)


def test_failed_test_mode_job_gives_job_failed_with_livemode_false(
    project: Project, receiver: WebhookReceiver
) -> None:
    setup_endpoint(USER, receiver.url())
    job_id, _ = write_job(livemode=False)
    finish(job_id, JobStatus.FAILED, error="input.fail was true")
    [request] = eventually(receiver.received, timeout=30, message="job.failed received")
    payload = json.loads(request.body)
    assert payload["type"] == "job.failed" and payload["livemode"] is False
    assert payload["data"]["object"]["error"] == "input.fail was true"


def test_duplicate_triggers_give_one_event_and_one_delivery(
    project: Project, receiver: WebhookReceiver
) -> None:
    setup_endpoint(USER, receiver.url())
    job_id, _ = write_job()
    finish(job_id, JobStatus.COMPLETED, result={"n": 1})
    eventually(lambda: len(receiver.received()) == 1, message="first delivery")
    # The trigger firing again for the same transition (production delivers at least once) ...
    ref = firestore_client().collection(Job.collection).document(job_id)
    value = ref.get().to_dict()
    assert value is not None
    change = DocumentChange(
        "dup", "updated", f"jobs/{job_id}", value, {**value, "status": "running"}, utc_now()
    )
    assert handle_job_updated(change) == job_event_id(job_id, JobStatus.COMPLETED)
    assert handle_job_updated(change) == job_event_id(job_id, JobStatus.COMPLETED)
    # ... and later writes that keep the status (a no-op set also fires `updated`) change nothing.
    ref.update({"updated_at": utc_now()})
    ref.set(value)
    # The emulator hands trigger calls over in order: once a later probe document's trigger has run, the
    # job's trigger calls above have reached the host; then wait for the host to have run them all.
    firestore_client().collection("probes").document("after-duplicates").set({"n": 1})
    eventually(lambda: list(firestore_client().collection("probe_events").limit(1).stream()))
    wait_for_trigger_calls(project.stack.host_url)
    sweep_due_events()
    assert len(events_of(job_id)) == 1
    eventually(
        lambda: stored_event(job_event_id(job_id, JobStatus.COMPLETED)).status is WebhookEventStatus.DELIVERED
    )
    assert len(stored_deliveries(job_event_id(job_id, JobStatus.COMPLETED))) == 1
    assert len(receiver.received()) == 1


def test_unsubscribed_event_is_discarded_and_nothing_is_sent(
    project: Project, receiver: WebhookReceiver
) -> None:
    setup_endpoint(USER, receiver.url(), events=("job.failed",))
    job_id, _ = write_job()
    finish(job_id, JobStatus.COMPLETED, result={})
    event_id = job_event_id(job_id, JobStatus.COMPLETED)
    eventually(lambda: events_of(job_id) and stored_event(event_id).status is WebhookEventStatus.DISCARDED)
    assert receiver.received() == []


def test_the_trigger_trusts_the_stored_job_not_the_event_payload(project: Project) -> None:
    """Finding 5: who owns a job (and its mode) is read from the stored document. A payload naming another
    user, or claiming a finish the stored job never had, sends nothing to anyone else."""
    job_id, _ = write_job()  # queued, owned by USER; its own trigger emits nothing (no transition)
    ref = firestore_client().collection(Job.collection).document(job_id)
    stored = ref.get().to_dict()
    assert stored is not None
    forged = {**stored, "status": "completed", "user_id": "intruder", "livemode": False}
    change = DocumentChange("forged-1", "updated", f"jobs/{job_id}", forged, stored, utc_now())
    assert handle_job_updated(change) is None  # the stored job is not finished
    assert events_of(job_id) == []
    finish(job_id, JobStatus.COMPLETED, result={"n": 1})
    finished = ref.get().to_dict()
    assert finished is not None
    change = DocumentChange(
        "forged-2", "updated", f"jobs/{job_id}", {**finished, "user_id": "intruder"}, stored, utc_now()
    )
    assert handle_job_updated(change) == job_event_id(job_id, JobStatus.COMPLETED)
    [event] = eventually(lambda: events_of(job_id))
    assert event.user_id == USER and event.livemode is True
    other_path = DocumentChange("forged-3", "updated", "users/intruder", finished, stored, utc_now())
    assert handle_job_updated(other_path) is None
