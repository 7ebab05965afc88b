"""Decorator for CloudEvent entry points: log unknown exceptions with context, then fail (500 -> retry)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from cloudevents.http.event import CloudEvent

from shared import logs


def cloudevent_entry(handler: Callable[[CloudEvent], None]) -> Callable[[CloudEvent], None]:
    @wraps(handler)
    def run(event: CloudEvent) -> None:
        try:
            handler(event)
        except Exception as exc:
            logs.exception(
                f"{handler.__name__} failed", exc, event_id=event.get("id"), event_type=event.get("type")
            )
            raise

    return run
