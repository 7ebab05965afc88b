"""An endpoint's backlog: events isolation deferred, kept in Firestore and handed out oldest first.

An event that cannot be attempted now (its endpoint's slots are held, its circuit is open, its throttle is
spent) is marked `queued` and acknowledged: it waits in Firestore, not in the shared Pub/Sub subscription.
Every finished attempt frees a slot and hands out the endpoint's oldest queued event (`drain`): it is
unmarked with a precondition (so two drains never hand out the same one) and published to the lane the
endpoint's health calls for. A lost hand-out is caught by the sweep: a queued event's `next_attempt_at` is
a backstop.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from google.api_core.exceptions import FailedPrecondition, NotFound
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.core.clients import firestore_client
from shared.core.index_shards import in_user_ranges
from shared.models import WebhookEndpoint, WebhookEvent, WebhookEventStatus, utc_now
from shared.webhooks.decisions import EndpointHealth, endpoint_health, lane_for
from shared.webhooks.events import event_ref, publish_to_lane

# The sweep re-publishes a queued event this long after it could have run, should its hand-out be lost.
QUEUE_BACKSTOP = timedelta(minutes=2)
DRAIN_PAGE = 5


def queue_event(event_id: str, read_at: Any, not_before: datetime) -> bool:
    """Put the event (as read at `read_at`) in its endpoint's backlog; False when it changed meanwhile."""
    now = utc_now()
    fields = {
        "queued": True,
        "handed_out": False,
        "next_attempt_at": max(not_before, now) + QUEUE_BACKSTOP,
        "updated_at": now,
    }
    option = firestore_client().write_option(last_update_time=read_at)
    try:
        event_ref(event_id).update(fields, option=option)
    except (FailedPrecondition, NotFound):
        return False
    return True


def _queued_page(user_id: str, test_traffic: bool, limit: int) -> list[Any]:
    query = (
        firestore_client()
        .collection(WebhookEvent.collection)
        .where(filter=FieldFilter("user_id", "==", user_id))
        .where(filter=FieldFilter("status", "==", WebhookEventStatus.PENDING.value))
        .where(filter=FieldFilter("queued", "==", True))
        .where(filter=FieldFilter("test_traffic", "==", test_traffic))
    )
    # Index: user_id, status, queued, test_traffic, user_range, created_at (shared/core/index_shards.py).
    query = in_user_ranges(query).order_by("created_at")
    return list(query.limit(limit).stream())


def drain(endpoint: WebhookEndpoint, test_traffic: bool, *, force: bool = False) -> str | None:
    """Hand out the oldest queued event of the endpoint's live or test budget; returns its id.

    Nothing is handed out while the circuit is open: its probe runs on the retry schedule, and only its
    success starts the drain again. `force` (recovery by the customer) hands out the oldest as the probe.
    """
    health = endpoint_health(endpoint.enabled, endpoint.consecutive_failures)
    if health is EndpointHealth.DISABLED:
        return None
    if health is EndpointHealth.FAILING and not force:
        return None
    db = firestore_client()
    for snapshot in _queued_page(endpoint.user_id, test_traffic, DRAIN_PAGE):
        now = utc_now()
        try:
            # Due now, unqueued: the message makes the attempt; if it is lost, the next sweep does.
            snapshot.reference.update(
                {"queued": False, "next_attempt_at": now, "updated_at": now},
                option=db.write_option(last_update_time=snapshot.update_time),
            )
        except (FailedPrecondition, NotFound):
            continue  # another drain handed this one out, or it moved on
        publish_to_lane(snapshot.id, endpoint.user_id, lane_for(endpoint, test_traffic))
        return str(snapshot.id)
    return None


def backlog_size(user_id: str) -> int:
    """Events of this user not yet delivered, failed or discarded: queued, in flight or awaiting a retry."""
    query = (
        firestore_client()
        .collection(WebhookEvent.collection)
        .where(filter=FieldFilter("user_id", "==", user_id))
        .where(filter=FieldFilter("status", "==", WebhookEventStatus.PENDING.value))
    )
    # The client's annotation says count() returns a class; it returns an aggregation query.
    aggregation: Any = query.count()
    result = aggregation.get()
    return int(result[0][0].value)
