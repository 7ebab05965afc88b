"""Platform counters (`total_users`, `total_jobs`, `founding_member_count`): sharded increments, each applied
exactly once per event, folded into `system/config` (design: docs/counters.md).

- An increment is one batch: create(`processed_events/{marker}`) + Increment on a random `counter_shards/{n}`,
  shared by the handlers of one instance counting at about the same time (group commit: one shard write per
  group, shared/counters/group_commit.py). A redelivered event finds its marker and changes nothing; no
  document is read, so concurrent triggers never contend (no transaction, nothing to abort).
- The fold reads all shards and writes their sums into `system/config` with a `last_update_time`
  precondition on the config it read, so a slower fold can never overwrite a newer total with an older one.
- The scheduled `fold_counters` function folds every minute; locally, the functions host also publishes a
  fold soon after the triggers that count (localdev/fold_soon.py).
"""

from __future__ import annotations

from functools import cache

from google.cloud import firestore

from shared.core import logs
from shared.core.clients import firestore_client
from shared.core.firestore_events import DocumentChange
from shared.core.markers import Marker
from shared.core.pubsub_events import PubSubMessage
from shared.core.retry import retry_commit
from shared.core.settings import get_settings
from shared.counters.group_commit import IncrementGroups
from shared.counters.shards import Counter, CounterTotals, marker_id
from shared.models import CounterShard, utc_now
from shared.system.config import config_ref, seed_system_config

FOLD_ATTEMPTS = 50
# How long the first counting handler of a group waits for others (group_commit.py). Production: at 10,000
# creations/s over ~125 instances, 2 batches/s per instance spread over SHARD_COUNT shards is about one
# write per shard per second; each event waits at most this long more. Locally a short window still
# groups a burst.
GROUP_WINDOW_S = 0.5
LOCAL_GROUP_WINDOW_S = 0.02
TRIGGER_SOURCE = "firestore-trigger"


def trigger_marker(marker: str, event_type: str) -> Marker:
    """The marker of an effect of a Firestore trigger event (`marker` from counters.shards.marker_id)."""
    return Marker(marker_id=marker, source=TRIGGER_SOURCE, event_type=event_type)


@cache
def increment_groups() -> IncrementGroups:
    """The instance's group commit of increments (shared/counters/group_commit.py)."""
    window = GROUP_WINDOW_S if get_settings().is_production else LOCAL_GROUP_WINDOW_S
    return IncrementGroups(window)


def count_creation(change: DocumentChange, counter: Counter) -> bool:
    """Count one document creation, once per event id. Returns False when the event was counted before
    or carries no document (the emulator sends empty `created` events for deletes of missing documents)."""
    if change.value is None:
        logs.info("creation event without a document ignored", event_id=change.event_id, doc=change.document)
        return False
    marker = trigger_marker(marker_id(f"count-{counter.value}", change.event_id), change.event_type)
    # False: the marker exists, this event was counted by an earlier delivery.
    return increment_groups().count(counter, marker)


def count_job_created(change: DocumentChange) -> None:
    count_creation(change, Counter.TOTAL_JOBS)


def read_totals(db: firestore.Client | None = None) -> CounterTotals:
    """Exact totals now: the sum of all shards, one `sum()` aggregation query per counter (billed one read
    per 1,000 index entries, not one per shard; no shard document travels to the client).

    One query per counter: a query with several aggregations counts only the documents that hold every
    aggregated field (a shard may hold only some). Founders are read before users: a founder is always
    counted as a user first, so the totals never show more founders than users."""
    db = db or firestore_client()
    shards = db.collection(CounterShard.collection)
    sums: dict[str, int] = {}
    for counter in (Counter.FOUNDING_MEMBER_COUNT, Counter.TOTAL_USERS, Counter.TOTAL_JOBS):
        results = shards.sum(counter.value, alias=counter.value).get()
        sums[counter.value] = int(results[0][0].value or 0) if results and results[0] else 0
    return CounterTotals.from_fields(sums)


def fold_counters() -> CounterTotals:
    """Write the shard sums into system/config (if they differ) and return them. Safe to run concurrently:
    the write is conditional on the config read before the shards, and shards only grow, so every write
    carries totals at least as new as the ones it replaces."""
    db = firestore_client()
    ref = config_ref(db)

    def fold() -> CounterTotals:
        config = ref.get()
        if not config.exists:
            seed_system_config(db)
            config = ref.get()
        totals = read_totals(db)
        if CounterTotals.from_fields(config.to_dict() or {}) == totals:
            return totals
        # Conditional on the config read: if another fold or a maintenance toggle wrote since, read again.
        ref.update(
            {**totals.as_fields(), "updated_at": utc_now()},
            option=db.write_option(last_update_time=config.update_time),
        )
        return totals

    return retry_commit(
        fold, what="system/config while folding the counters", max_attempts=FOLD_ATTEMPTS, step=0.01, cap=0.2
    )


def handle_fold_counters(message: PubSubMessage) -> CounterTotals:
    """`fold_counters`: the message only says "fold now"; its content does not matter."""
    return fold_counters()
