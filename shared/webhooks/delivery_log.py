"""GET /v1/webhook/deliveries: the caller's recent delivery attempts, newest first, cursor-paginated."""

from __future__ import annotations

from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter

from shared.core.clients import firestore_client
from shared.core.errors import ApiError, ErrorCode
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


def list_deliveries(user_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    collection = firestore_client().collection(WebhookDelivery.collection)
    query = (
        collection.where(filter=FieldFilter("user_id", "==", user_id))
        .order_by("created_at", direction="DESCENDING")
        .order_by("__name__", direction="DESCENDING")
    )
    if cursor:
        # The cursor is the id of the last delivery shown; it must be one of the caller's.
        if len(cursor) > 200 or "/" in cursor:
            raise ApiError(ErrorCode.PARAMETER_INVALID, "Invalid cursor.", param="cursor")
        after = collection.document(cursor).get()
        if not after.exists or (after.to_dict() or {}).get("user_id") != user_id:
            raise ApiError(ErrorCode.PARAMETER_INVALID, "Invalid cursor.", param="cursor")
        query = query.start_after(after)
    snapshots = list(query.limit(limit + 1).stream())
    page = snapshots[:limit]
    has_more = len(snapshots) > limit
    return {
        "data": [delivery_resource(WebhookDelivery.from_firestore(s.to_dict())) for s in page],
        "has_more": has_more,
        "next_cursor": page[-1].id if has_more and page else None,
    }
