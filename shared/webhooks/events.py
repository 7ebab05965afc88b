"""Outgoing webhook events: created once per job transition, published to `webhook-events`, swept when due.

An event is a `webhook_events/{eventId}` document (its state and retry schedule) plus Pub/Sub messages
that carry its id (and its user id as a read hint). The document is the truth: messages may be lost,
duplicated or late, and the periodic sweep re-publishes every pending event whose `next_attempt_at` has
come (docs/webhooks.md).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from google.api_core.exceptions import AlreadyExists, FailedPrecondition, NotFound
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.core import logs
from shared.core.clients import firestore_client, publish, publisher, topic_path
from shared.core.firestore_events import DocumentChange
from shared.core.function_registry import WEBHOOK_EVENTS_TOPIC, WEBHOOK_SLOW_TOPIC, WEBHOOK_TEST_TOPIC
from shared.core.index_shards import INDEX_SHARDS, index_shard, shard_pages
from shared.core.retention import event_data_expiry
from shared.jobs.lifecycle import credits_given_back
from shared.jobs.resource import job_resource
from shared.keys.usage import record_job_refund
from shared.models import (
    Job,
    JobStatus,
    ModelDataError,
    WebhookEvent,
    WebhookEventStatus,
    WebhookEventType,
    utc_now,
)
from shared.webhooks.decisions import Lane, is_test_traffic

# The first attempt runs when the publish arrives; if that publish was lost (a crash between create and
# publish), the sweep picks the event up once this grace has passed.
PUBLISH_GRACE = timedelta(seconds=60)
SWEEP_BATCH = 500
# One pass stops starting new pages after this long (the next pass carries on).
SWEEP_TIME_BUDGET_S = 40.0
# The sweep function (scheduled every minute, timeout 90 s) polls the schedule for this long, a pass every
# SWEEP_POLL_S: the first retry is due 5 s after a failure, and the schedule lives in Firestore, so it is
# picked up within seconds without leaving a Pub/Sub message unacknowledged.
SWEEP_RUN_S = 55.0
SWEEP_POLL_S = 2.5
# A handed-out event whose attempt was not claimed by then (its publish was lost, or the lane is backed up
# past it) is handed out again.
HANDOUT_BACKSTOP = timedelta(minutes=2)
# What the sweep reads of an event (a projection): never its payload, which carries a job's input and result.
_SWEEP_FIELDS = ["user_id", "test_traffic", "next_attempt_at"]

_EVENT_FOR_STATUS = {
    JobStatus.COMPLETED: WebhookEventType.JOB_COMPLETED,
    JobStatus.FAILED: WebhookEventType.JOB_FAILED,
    JobStatus.CANCELED: WebhookEventType.JOB_CANCELED,
}


def job_event_id(job_id: str, status: JobStatus) -> str:
    """Stable per (job, terminal status): a trigger firing twice yields the same id, hence one event."""
    return "evt_" + hashlib.sha256(f"job:{job_id}:{status.value}".encode()).hexdigest()[:32]


def event_ref(event_id: str) -> Any:
    return firestore_client().collection(WebhookEvent.collection).document(event_id)


def event_payload(
    event_id: str, event_type: WebhookEventType, created: datetime, livemode: bool, obj: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": event_type.value,
        "created": int(created.timestamp()),
        "livemode": livemode,
        "data": {"object": obj},
    }


def payload_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed); the same on every attempt of an event.

    The top-level keys come in a fixed order and nested objects with their keys sorted: one canonical form,
    whatever order Firestore returns map keys in.
    """
    ordered = {
        k: _sorted_keys(payload[k]) for k in ("id", "type", "created", "livemode", "data") if k in payload
    }
    return json.dumps(ordered, separators=(",", ":"), sort_keys=False).encode()


def _sorted_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def event_message(event_id: str, user_id: str) -> bytes:
    """The Pub/Sub message: the event id, and its user id so that the delivery reads the event and the
    endpoint in one call (a hint only: the event document's user id is the truth)."""
    return json.dumps({"event_id": event_id, "user_id": user_id}, separators=(",", ":")).encode()


LANE_TOPICS = {Lane.FAST: WEBHOOK_EVENTS_TOPIC, Lane.SLOW: WEBHOOK_SLOW_TOPIC, Lane.TEST: WEBHOOK_TEST_TOPIC}


