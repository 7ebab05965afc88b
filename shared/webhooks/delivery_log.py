"""GET /v1/webhook/deliveries: the caller's recent delivery attempts, newest first, cursor-paginated."""

from __future__ import annotations

from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter

from shared.core.clients import firestore_client
from shared.core.index_shards import in_user_ranges
from shared.core.pagination import PageParams, Snapshot, list_page
from shared.models import WebhookDelivery

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def delivery_resource(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "event_id": delivery.event_id,
        "event_type": delivery.event_type.value,
        "attempt": delivery.attempt,
        "status_code": delivery.status_code,
        "error": delivery.error,
        "duration_ms": delivery.duration_ms,
        "next_attempt_at": delivery.next_attempt_at,
        "created_at": delivery.created_at,
    }


def list_deliveries(user_id: str, params: PageParams, test_only: bool = False) -> dict[str, Any]:
    """`test_only` (test keys): the attempts of test-mode events only; test keys never see live traffic."""
    collection = firestore_client().collection(WebhookDelivery.collection)
    query = collection.where(filter=FieldFilter("user_id", "==", user_id))
    if test_only:
        # Index: user_id ASC, livemode ASC, created_at DESC, __name__ DESC (firestore.indexes.json).
        query = query.where(filter=FieldFilter("livemode", "==", False))
    # user_range (shared/core/index_shards.py) sits between the user's fields and created_at.
    query = (
        in_user_ranges(query)
        .order_by("created_at", direction="DESCENDING")
        .order_by("__name__", direction="DESCENDING")
    )

    def cursor_snapshot(delivery_id: str) -> Snapshot | None:
        # The cursor is the id of the last delivery shown; it must be one the caller may see.
        snapshot = collection.document(delivery_id).get()
        data = (snapshot.to_dict() or {}) if snapshot.exists else {}
        if data.get("user_id") != user_id or (test_only and data.get("livemode") is not False):
            return None
        return snapshot

    return list_page(
        query,
        params,
        cursor_snapshot,
        lambda snapshot: delivery_resource(WebhookDelivery.from_firestore(snapshot.to_dict())),
    )
