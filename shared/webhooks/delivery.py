"""Deliver one webhook event attempt: claim it, sign, POST, record. Called by `deliver_webhook` per message.

State machine of `webhook_events/{id}` (docs/webhooks.md):
  pending --2xx--> delivered
  pending --failure, retries left--> pending (attempts+1, next_attempt_at = schedule)
  pending --failure, none left / 410--> failed
  pending --no endpoint, disabled, not subscribed--> discarded
Crash safety: the attempt is claimed first (attempts+1 and a lease in next_attempt_at, written with a
last_update_time precondition from the read), so two copies of a message never send concurrently; the
result is recorded (delivery document + event state, one batch) before the function returns, and only then
is the Pub/Sub message acknowledged. A crash anywhere leaves the event pending with a due time, and the
sweep re-publishes it: nothing is lost and the event id never changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from google.api_core.exceptions import AlreadyExists, FailedPrecondition, NotFound

from shared.core import logs
from shared.core.clients import firestore_client
from shared.core.pubsub_events import MalformedMessage, PubSubMessage, RedeliverLater
from shared.core.settings import get_settings
from shared.models import (
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventStatus,
    WebhookEventType,
    utc_now,
)
from shared.webhooks.endpoints import endpoint_ref, load_endpoint, signing_secrets, webhook_id_for
from shared.webhooks.events import event_ref, payload_body, sweep_due_events
from shared.webhooks.schedule import (
    MAX_ATTEMPTS,
    AttemptResult,
    Outcome,
    classify,
    next_attempt_at,
    should_disable_endpoint,
)
from shared.webhooks.sender import SendPolicy, post_webhook
from shared.webhooks.signing import build_headers

DEFAULT_TIMEOUT_S = 15.0
# A claimed attempt may be retried by the sweep once this long has passed since the claim (the sender
# crashed): it must exceed the send timeout plus the time to record the result.
LEASE_MARGIN = timedelta(seconds=60)
# A retry due within this window is left to Pub/Sub's redelivery (backoff of seconds) instead of the sweep,
# which runs once a minute: the contract's first retry comes 5 s after a failure. Longer than any
# redelivery backoff's first steps, shorter than a claim's lease (timeout + LEASE_MARGIN), so an attempt in
# flight elsewhere is never waited on this way.
REDELIVERY_WINDOW = timedelta(seconds=30)
# The endpoint document is shared by all of a user's deliveries: refresh last_triggered_at at most this
# often unless something else changes (Firestore sustains about one write per second per document).
ENDPOINT_TOUCH_INTERVAL = timedelta(seconds=5)
ENDPOINT_WRITE_RETRIES = 5


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


def delivery_id(event_id: str, attempt: int) -> str:
    return f"{event_id}-{attempt}"


def _skip_reason(endpoint: WebhookEndpoint | None, event: WebhookEvent) -> str | None:
    if endpoint is None:
        return "no webhook endpoint"
    if not endpoint.enabled:
        return "webhook endpoint disabled"
    if event.type is not WebhookEventType.WEBHOOK_TEST and event.type not in endpoint.events:
        return f"endpoint not subscribed to {event.type.value}"
    return None


def deliver_event(event_id: str, policy: SendPolicy | None = None) -> DeliveryReport | None:
    """Make the event's next attempt if it is due and unclaimed; None when there was nothing to send."""
    policy = policy or default_policy()
    db = firestore_client()
    ref = event_ref(event_id)
    snapshot = ref.get()
    if not snapshot.exists:
        logs.warning("webhook event not found", event_id=event_id)
        return None
    event = WebhookEvent.from_firestore(snapshot.to_dict())
    now = utc_now()
    if event.status is not WebhookEventStatus.PENDING:
        return None
    # Before the first attempt next_attempt_at is only the sweep's backstop: the first publish is due.
    if event.attempts > 0 and event.next_attempt_at is not None and event.next_attempt_at > now:
        return None
    precondition = db.write_option(last_update_time=snapshot.update_time)
    endpoint = load_endpoint(event.user_id)
    reason = _skip_reason(endpoint, event)
    if reason is not None or event.attempts >= MAX_ATTEMPTS:
        final = WebhookEventStatus.DISCARDED if reason is not None else WebhookEventStatus.FAILED
        try:
            ref.update(
                {"status": final.value, "next_attempt_at": None, "last_error": reason, "updated_at": now},
                option=precondition,
            )
        except FailedPrecondition:
            pass  # someone else moved it on; their state stands
        return None
    assert endpoint is not None
    attempt = event.attempts + 1
    lease_until = now + timedelta(seconds=policy.timeout_s) + LEASE_MARGIN
    try:
        claim = ref.update(
            {"attempts": attempt, "next_attempt_at": lease_until, "updated_at": now}, option=precondition
        )
    except FailedPrecondition:
        return None  # another copy of this message claimed the attempt

    body = payload_body(event.payload)
    headers = build_headers(signing_secrets(endpoint, now), event_id, int(time.time()), body)
    result = post_webhook(endpoint.url, body, headers, policy, now)
    finished = utc_now()
    outcome = classify(result)
    retry_at = next_attempt_at(attempt, result, finished) if outcome is Outcome.RETRY else None
    _record(event_id, event, attempt, result, outcome, retry_at, finished, claim.update_time)
    _update_endpoint(endpoint, outcome, result, finished)
    log = logs.info if outcome is Outcome.DELIVERED else logs.warning
    log(
        "webhook attempt",
        event_id=event_id,
        attempt=attempt,
        status_code=result.status_code,
        error=result.error,
        duration_ms=result.duration_ms,
        next_attempt_at=retry_at.isoformat() if retry_at else None,
    )
    return DeliveryReport(event_id, attempt, outcome, result, retry_at)


