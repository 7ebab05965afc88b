"""Writing to the counter shards: the one way an increment reaches `counter_shards/{n}` (a random shard,
created on first use), used by the group commit and by the founding-member batch."""

from __future__ import annotations

from collections.abc import Mapping

from google.cloud import firestore

from shared.core.clients import firestore_client
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
