"""Counter increments reach `counter_shards/{n}` only through this module: one increment added to a batch
(add_increment, add_increments: a random shard, created on first use), or a group commit of them.

Group commit: the handlers of one instance that count at about the same time share
one batch, so a shard takes one write per group instead of one per event (docs/counters.md, docs/capacity.md).

Each handler brings its event's marker and waits. The first one of a group (the leader) waits up to
`window_s` for others (or until the group is full), then commits one batch: create() of every marker plus
one Increment by the group's size on a random shard. Exactly once stays by construction: the markers and
the increment commit together or not at all. If one marker already exists (a redelivered event), the whole
batch fails with AlreadyExists and writes nothing; the leader then commits each member alone, as before,
and the redelivered one finds its marker. Nobody returns before its own increment is committed, so an
instance that dies loses only events that were not acknowledged (Eventarc redelivers them).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore

from shared.core.clients import current_project, firestore_client
from shared.core.markers import Marker
from shared.core.retry import retry_commit
from shared.counters.shards import Counter, pick_shard_id
from shared.models import CounterShard


def shard_ref(shard_id: str, db: firestore.Client | None = None) -> firestore.DocumentReference:
    return (db or firestore_client()).collection(CounterShard.collection).document(shard_id)


def add_increment(
    batch: firestore.WriteBatch, counter: Counter, db: firestore.Client | None = None, by: int = 1
) -> None:
    """Add `by` to `counter` on a random shard, as part of `batch` (merge: the shard may not exist yet)."""
    add_increments(batch, {counter: by}, db)


def add_increments(
    batch: firestore.WriteBatch, amounts: Mapping[Counter, int], db: firestore.Client | None = None
) -> None:
    """Add each amount (negative ones too: a repair) to its counter, all on one random shard: one write."""
    fields = {counter.value: firestore.Increment(by) for counter, by in amounts.items()}
    batch.set(shard_ref(pick_shard_id(), db), fields, merge=True)


# Markers per batch at most (plus the increment): well under the 500 writes the guide allows in one batch.
MAX_GROUP = 400


@dataclass
class _Group:
    markers: list[Marker] = field(default_factory=list)  # distinct marker ids, in arrival order
    counted: list[bool] = field(default_factory=list)
    error: BaseException | None = None
    full: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


class IncrementGroups:
    """Open groups per (project, counter), one process-wide instance (`increment_groups`)."""

    def __init__(self, window_s: float, max_group: int = MAX_GROUP) -> None:
        self.window_s = window_s
        self.max_group = max_group
        self._lock = threading.Lock()
        self._open: dict[tuple[str, Counter], _Group] = {}
        self.batches = 0  # commits made, for tests and benchmarks: fewer than events when groups form

    def count(self, counter: Counter, marker: Marker) -> bool:
        """Commit one increment of `counter` guarded by `marker`; False when the marker existed already."""
        key = (current_project(), counter)
        with self._lock:
            group = self._open.get(key)
            leader = group is None
            if group is None:
                group = self._open[key] = _Group()
            # The same event twice in one group (concurrent redeliveries): one batch cannot create one
            # document twice, and only one of them may count anyway.
            twin = any(m.marker_id == marker.marker_id for m in group.markers)
            index = len(group.markers)
            if not twin:
                group.markers.append(marker)
            if len(group.markers) >= self.max_group:
                del self._open[key]  # closed: the next handler starts a new group
                group.full.set()
        if leader:
            group.full.wait(self.window_s)
            with self._lock:
                if self._open.get(key) is group:
                    del self._open[key]
            try:
                group.counted = self._commit(counter, group.markers)
            except BaseException as exc:  # every member fails with the leader: none was counted
                group.error = exc
            finally:
                group.done.set()
        else:
            group.done.wait()
        if group.error is not None:
            raise group.error
        return False if twin else group.counted[index]

    def _commit(self, counter: Counter, markers: list[Marker]) -> list[bool]:
        db = firestore_client()

        def together() -> list[bool]:
            batch = db.batch()
            for marker in markers:
                marker.add_to(batch, db)
            add_increment(batch, counter, db, by=len(markers))
            batch.commit()
            self._committed()
            return [True] * len(markers)

        try:
            # An aborted commit wrote nothing: try the same batch again.
            return retry_commit(together, what=f"{counter.value} increments")
        except AlreadyExists:
            pass
        # One of them was counted before (a redelivery): the batch wrote nothing; count each alone.
        return [self._commit_alone(counter, marker, db) for marker in markers]

    def _commit_alone(self, counter: Counter, marker: Marker, db: firestore.Client) -> bool:
        def alone() -> bool:
            batch = db.batch()
            marker.add_to(batch, db)
            add_increment(batch, counter, db)
            try:
                batch.commit()
            except AlreadyExists:
                return False  # this event was counted by an earlier delivery
            self._committed()
            return True

        return retry_commit(alone, what=f"{counter.value} increment")

    def _committed(self) -> None:
        with self._lock:
            self.batches += 1
