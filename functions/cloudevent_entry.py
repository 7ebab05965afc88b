"""Decorator for CloudEvent entry points: check settings, log unknown exceptions with context, then fail
(500 -> retry);
acknowledge malformed Pub/Sub messages (logged), since no retry could ever process them."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from cloudevents.http.event import CloudEvent

from shared.core import logs
from shared.core.pubsub_events import MalformedMessage
from shared.core.settings import get_settings


def cloudevent_entry(handler: Callable[[CloudEvent], None]) -> Callable[[CloudEvent], None]:
    @wraps(handler)
    def run(event: CloudEvent) -> None:
        try:
            get_settings()  # a refused configuration fails every event (logged, redelivered later)
            handler(event)
        except MalformedMessage as exc:
            # Retrying cannot help a message that can never be processed: acknowledge it, log it.
            logs.error(f"{handler.__name__} dropped a malformed message: {exc}", event_id=event.get("id"))
        except Exception as exc:
            logs.exception(
                f"{handler.__name__} failed", exc, event_id=event.get("id"), event_type=event.get("type")
            )
            raise

    return run
