"""Customer and operator controls: send one event again now, recover failed events since a time, health.

Both controls work through the normal machinery: the event becomes pending again with one more attempt
allowed (`attempt_limit`), keeps its id (receivers deduplicate on `webhook-id`), and goes through its
endpoint's slots and backlog like any other attempt. An open circuit's probe is brought forward to now:
the caller says the endpoint is worth trying.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from google.api_core.exceptions import FailedPrecondition, NotFound
from google.cloud.firestore_v1.base_query import FieldFilter
from pydantic import BaseModel, ConfigDict, Field

from shared.core.clients import firestore_client
from shared.core.errors import ApiError, ErrorCode, not_found
from shared.core.index_shards import in_user_ranges
from shared.core.retry import retry_commit
from shared.models import WebhookEndpoint, WebhookEvent, WebhookEventStatus, WebhookEventType, utc_now
from shared.webhooks.backlog import QUEUE_BACKSTOP, backlog_size, drain
from shared.webhooks.decisions import endpoint_health, lane_for
from shared.webhooks.endpoints import endpoint_ref, endpoint_resource, load_endpoint
from shared.webhooks.events import event_ref, publish_to_lane
from shared.webhooks.quotas import Control, take_control

EVENT_ID = re.compile(r"^evt_[0-9a-f]{32}$")
RECOVER_LIMIT = 500
_WRITE_RETRIES = 5


class RecoverInput(BaseModel):
    """POST /v1/webhook/recover."""

    model_config = ConfigDict(extra="forbid")

    since: int = Field(
        ge=0, le=10**11, strict=True, description="Unix seconds: failed events created since then."
    )


def health_resource(user_id: str) -> dict[str, Any]:
    """GET /v1/webhook: the endpoint with its health and backlog."""
    endpoint = load_endpoint(user_id)
    if endpoint is None:
        raise not_found("webhook endpoint")
    body = endpoint_resource(endpoint)
    body.update(
        status=endpoint_health(endpoint.enabled, endpoint.consecutive_failures).value,
        consecutive_failures=endpoint.consecutive_failures,
        backlog=backlog_size(user_id),
    )
    return body


def enabled_endpoint(user_id: str) -> WebhookEndpoint:
    """The caller's endpoint, or 404 when there is none and 409 `webhook_disabled` when it is off."""
    endpoint = load_endpoint(user_id)
    if endpoint is None:
        raise not_found("webhook endpoint")
    if not endpoint.enabled:
        raise ApiError(
            ErrorCode.WEBHOOK_DISABLED, "The webhook endpoint is disabled; enable it with PUT /v1/webhook."
        )
    return endpoint


def _probe_now(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Bring an open circuit's next probe forward to now (one probe at a time still holds)."""
    if endpoint.probe_at is None:
        return endpoint
    try:
        endpoint_ref(endpoint.user_id).update({"probe_at": None})
    except NotFound:
        return endpoint
    return endpoint.model_copy(update={"probe_at": None})


def retry_event(user_id: str, event_id: str, *, by_operator: bool = False) -> dict[str, Any]:
    """POST /v1/webhook/events/{event_id}/retry: one more attempt of this event, now. The customer's retries
    count against the account's hourly cap (shared/webhooks/quotas.py); the operator's do not."""
    if not EVENT_ID.match(event_id):
        raise ApiError(ErrorCode.PARAMETER_INVALID, "Invalid event_id.", param="event_id")
    endpoint = enabled_endpoint(user_id)
    if not by_operator:
        take_control(user_id, Control.RETRY)
    db = firestore_client()
    ref = event_ref(event_id)

    def attempt() -> tuple[dict[str, Any], bool]:
        snapshot = ref.get()
        data = snapshot.to_dict() if snapshot.exists else None
        if not data or data.get("user_id") != user_id:
            raise not_found("webhook event", param="event_id")  # someone else's looks like none
        event = WebhookEvent.from_firestore(data)
        if event.type is WebhookEventType.WEBHOOK_DISABLED:
            raise ApiError(
                ErrorCode.ILLEGAL_STATE_TRANSITION,
                "webhook.disabled events are records for the dashboard; they are not sent.",
                param="event_id",
            )
        now = utc_now()
        fields = {
            "status": WebhookEventStatus.PENDING.value,
            "attempt_limit": max(event.attempt_limit, event.attempts + 1),
            "next_attempt_at": now,
            "queued": False,
            "updated_at": now,
        }
        ref.update(fields, option=db.write_option(last_update_time=snapshot.update_time))
        return {"event_id": event_id, "type": event.type.value, "status": "pending"}, event.test_traffic

    queued, test_traffic = retry_commit(
        attempt,
        what=f"webhook event {event_id}",
        max_attempts=_WRITE_RETRIES,
        gave_up=lambda: ApiError(
            ErrorCode.SERVICE_UNAVAILABLE, "The event is being changed concurrently; retry."
        ),
    )
    publish_to_lane(event_id, user_id, lane_for(_probe_now(endpoint), test_traffic))
    return queued


def _failed_since(user_id: str, since: datetime, limit: int) -> list[Any]:
    query = (
        firestore_client()
        .collection(WebhookEvent.collection)
        .where(filter=FieldFilter("user_id", "==", user_id))
        .where(filter=FieldFilter("status", "==", WebhookEventStatus.FAILED.value))
        .where(filter=FieldFilter("created_at", ">=", since))
    )
    # Index: user_id, status, user_range, created_at (shared/core/index_shards.py).
    query = in_user_ranges(query).order_by("created_at")
    return list(query.limit(limit).stream())


def recover(user_id: str, body: RecoverInput, *, by_operator: bool = False) -> dict[str, Any]:
    """POST /v1/webhook/recover: every failed event since `since` back into the backlog, oldest first.

    Each event is requeued once: the update is conditional on the event still being the failed one read,
    and a requeued event is pending, so a second recover call (or a concurrent one) skips it.
    """
    now = utc_now()
    if body.since > now.timestamp():
        raise ApiError(ErrorCode.PARAMETER_INVALID, "Invalid since: it is in the future.", param="since")
    endpoint = enabled_endpoint(user_id)
    if not by_operator:
        take_control(user_id, Control.RECOVER)
    since = datetime.fromtimestamp(body.since, UTC)
    page = _failed_since(user_id, since, RECOVER_LIMIT + 1)
    db = firestore_client()
    requeued = 0
    for snapshot in page[:RECOVER_LIMIT]:
        event = WebhookEvent.from_firestore(snapshot.to_dict())
        fields = {
            "status": WebhookEventStatus.PENDING.value,
            "attempt_limit": event.attempts + 1,
            "queued": True,
            "next_attempt_at": now + QUEUE_BACKSTOP,
            "updated_at": now,
        }
        try:
            snapshot.reference.update(fields, option=db.write_option(last_update_time=snapshot.update_time))
        except (FailedPrecondition, NotFound):
            continue
        requeued += 1
    if requeued:
        probe = _probe_now(endpoint)
        for test_traffic in (False, True):
            drain(probe, test_traffic, force=True)
    return {"requeued": requeued, "has_more": len(page) > RECOVER_LIMIT}
