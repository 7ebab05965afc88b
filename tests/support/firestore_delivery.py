"""Deliver Firestore CloudEvents to the functions host exactly as the Firestore emulator does (binary mode,
base64 text of a DocumentEventData protobuf, `projects/` twice in ce-source; see
tests/fixtures/emulator-samples/fs_v2_jobs_written_update.json, an update), to replay or duplicate a delivery."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any

import requests
from google.events.cloud.firestore import Document, DocumentEventData, Value

from localdev.wiring import register_firestore_triggers
from shared.core.function_registry import FirestoreEventType, FunctionSpec, by_name
from tests.support.waiting import eventually


def _value(value: Any) -> Value:
    if value is None:
        return Value(null_value=0)
    if isinstance(value, bool):
        return Value(boolean_value=value)
    if isinstance(value, int):
        return Value(integer_value=value)
    if isinstance(value, float):
        return Value(double_value=value)
    if isinstance(value, str):
        return Value(string_value=value)
    if isinstance(value, datetime):
        return Value(timestamp_value=value)
    raise TypeError(f"no Value for {type(value).__name__}")


def created_event(
    project: str, document: str, fields: dict[str, Any], event_id: str | None = None
) -> tuple[dict[str, str], bytes]:
    """Headers and body of a `document.v1.created` delivery, as the emulator sends them."""
    now = datetime.now(UTC)
    data = DocumentEventData(
        value=Document(
            name=f"projects/{project}/databases/(default)/documents/{document}",
            fields={k: _value(v) for k, v in fields.items()},
            create_time=now,
            update_time=now,
        )
    )
    body = base64.b64encode(DocumentEventData.serialize(data))
    headers = {
        "ce-specversion": "1.0",
        "ce-type": FirestoreEventType.CREATED.value,
        "ce-source": f"//firestore.googleapis.com/projects/projects/{project}/databases/(default)",
        "ce-id": event_id or str(uuid.uuid4()),
        "ce-subject": f"documents/{document}",
        "ce-time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ce-datacontenttype": "application/protobuf",
        "ce-dataschema": "https://github.com/googleapis/google-cloudevents/blob/main/proto/google/events/cloud/firestore/v1/data.proto",
        "ce-location": "us-central1",
        "ce-project": project,
        "ce-database": "(default)",
        "ce-namespace": "(default)",
        "ce-document": document,
        "Content-Type": "application/protobuf",
    }
    return headers, body


def deliver(host_url: str, project: str, trigger: str, headers: dict[str, str], body: bytes) -> int:
    """POST one delivery to the host's trigger URL; the host answers once the function has run, as Cloud
    Functions does: returns the function's HTTP status."""
    response = requests.post(
        f"{host_url}/functions/projects/{project}/triggers/{trigger}", headers=headers, data=body, timeout=90
    )
    return response.status_code


def wait_for_trigger_calls(host_url: str) -> None:
    """Wait until no trigger call the host has accepted so far is running or waiting for a retry. Together
    with a later probe document whose trigger has run (the emulator hands calls over in order, each after
    the last one's answer), this means every earlier write's triggers have run."""

    def settled() -> bool:
        status = requests.get(f"{host_url}/_host/triggers", timeout=10).json()
        return bool(status["pending"] == 0 and status["retrying"] == 0)

    eventually(settled, message="the host's trigger calls have run")


def detach_trigger(firestore_host: str, project: str, trigger: str) -> None:
    """Point a trigger of this project at an unused collection (triggers cannot be deleted, only replaced),
    so that the test alone delivers its events."""
    spec = by_name(trigger)
    detached = FunctionSpec(
        spec.name,
        spec.handler,
        spec.kind,
        document="detached_triggers/{docId}",
        event_type=spec.event_type,
    )
    register_firestore_triggers(firestore_host, project, [detached])


def reattach_trigger(firestore_host: str, project: str, trigger: str) -> None:
    """Point a detached trigger of this project back at its own documents."""
    register_firestore_triggers(firestore_host, project, [by_name(trigger)])
