"""Exactly-once markers for Stripe events: `processed_events/stripe:{event_id}`, created in the same batch
as the event's effect, so an event is either applied with its marker or not at all."""

from __future__ import annotations

from dataclasses import dataclass

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore

from shared.core.clients import firestore_client
from shared.core.retry import retry_commit
from shared.models import ProcessedEvent, utc_now


@dataclass(frozen=True)
class EventMarker:
    event_id: str
    event_type: str

    @property
    def marker_id(self) -> str:
        return f"stripe:{self.event_id}"

    def ref(self) -> firestore.DocumentReference:
        return firestore_client().collection(ProcessedEvent.collection).document(self.marker_id)

    def exists(self) -> bool:
        return bool(self.ref().get().exists)

    def add_to(self, batch: firestore.WriteBatch) -> None:
        marker = ProcessedEvent(source="stripe", event_type=self.event_type, created_at=utc_now())
        batch.create(self.ref(), marker.to_firestore())

    def record_alone(self) -> None:
        """For events whose effect was already made (or that have none): mark them seen."""

        def attempt() -> None:
            try:
                batch = firestore_client().batch()
                self.add_to(batch)
                batch.commit()
            except AlreadyExists:
                pass

        retry_commit(attempt, what=f"marker {self.marker_id}")  # an aborted commit wrote nothing


def add_marker(batch: firestore.WriteBatch, marker: EventMarker | None) -> None:
    if marker is not None:
        marker.add_to(batch)
