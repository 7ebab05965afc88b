"""Helpers for the fast path of webhook delivery: published messages as `create_event` makes them, endpoint
copies taken from a fresh read, and a clock the copies' age can be driven by."""

from __future__ import annotations

import json
import uuid
from typing import Any

from shared.core.function_registry import WEBHOOK_EVENTS_TOPIC
from shared.core.pubsub_events import PubSubMessage
from shared.models import WebhookEndpoint, WebhookEvent
from shared.webhooks.endpoint_copies import EndpointCopies
from shared.webhooks.endpoints import endpoint_ref
from shared.webhooks.events import PublishedEvent, event_message, event_ref


def published_of(event_id: str) -> PublishedEvent:
    """The event as written and that write's update time: what `create_event` puts in the first message."""
    snapshot = event_ref(event_id).get()
    return PublishedEvent(WebhookEvent.from_firestore(snapshot.to_dict()), snapshot.update_time)


def pubsub_message(data: bytes | dict[str, Any], event_id: str = "") -> PubSubMessage:
    body = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return PubSubMessage(
        message_id=uuid.uuid4().hex,
        data=body,
        attributes={"event_id": event_id} if event_id else {},
        topic=WEBHOOK_EVENTS_TOPIC,
    )


def published_message(event_id: str, user_id: str, published: PublishedEvent | None) -> PubSubMessage:
    """The Pub/Sub message `publish_event` sends (`event_message`), as the delivery function receives it."""
    return pubsub_message(event_message(event_id, user_id, published), event_id)


def message_data(event_id: str, user_id: str, published: PublishedEvent) -> dict[str, Any]:
    """The published message's JSON, to be altered by a test (forged or malformed copies)."""
    data = json.loads(event_message(event_id, user_id, published))
    assert isinstance(data, dict)
    return data


def remember_fresh(copies: EndpointCopies, user_id: str) -> WebhookEndpoint:
    """Read the user's endpoint now and keep the copy, as a delivery's read does."""
    snapshot = endpoint_ref(user_id).get()
    endpoint = WebhookEndpoint.from_firestore(snapshot.to_dict())
    copies.remember(endpoint, snapshot.read_time)
    return endpoint


class ManualClock:
    """A monotonic clock that moves only when told (the copies' MAX_AGE_S, without waiting)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
