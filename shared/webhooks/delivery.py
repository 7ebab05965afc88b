"""Deliver one webhook event attempt: read, decide, claim, sign, POST, record. Called per Pub/Sub message
by `deliver_webhook` (fast lane), `deliver_webhook_slow` and `deliver_webhook_test` (shared/webhooks/
decisions.Lane).

What to do and what an attempt means are decided by shared/webhooks/decisions.py (pure); this module reads
and writes around those decisions (docs/webhooks.md):
- the event and its endpoint are read in one call (the message's user id is a hint);
- an attempt holds one of its endpoint's few slots and claims the event (attempts+1 and a lease in
  `next_attempt_at`) in one batch, on the event's update time as read: two copies of a message never send
  concurrently; an event that finds every slot held waits in the endpoint's backlog
  (shared/webhooks/backlog.py);
- the result is recorded (delivery document, the event's next state, the slot's release: one batch)
  before the function returns, so the Pub/Sub message is acknowledged only once the state is stored. Every
  expected outcome acknowledges: the retry schedule lives in Firestore and the sweep
  (shared/webhooks/events.sweep_due_events) re-publishes what is due. A crash anywhere leaves the event
  pending with a due time: nothing is lost and the event id never changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from google.api_core.exceptions import AlreadyExists, FailedPrecondition

from shared.core import logs
from shared.core.clients import firestore_client
from shared.core.pubsub_events import MalformedMessage, PubSubMessage
from shared.core.retention import event_data_expiry
from shared.core.settings import get_settings
from shared.models import (
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventStatus,
    WebhookEventType,
    utc_now,
)
from shared.outbound.results import AttemptResult
from shared.outbound.sender import SendPolicy, guarded_post
from shared.outbound.signing import build_headers
from shared.webhooks.backlog import drain, queue_event
from shared.webhooks.decisions import (
    Decision,
    Lane,
    Outcome,
    Step,
    Verdict,
    budget_id,
    decide_attempt,
    judge_attempt,
)
from shared.webhooks.endpoints import endpoint_ref, endpoint_signing_secrets, webhook_id_for
from shared.webhooks.events import event_ref, payload_body, publish_to_lane, sweep_for
from shared.webhooks.health import update_after_attempt
from shared.webhooks.slots import Slot, claim_slot, every_slot_held, release_slot, wait_for_rate_token

DEFAULT_TIMEOUT_S = 15.0
# A claimed attempt (and its slot) may be taken over once this long has passed since the claim (the sender
# crashed): it must exceed the send timeout plus the time to record the result.
LEASE_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True)
class DeliveryReport:
    event_id: str
    attempt: int
    outcome: Outcome
    result: AttemptResult
    next_attempt_at: datetime | None


def default_policy() -> SendPolicy:
    settings = get_settings()
    return SendPolicy(
        timeout_s=DEFAULT_TIMEOUT_S,
        allow_loopback=settings.allow_loopback_webhooks,
        require_https=settings.is_production,
    )


def deliver_event(
    event_id: str,
    policy: SendPolicy | None = None,
    lane: Lane = Lane.SLOW,
    user_id: str | None = None,
) -> DeliveryReport | None:
    """Make the event's next attempt if `decide_attempt` says so and a slot is free; None otherwise.
    `user_id` (the message's hint) lets the event and the endpoint be read in one call."""
    event_snapshot, endpoint_snapshot = _read(event_id, user_id)
    if not event_snapshot.exists:
        logs.warning("webhook event not found", event_id=event_id)
        return None
    event = WebhookEvent.from_firestore(event_snapshot.to_dict())
    if event.user_id != user_id:  # no hint, or a wrong one: the event's user is the truth
        endpoint_snapshot = endpoint_ref(event.user_id).get()
    endpoint = (
        WebhookEndpoint.from_firestore(endpoint_snapshot.to_dict()) if endpoint_snapshot.exists else None
    )
    read_at = event_snapshot.update_time
    decision = decide_attempt(event, endpoint, lane, utc_now())
    if decision.step is Step.DISCARD or decision.step is Step.GIVE_UP:
        _finish_unsent(event_id, event, decision, read_at)
    elif decision.step is Step.CHANGE_LANE:
        assert decision.lane is not None
        publish_to_lane(event_id, event.user_id, decision.lane)
    elif decision.step is Step.WAIT_FOR_PROBE:
        assert decision.wait_until is not None
        queue_event(event_id, read_at, decision.wait_until)
    elif decision.step is Step.SEND:
        assert endpoint is not None
        return _claim_and_attempt(event_id, event, read_at, endpoint, decision, policy or default_policy())
    return None


def _read(event_id: str, user_id: str | None) -> tuple[Any, Any]:
    """The event's snapshot and, given a user id, that user's endpoint snapshot, in one call."""
    if user_id is None:
        return event_ref(event_id).get(), None
    refs = [event_ref(event_id), endpoint_ref(user_id)]
    found = {s.reference.path: s for s in firestore_client().get_all(refs)}
    return found[refs[0].path], found[refs[1].path]


def _finish_unsent(event_id: str, event: WebhookEvent, decision: Decision, read_at: Any) -> None:
    final = WebhookEventStatus.DISCARDED if decision.step is Step.DISCARD else WebhookEventStatus.FAILED
    fields = {
        "status": final.value,
        "next_attempt_at": None,
        "queued": False,
        "last_error": decision.reason or event.last_error,
        "updated_at": utc_now(),
    }
    try:
        event_ref(event_id).update(fields, option=firestore_client().write_option(last_update_time=read_at))
    except FailedPrecondition:
        pass  # someone else moved it on; their state stands


def _claim_and_attempt(
    event_id: str,
    event: WebhookEvent,
    read_at: Any,
    endpoint: WebhookEndpoint,
    decision: Decision,
    policy: SendPolicy,
) -> DeliveryReport | None:
    """Take a throttle token and a slot, claim the attempt on the event's update time `read_at`, make it.

    None when the claim lost (another copy of the message claimed it, or the event changed since the read)
    or the attempt was deferred (throttle, every slot held: the event waits in the backlog)."""
    now = utc_now()
    # Live and test traffic each have their own slots and throttle counters (decisions.TEST_TRAFFIC_SLOTS).
    budget = budget_id(webhook_id_for(event.user_id), event.test_traffic)
    if decision.throttled and not _throttle(event_id, budget, endpoint, read_at):
        return None
    attempt = event.attempts + 1
    lease_until = now + timedelta(seconds=policy.timeout_s) + LEASE_MARGIN
    claim = {
        "attempts": attempt,
        "next_attempt_at": lease_until,
        "queued": False,
        "handed_out": False,
        "updated_at": now,
    }
    try:
        # One batch holds a slot and claims the attempt: both or neither.
        slot = claim_slot(
            budget, event_id, decision.slots, lease_until, (event_ref(event_id), claim, read_at)
        )
    except FailedPrecondition:
        return None
    if slot is None:
        # Every slot was held: queue, then look at the slots again. A holder seen after the queueing
        # releases later and its hand-out finds this event; if one released in between (its hand-out may
        # have missed this event), hand out the backlog here.
        if queue_event(event_id, read_at, now) and not every_slot_held(budget, decision.slots):
            drain(endpoint, event.test_traffic)
        return None
    try:
        return _attempt(event_id, event, endpoint, attempt, slot, policy)
    finally:
        release_slot(slot)  # only if recording did not release it (an error on the way)


def _throttle(event_id: str, budget: str, endpoint: WebhookEndpoint, read_at: Any) -> bool:
    """True when a throttled endpoint may have an attempt now (a token of its per-second budget). Throttled
    endpoints are never on the fast lane (decisions.lane_for): waiting must not hold a shared push slot."""
    assert endpoint.rate_limit is not None
    if wait_for_rate_token(budget, endpoint.rate_limit):
        return True
    queue_event(event_id, read_at, utc_now())
    return False


def _attempt(
    event_id: str,
    event: WebhookEvent,
    endpoint: WebhookEndpoint,
    attempt: int,
    slot: Slot,
    policy: SendPolicy,
) -> DeliveryReport:
    """Holding a slot and the claim: send, record (releasing the slot), update health, hand out the next."""
    now = utc_now()
    body = payload_body(event.payload)
    headers = build_headers(endpoint_signing_secrets(endpoint, now), event_id, int(time.time()), body)
    result = guarded_post(endpoint.url, body, headers, policy, now)
    finished = utc_now()
    verdict = judge_attempt(event, endpoint, attempt, result, finished)
    _record(event_id, event, attempt, result, verdict, finished, slot)
    current = update_after_attempt(endpoint, verdict, result, finished)
    if current is not None:
        drain(current, event.test_traffic)  # the freed slot goes to its budget's oldest queued event
        if endpoint.consecutive_failures and verdict.outcome is Outcome.DELIVERED:
            drain(current, not event.test_traffic)  # a closed circuit restarts the other budget's backlog too
    log = logs.info if verdict.outcome is Outcome.DELIVERED else logs.warning
    log(
        "webhook attempt",
        event_id=event_id,
        attempt=attempt,
        status_code=result.status_code,
        error=result.error,
        duration_ms=result.duration_ms,
        next_attempt_at=verdict.retry_at.isoformat() if verdict.retry_at else None,
    )
    return DeliveryReport(event_id, attempt, verdict.outcome, result, verdict.retry_at)


def _record(
    event_id: str,
    event: WebhookEvent,
    attempt: int,
    result: AttemptResult,
    verdict: Verdict,
    finished: datetime,
    slot: Slot,
) -> None:
    """One batch: the delivery document, the event's next state, the slot's release.

    The event is updated on the claim's update time and the slot deleted on its own: only the claimant of
    this attempt moves the event on. If our lease ran out and another attempt was claimed meanwhile, that
    one owns the event (and maybe our slot); we still record what we did.
    """
    db = firestore_client()
    delivery = WebhookDelivery(
        user_id=event.user_id,
        webhook_id=webhook_id_for(event.user_id),
        event_id=event_id,
        event_type=event.type,
        attempt=attempt,
        status_code=result.status_code,
        error=result.error,
        duration_ms=result.duration_ms,
        next_attempt_at=verdict.retry_at,
        livemode=event.livemode,
        created_at=finished,
        delete_at=event_data_expiry(event.livemode, event.type is WebhookEventType.WEBHOOK_TEST, finished),
    )
    delivery_ref = db.collection(WebhookDelivery.collection).document(f"{event_id}-{attempt}")
    event_update = {
        "status": verdict.status.value,
        "next_attempt_at": verdict.retry_at,
        "last_status_code": result.status_code,
        "last_error": result.error,
        "updated_at": finished,
    }
    claimed = db.write_option(last_update_time=slot.update_time)
    batch = db.batch()
    batch.create(delivery_ref, delivery.to_firestore())
    batch.update(event_ref(event_id), event_update, option=claimed)
    batch.delete(slot.ref, option=db.write_option(last_update_time=slot.update_time))
    try:
        batch.commit()
        slot.released = True
    except (FailedPrecondition, AlreadyExists):
        # The event or the slot is another attempt's now (our lease ran out), or an earlier try of this very
        # commit went through: the delivery document alone, unless it is there already.
        try:
            delivery_ref.create(delivery.to_firestore())
        except AlreadyExists:
            pass


def deliver_message(message: PubSubMessage, lane: Lane = Lane.FAST) -> DeliveryReport | None:
    """`deliver_webhook`, `deliver_webhook_slow` and `deliver_webhook_test`: the message names an event.

    Every expected outcome returns, so Pub/Sub is acknowledged: delivered, failed and rescheduled in
    Firestore, deferred to the backlog, forwarded to another lane. Only an unexpected error (Firestore
    unavailable, a bug) raises and asks Pub/Sub for a redelivery: an answer of 5xx slows the whole
    subscription (push flow control), so it must never be the normal way to wait.
    """
    try:
        data = message.json()
    except MalformedMessage:
        data = None
    event_id = data.get("event_id") if isinstance(data, dict) else None
    if not isinstance(event_id, str) or not event_id.startswith("evt_"):
        logs.error("malformed webhook-events message", message_id=message.message_id)
        return None
    assert isinstance(data, dict)
    user_id = data.get("user_id")
    return deliver_event(event_id, lane=lane, user_id=user_id if isinstance(user_id, str) else None)


def handle_webhook_retry_sweep(message: PubSubMessage) -> int:
    """`webhook_retry_sweep`: scheduled every minute; the message content is irrelevant."""
    return sweep_for()


def handle_deliver_webhook(message: PubSubMessage) -> DeliveryReport | None:
    """`deliver_webhook`: the fast lane."""
    return deliver_message(message, Lane.FAST)


def handle_deliver_webhook_slow(message: PubSubMessage) -> DeliveryReport | None:
    """`deliver_webhook_slow`: the lane of slow, failing and throttled endpoints."""
    return deliver_message(message, Lane.SLOW)


def handle_deliver_webhook_test(message: PubSubMessage) -> DeliveryReport | None:
    """`deliver_webhook_test`: the lane of test traffic (test-mode events, webhook.test)."""
    return deliver_message(message, Lane.TEST)
