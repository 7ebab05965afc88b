"""Entry points made from function declarations (shared/core/function_registry.py).

HTTP handlers are served as they are (they answer their own errors, functions/entry_guard.py). Event-driven
handlers get the trigger's input decoded (a `DocumentChange` or a `PubSubMessage`) and run under
`cloudevent_entry`: check settings, log unknown exceptions with context, then fail (500 -> retry);
acknowledge malformed Pub/Sub messages (logged), since no retry could ever process them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache, wraps
from typing import Any

import functions_framework
from cloudevents.http.event import CloudEvent

from shared.core import logs
from shared.core.firestore_events import decode_document_event
from shared.core.function_registry import FunctionKind, FunctionSpec
from shared.core.pubsub_events import MalformedMessage, decode_pubsub_message
from shared.core.settings import get_settings


def handler_of(spec: FunctionSpec) -> Callable[..., Any]:
    """The declared handler ("module:function"), imported now."""
    module, _, name = spec.handler.partition(":")
    handler: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return handler


@cache
def entry_point(spec: FunctionSpec) -> Callable[..., Any]:
    if spec.kind is FunctionKind.HTTP:
        return handler_of(spec)
    decode = decode_document_event if spec.kind is FunctionKind.FIRESTORE else decode_pubsub_message
    # Imported when the entry point is made (the instance's start), not by concurrent first calls.
    handler = handler_of(spec)

    def run(event: CloudEvent) -> None:
        handler(decode(event))

    run.__name__ = run.__qualname__ = spec.name
    return functions_framework.cloud_event(cloudevent_entry(run))


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