def publish_to_lane(event_id: str, user_id: str, lane: Lane) -> None:
    publish(LANE_TOPICS[lane], event_message(event_id, user_id), event_id=event_id)


def create_event(
    event_id: str,
    user_id: str,
    event_type: WebhookEventType,
    livemode: bool,
    obj: dict[str, Any],
    *,
    created: datetime | None = None,
    publish_now: bool = True,
) -> bool:
    """Create the event (create(): exactly once) and publish it; False when it already existed.

    An existing event that never had an attempt is published again: duplicates are harmless (attempts are
    claimed), and it shortens the wait when an earlier run crashed between create and publish.
    """
    now = utc_now()
    event = WebhookEvent(
        user_id=user_id,
        type=event_type,
        livemode=livemode,
        payload=event_payload(event_id, event_type, created or now, livemode, obj),
        next_attempt_at=now + PUBLISH_GRACE,
        index_shard=index_shard(event_id),
        test_traffic=is_test_traffic(livemode, event_type),
        created_at=now,
        updated_at=now,
        delete_at=event_data_expiry(livemode, event_type is WebhookEventType.WEBHOOK_TEST, now),
    )
    ref = event_ref(event_id)
    try:
        ref.create(event.to_firestore())
        created_now = True
    except AlreadyExists:
        created_now = False
        existing = ref.get()
        data = existing.to_dict() or {}
        if data.get("status") != WebhookEventStatus.PENDING.value or data.get("attempts", 0) != 0:
            return False
    if publish_now:
        # New live events go to the fast lane, whose delivery forwards those of slow or failing endpoints.
        publish_to_lane(event_id, user_id, Lane.TEST if event.test_traffic else Lane.FAST)
    return created_now


def handle_job_updated(change: DocumentChange) -> str | None:
    """Firestore trigger on jobs/{jobId}: a transition into completed, failed or canceled emits one event.

    The payload only says that a transition may have happened; who owns the job, its mode and its content
    come from the stored document, re-read here: an event body is never trusted to say whose webhook
    receives what (a forged or stale payload cannot send one customer's job to another)."""
    new_status, old_status = ((value or {}).get("status") for value in (change.value, change.old_value))
    if new_status == old_status or new_status not in _EVENT_FOR_STATUS:
        return None
    if not change.document.startswith(f"{Job.collection}/") or change.document.count("/") != 1:
        logs.error("job trigger for another document ignored", document=change.document)
        return None
    snapshot = firestore_client().collection(Job.collection).document(change.document_id).get()
    if not snapshot.exists:
        logs.info("job deleted before its trigger ran", document=change.document)
        return None
    try:
        job = Job.from_firestore(snapshot.to_dict())
    except ModelDataError as exc:
        # Retrying cannot fix a malformed document: log it and let the trigger succeed.
        logs.error("job document does not fit the Job model", document=change.document, error=str(exc))
        return None
    if job.status not in _EVENT_FOR_STATUS:
        logs.warning("job trigger without a finished job ignored", document=change.document)
        return None
    # Usage counts the credits the job gave back here, once per job: the functions that finish jobs
    # (run_job calls operators' URLs) hold no Redis secret.
    record_job_refund(change.document_id, job.user_id, job.key_id, credits_given_back(job), job.created_at)
    return create_job_event(change.document_id, job, fallback_created=change.update_time)


def create_job_event(job_id: str, job: Job, fallback_created: datetime | None = None) -> str:
    """The one event of a finished job (job.completed or job.failed), created once (its id is the job's
    and the status's); the trigger and the reconciliation (shared/webhooks/reconcile.py) both make it here."""
    event_id = job_event_id(job_id, job.status)
    create_event(
        event_id,
        job.user_id,
        _EVENT_FOR_STATUS[job.status],
        job.livemode,
        job_resource(job_id, job),
        created=job.finished_at or fallback_created,
    )
    return event_id


def create_test_event(user_id: str, webhook_id: str, livemode: bool) -> str:
    event_id = "evt_" + secrets.token_hex(16)
    create_event(
        event_id,
        user_id,
        WebhookEventType.WEBHOOK_TEST,
        livemode,
        {"webhook_id": webhook_id, "message": "This is a test event from the platform."},
    )
    return event_id


