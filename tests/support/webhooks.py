"""Helpers for webhook tests: endpoints, events and their stored state, read straight from Firestore."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter
from standardwebhooks.webhooks import Webhook

from shared.core.clients import firestore_client
from shared.core.index_shards import index_shard
from shared.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, WebhookEventType
from shared.outbound.sender import SendPolicy
from shared.webhooks.endpoints import WebhookEndpointInput, endpoint_ref, put_endpoint
from shared.webhooks.events import create_event, due_query
from tests.support.webhook_receiver import Received

# In-process delivery with the local allowance on, and a short timeout so timeout tests stay quick.
LOOPBACK_POLICY = SendPolicy(timeout_s=5.0, allow_loopback=True, require_https=False)
STRICT_POLICY = SendPolicy(timeout_s=5.0, allow_loopback=False, require_https=False)
ALL_JOB_EVENTS = ("job.completed", "job.failed")


def setup_endpoint(user_id: str, url: str, events: tuple[str, ...] = ALL_JOB_EVENTS) -> str:
    """Create the user's endpoint; returns its secret."""
    resource, created = put_endpoint(
        user_id, WebhookEndpointInput.model_validate({"url": url, "events": list(events)})
    )
    assert created
    return str(resource["secret"])


def verify(secret: str, request: Received) -> dict[str, Any]:
    """The payload of a received webhook, checked with the standardwebhooks package (raises if it fails)."""
    payload = Webhook(secret).verify(request.body, request.headers)
    assert isinstance(payload, dict)
    return payload


def endpoint(user_id: str) -> WebhookEndpoint:
    return WebhookEndpoint.from_firestore(endpoint_ref(user_id).get().to_dict())


def make_event(
    user_id: str,
    event_type: WebhookEventType = WebhookEventType.JOB_COMPLETED,
    *,
    publish: bool = False,
    livemode: bool = True,
) -> str:
    """An event as the trigger makes it; unpublished by default so only the test's own call delivers."""
    event_id = "evt_" + secrets.token_hex(16)
    job: dict[str, Any] = {"job_id": "job_" + secrets.token_hex(4), "type": "echo", "status": "completed"}
    create_event(event_id, user_id, event_type, livemode, job, publish_now=publish)
    return event_id


def stored_event(event_id: str) -> WebhookEvent:
    data = firestore_client().collection(WebhookEvent.collection).document(event_id).get().to_dict()
    return WebhookEvent.from_firestore(data)


def stored_deliveries(event_id: str) -> list[WebhookDelivery]:
    query = (
        firestore_client()
        .collection(WebhookDelivery.collection)
        .where(filter=FieldFilter("event_id", "==", event_id))
    )
    found = [WebhookDelivery.from_firestore(s.to_dict()) for s in query.stream()]
    return sorted(found, key=lambda d: d.attempt)


def sweep_finds(event_id: str, now: datetime) -> bool:
    """Whether the sweep's query at `now` finds the event (its shard's due events)."""
    return any(s.id == event_id for s in due_query(index_shard(event_id), now).stream())