def _record(
    event_id: str,
    event: WebhookEvent,
    attempt: int,
    result: AttemptResult,
    outcome: Outcome,
    retry_at: datetime | None,
    finished: datetime,
    claimed_at: Any,
) -> None:
    db = firestore_client()
    if outcome is Outcome.DELIVERED:
        status = WebhookEventStatus.DELIVERED
    elif retry_at is None:
        status = WebhookEventStatus.FAILED
    else:
        status = WebhookEventStatus.PENDING
    delivery = WebhookDelivery(
        user_id=event.user_id,
        webhook_id=webhook_id_for(event.user_id),
        event_id=event_id,
        event_type=event.type,
        attempt=attempt,
        status_code=result.status_code,
        error=result.error,
        duration_ms=result.duration_ms,
        next_attempt_at=retry_at,
        livemode=event.livemode,
        created_at=finished,
    )
    delivery_ref = db.collection(WebhookDelivery.collection).document(delivery_id(event_id, attempt))
    event_update = {
        "status": status.value,
        "next_attempt_at": retry_at,
        "last_status_code": result.status_code,
        "last_error": result.error,
        "updated_at": finished,
    }
    # The precondition: only the claimant of this attempt moves the event on. If our lease ran out and
    # another attempt was claimed meanwhile, that one owns the event; we still record what we did.
    batch = db.batch()
    batch.create(delivery_ref, delivery.to_firestore())
    batch.update(event_ref(event_id), event_update, option=db.write_option(last_update_time=claimed_at))
    try:
        batch.commit()
    except FailedPrecondition:
        try:
            delivery_ref.create(delivery.to_firestore())
        except AlreadyExists:
            pass
    except AlreadyExists:  # a crashed earlier run of this very claim recorded it already
        try:
            event_ref(event_id).update(event_update, option=db.write_option(last_update_time=claimed_at))
        except FailedPrecondition:
            pass


def _update_endpoint(
    endpoint: WebhookEndpoint, outcome: Outcome, result: AttemptResult, finished: datetime
) -> None:
    """Apply the attempt's verdict to the endpoint as it is now, not as it was read before the send.

    The user may have changed the URL (or re-enabled) meanwhile, and other attempts may have started or
    cleared the failure clock: the endpoint is re-read and written with a precondition on that read, and a
    verdict about a URL the endpoint no longer has is dropped.
    """
    db = firestore_client()
    ref = endpoint_ref(endpoint.user_id)
    for _ in range(ENDPOINT_WRITE_RETRIES):
        snapshot = ref.get()
        if not snapshot.exists:
            return  # deleted meanwhile: nothing to update
        current = WebhookEndpoint.from_firestore(snapshot.to_dict())
        if current.url != endpoint.url:
            return  # the attempt went to a URL the endpoint no longer has
        fields = _endpoint_fields(current, outcome, result, finished)
        if not fields:
            return
        try:
            ref.update(fields, option=db.write_option(last_update_time=snapshot.update_time))
            return
        except FailedPrecondition:
            continue  # changed since the read: judge again on the new state
        except NotFound:
            return


def _endpoint_fields(
    endpoint: WebhookEndpoint, outcome: Outcome, result: AttemptResult, finished: datetime
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if outcome is Outcome.DELIVERED:
        if endpoint.failing_since is not None:
            fields["failing_since"] = None
    else:
        failing_since = endpoint.failing_since or finished
        if endpoint.failing_since is None:
            fields["failing_since"] = failing_since
        if outcome is Outcome.GONE:
            fields.update(enabled=False, disabled_reason="the endpoint answered 410 Gone")
        elif should_disable_endpoint(failing_since, finished):
            fields.update(enabled=False, disabled_reason="deliveries failed for 5 days")
    stale = endpoint.last_triggered_at is None or finished - endpoint.last_triggered_at >= (
        ENDPOINT_TOUCH_INTERVAL
    )
    if fields or stale or endpoint.last_status_code != result.status_code:
        fields.update(last_triggered_at=finished, last_status_code=result.status_code)
    return fields


def handle_delivery_message(message: PubSubMessage) -> DeliveryReport | None:
    """`deliver_webhook`: the message names an event; returning acknowledges it (state is recorded)."""
    try:
        data = message.json()
        event_id = data["event_id"] if isinstance(data, dict) else None
    except (MalformedMessage, KeyError):
        event_id = None
    if not isinstance(event_id, str) or not event_id.startswith("evt_"):
        logs.error("malformed webhook-events message", message_id=message.message_id)
        return None
    report = deliver_event(event_id)
    due_at = report.next_attempt_at if report is not None else _retry_due_at(event_id)
    if due_at is not None and due_at - utc_now() <= REDELIVERY_WINDOW:
        raise RedeliverLater(f"{event_id} is due again at {due_at.isoformat()}")
    return report


def _retry_due_at(event_id: str) -> datetime | None:
    """When a pending event that has been tried is due again (None when it is not waiting for a retry)."""
    snapshot = event_ref(event_id).get()
    if not snapshot.exists:
        return None
    event = WebhookEvent.from_firestore(snapshot.to_dict())
    if event.status is not WebhookEventStatus.PENDING or event.attempts == 0:
        return None
    return event.next_attempt_at


def handle_sweep_message(message: PubSubMessage) -> int:
    """`webhook_retry_sweep`: scheduled every minute; the message content is irrelevant."""
    return sweep_due_events()
