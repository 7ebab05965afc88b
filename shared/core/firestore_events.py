"""Decode Firestore CloudEvents (google.events DocumentEventData protobuf) into plain Python values.

The values come out as the Firestore client returns them (datetimes in UTC, nested dicts and lists,
references as document paths), so the same model `from_firestore` conversions apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cloudevents.http.event import CloudEvent
from google.events.cloud.firestore import DocumentEventData


@dataclass(frozen=True)
class DocumentChange:
    event_id: str
    event_type: str
    document: str  # path relative to the database root, e.g. "jobs/job1"
    value: dict[str, Any] | None  # None when the document was deleted (or never existed)
    old_value: dict[str, Any] | None  # None when the document was created
    update_time: datetime | None

    @property
    def document_id(self) -> str:
        return self.document.rsplit("/", 1)[-1]


def _timestamp(ts: Any) -> datetime:
    return datetime.fromtimestamp(ts.seconds, UTC).replace(microsecond=ts.nanos // 1000)


def decode_value(value: Any) -> Any:
    kind = value.WhichOneof("value_type")
    if kind is None or kind == "null_value":
        return None
    if kind == "timestamp_value":
        return _timestamp(value.timestamp_value)
    if kind == "map_value":
        return {k: decode_value(v) for k, v in value.map_value.fields.items()}
    if kind == "array_value":
        return [decode_value(v) for v in value.array_value.values]
    if kind == "reference_value":
        # "projects/p/databases/(default)/documents/users/alice" -> "users/alice"
        return str(value.reference_value).split("/documents/", 1)[-1]
    if kind == "geo_point_value":
        return {"latitude": value.geo_point_value.latitude, "longitude": value.geo_point_value.longitude}
    return getattr(value, kind)


def _document_fields(document: Any) -> dict[str, Any] | None:
    if not document.name:
        return None
    return {k: decode_value(v) for k, v in document.fields.items()}


def decode_document_event(event: CloudEvent) -> DocumentChange:
    data = event.data
    if isinstance(data, str):
        data = data.encode("latin-1")
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"expected protobuf bytes in the event data, got {type(data).__name__}")
    message = DocumentEventData.pb()()
    message.ParseFromString(bytes(data))
    value = _document_fields(message.value) if message.HasField("value") else None
    old_value = _document_fields(message.old_value) if message.HasField("old_value") else None
    subject = str(event.get("subject") or "")
    document = str(event.get("document") or subject.removeprefix("documents/"))
    update_time = _timestamp(message.value.update_time) if value is not None else None
    return DocumentChange(
        event_id=str(event["id"]),
        event_type=str(event["type"]),
        document=document,
        value=value,
        old_value=old_value,
        update_time=update_time,
    )
