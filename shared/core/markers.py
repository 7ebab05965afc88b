"""The one exactly-once marker: `processed_events/{marker_id}`, created with `create()` in the same batch as
the effect it guards, so an event is either applied together with its marker or not at all, and a second
delivery fails on the marker (AlreadyExists) instead of applying the effect again."""

from __future__ import annotations

from dataclasses import dataclass

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore

from shared.core.clients import firestore_client
from shared.core.retry import retry_commit
from shared.models import ProcessedEvent, utc_now


@dataclass(frozen=True)
class Marker:
    marker_id: str  # the document id: the source's prefix and the event's own id (e.g. `stripe:evt_...`)
    source: str  # who applies the effect: `stripe`, `ledger`, `firestore-trigger`, `usage-flush`
    event_type: str

    def ref(self, db: firestore.Client | None = None) -> firestore.DocumentReference:
        return (db or firestore_client()).collection(ProcessedEvent.collection).document(self.marker_id)

    def exists(self, db: firestore.Client | None = None) -> bool:
        return bool(self.ref(db).get().exists)

    def add_to(self, batch: firestore.WriteBatch, db: firestore.Client | None = None) -> None:
        record = ProcessedEvent(source=self.source, event_type=self.event_type, created_at=utc_now())
        batch.create(self.ref(db), record.to_firestore())

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


def add_marker(
    batch: firestore.WriteBatch, marker: Marker | None, db: firestore.Client | None = None
) -> None:
    """Add the marker to the batch, when the write is driven by an event at all."""
    if marker is not None:
        marker.add_to(batch, db)