def due_query(shard: int, now: datetime) -> Any:
    # Index: index_shard ASC, status ASC, next_attempt_at ASC (no sequential-value hotspot).
    return (
        firestore_client()
        .collection(WebhookEvent.collection)
        .select(_SWEEP_FIELDS)
        .where(filter=FieldFilter("index_shard", "==", shard))
        .where(filter=FieldFilter("status", "==", WebhookEventStatus.PENDING.value))
        .where(filter=FieldFilter("next_attempt_at", "<=", now))
        .order_by("next_attempt_at")
    )


def _hand_out(page: list[Any], now: datetime) -> list[Any]:
    """Mark the page's events handed out (next_attempt_at moved on to the backstop), each on its update time
    as read: an event that changed meanwhile (claimed, or handed out by an overlapping sweep) is left out.
    Returns the events this sweep now owns the hand-out of. One batch for the page; if a precondition
    fails, each event on its own."""
    db = firestore_client()
    fields = {"next_attempt_at": now + HANDOUT_BACKSTOP, "handed_out": True}

    def option(snapshot: Any) -> Any:
        return db.write_option(last_update_time=snapshot.update_time)

    batch = db.batch()
    for snapshot in page:
        batch.update(snapshot.reference, fields, option=option(snapshot))
    try:
        batch.commit()
        return page
    except (FailedPrecondition, NotFound):
        pass
    owned = []
    for snapshot in page:
        try:
            snapshot.reference.update(fields, option=option(snapshot))
        except (FailedPrecondition, NotFound):
            continue
        owned.append(snapshot)
    return owned


def _publish_all(page: list[Any]) -> int:
    """Publish a page of handed-out events at once and wait for every acknowledgement; returns how many
    were published. An event that cannot be published (a malformed document, a failed publish) is logged
    and skipped: its backstop brings it back.

    Due events are retries, probes, backlog backstops and lost first publishes: live ones go to the slow
    lane, so a backlog of failing endpoints never sits in front of healthy endpoints' new events; test
    traffic goes to its own lane.
    """
    client = publisher()
    slow, test = topic_path(LANE_TOPICS[Lane.SLOW]), topic_path(LANE_TOPICS[Lane.TEST])
    futures = []
    for snapshot in page:
        try:
            data = snapshot.to_dict() or {}
            topic = test if data.get("test_traffic") else slow
            message = event_message(snapshot.id, str(data["user_id"]))
            futures.append((snapshot.id, client.publish(topic, message, event_id=snapshot.id)))
        except Exception as exc:
            logs.exception("webhook sweep skipped an event", exc, event_id=snapshot.id)
    published = 0
    for event_id, future in futures:
        try:
            future.result(timeout=30)
        except Exception as exc:
            logs.exception("webhook sweep could not publish an event", exc, event_id=event_id)
            continue
        published += 1
    return published


def sweep_due_events(now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Hand out pending events whose next attempt is due, page by page; returns how many were published.

    Runs every minute (topic webhook-retry-sweep), a pass every SWEEP_POLL_S. Each due event is handed out
    once per due time: marked (with a precondition, so overlapping sweeps hand it out once between them)
    and published; it comes back only at HANDOUT_BACKSTOP if no attempt was claimed by then (a lost
    publish). A published id is only a nudge: the delivery re-reads the event and claims the attempt.
    Every due page is handed out (within a time budget below the function's timeout): a backlog worked off
    one page per minute would fall ever further behind the retry schedule.
    """
    now = now or utc_now()
    stop_at = time.monotonic() + SWEEP_TIME_BUDGET_S
    published = 0
    # Shards in a rotating order: when the time budget runs out, the next minute starts elsewhere.
    first = int(now.timestamp() // 60) % INDEX_SHARDS
    for page in shard_pages(lambda shard: due_query(shard, now), limit, first):
        try:
            published += _publish_all(_hand_out(page, now))
        except Exception as exc:  # a page that cannot be marked: the next pass finds it again
            logs.exception("webhook sweep page failed", exc, first_event_id=page[0].id)
        if time.monotonic() >= stop_at:
            break
    if published:
        logs.info("webhook sweep re-published due events", count=published)
    return published


def sweep_for(run_s: float = SWEEP_RUN_S, poll_s: float = SWEEP_POLL_S) -> int:
    """The scheduled sweep: a pass every `poll_s` for `run_s`; returns how many events were published."""
    stop_at = time.monotonic() + run_s
    published = 0
    while True:
        published += sweep_due_events()
        if time.monotonic() + poll_s >= stop_at:
            return published
        time.sleep(poll_s)  # polling the schedule's due times, not waiting for a server
