"""Test-only functions the host serves beside the platform's: they record exactly what they receive."""

from __future__ import annotations

import functions_framework
from cloudevents.http.event import CloudEvent

from shared.core.clients import firestore_client
from shared.core.firestore_events import decode_document_event
from shared.core.function_registry import FirestoreEventType, FunctionKind, FunctionSpec
from shared.core.pubsub_events import decode_pubsub_message

PROBE_TOPIC = "probe-topic"
FUNCTIONS = (
    FunctionSpec(
        "probe_document_written",
        "probe_document_written",
        FunctionKind.FIRESTORE,
        document="probes/{probeId}",
        event_type=FirestoreEventType.WRITTEN,
    ),
    FunctionSpec("probe_message", "probe_message", FunctionKind.PUBSUB, topic=PROBE_TOPIC),
)


def _attributes(event: CloudEvent) -> dict[str, str]:
    return {k: str(v) for k, v in event.get_attributes().items()}


@functions_framework.cloud_event
def probe_document_written(event: CloudEvent) -> None:
    change = decode_document_event(event)
    firestore_client().collection("probe_events").document(change.event_id).set(
        {
            "attributes": _attributes(event),
            "document": change.document,
            "value": change.value,
            "old_value": change.old_value,
        }
    )


@functions_framework.cloud_event
def probe_message(event: CloudEvent) -> None:
    message = decode_pubsub_message(event)
    firestore_client().collection("probe_events").document("msg-" + message.message_id).set(
        {
            "attributes": _attributes(event),
            "data": message.data.decode(),
            "message_attributes": message.attributes,
            "topic": message.topic,
        }
    )
