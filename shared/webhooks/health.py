"""An endpoint's health after each attempt, written: what changes is decided by
shared/webhooks/decisions.endpoint_fields (failure streak, circuit breaker, slowness, disabling).

The endpoint document is shared by all of a user's deliveries and Firestore sustains about one write per
second per document, so it is written only when something changes (or every ENDPOINT_TOUCH_INTERVAL, decisions.py, for
`last_triggered_at`). It is re-read after the attempt and written with a precondition on that read: a
verdict about a URL the endpoint no longer has is dropped, and the streak is judged on its current value.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from google.api_core.exceptions import AlreadyExists, NotFound

from shared.core import logs
from shared.core.clients import firestore_client
from shared.core.retry import retry_commit
from shared.models import WebhookEndpoint, WebhookEvent, WebhookEventStatus, WebhookEventType
from shared.outbound.results import AttemptResult
from shared.webhooks.decisions import Verdict, endpoint_fields
from shared.webhooks.endpoints import endpoint_ref, webhook_id_for
from shared.webhooks.events import event_payload, event_ref

ENDPOINT_WRITE_RETRIES = 5


def update_after_attempt(
    endpoint: WebhookEndpoint, verdict: Verdict, result: AttemptResult, finished: datetime
) -> WebhookEndpoint | None:
    """Apply the attempt's verdict; returns the endpoint as now stored (None: deleted or URL changed)."""
    outcome, retry_at = verdict.outcome, verdict.retry_at
    if not verdict.endpoint_fields:
        # Nothing to change as of the read before the send (the common success): skip the re-read. A
        # change made meanwhile by another attempt is judged by the next attempt's verdict.
        return endpoint
    db = firestore_client()
    ref = endpoint_ref(endpoint.user_id)

    def attempt() -> WebhookEndpoint | None:
        snapshot = ref.get()
        if not snapshot.exists:
            return None
        current = WebhookEndpoint.from_firestore(snapshot.to_dict())
        if current.url != endpoint.url:
            return None  # the attempt went to a URL the endpoint no longer has
        fields = endpoint_fields(current, outcome, result, finished, retry_at)
        if not fields:
            return current
        try:
            # FailedPrecondition: changed since the read, judge again on the new state (retry_commit).
            ref.update(fields, option=db.write_option(last_update_time=snapshot.update_time))
        except NotFound:
            return None
        updated = current.model_copy(update=fields)
        if current.enabled and not updated.enabled:
            record_disabled(updated, finished)
        return updated

    try:
        return retry_commit(
            attempt,
            what=f"webhook endpoint of {endpoint.user_id}",
            max_attempts=ENDPOINT_WRITE_RETRIES,
            gave_up=_EndpointBusy,
        )
    except _EndpointBusy:
        # Other attempts keep changing it: their verdicts stand, and the next attempt judges again.
        return None


class _EndpointBusy(Exception):
    pass


def disabled_event_id(webhook_id: str, since: datetime) -> str:
    """One `webhook.disabled` record per disabling (keyed by when the failures began)."""
    key = f"disabled:{webhook_id}:{since.isoformat()}"
    return "evt_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def record_disabled(endpoint: WebhookEndpoint, now: datetime) -> None:
    """Record a `webhook.disabled` event for the dashboard; it is never sent (the endpoint is disabled)."""
    webhook_id = webhook_id_for(endpoint.user_id)
    since = endpoint.failing_since or now
    event_id = disabled_event_id(webhook_id, since)
    obj = {
        "webhook_id": webhook_id,
        "url": endpoint.url,
        "reason": endpoint.disabled_reason,
        "failing_since": int(since.timestamp()),
    }
    event = WebhookEvent(
        user_id=endpoint.user_id,
        type=WebhookEventType.WEBHOOK_DISABLED,
        livemode=True,
        payload=event_payload(event_id, WebhookEventType.WEBHOOK_DISABLED, now, True, obj),
        status=WebhookEventStatus.DISCARDED,
        last_error="recorded for the dashboard; not sent to a disabled endpoint",
        created_at=now,
        updated_at=now,
    )
    try:
        event_ref(event_id).create(event.to_firestore())
    except AlreadyExists:
        return
    logs.warning("webhook endpoint disabled", webhook_id=webhook_id, reason=endpoint.disabled_reason)
