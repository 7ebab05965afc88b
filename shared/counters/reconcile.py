"""The counters check of the reconciliation (shared/webhooks/reconcile.py runs it): `users` and `jobs` are
never deleted by the platform, so the number of their documents (a count() aggregation, one billed read per
1,000 index entries) is the number of creations the shards should hold. A creation whose trigger was lost
for good (exhausted retries, a local host that was down) leaves the shards short; a count repaired while
its trigger was still on its way leaves them one over, until the next check takes it back.

A trigger still on its way is not drift: the check reads the documents and the shards twice, SETTLE_S
apart, and repairs a counter only if neither moved in between (nothing was created, nothing counted) and
they still disagree. The repair is one write: one shard's Increment by the difference (both counters in the
same write when both drifted), logged with the numbers; the fold then carries it into system/config. A
counter that keeps moving (creations all the time) is checked again at the next pass.

Jobs are counted from creations, but the TTL policy deletes test-mode jobs (shared/core/retention.py): fewer
job documents than counted is what that deletion leaves, not drift, so `total_jobs` is only ever repaired
upward. Two checks that overlap (a Scheduler tick delivered twice, a run past its timeout) repair once: the
repair commits together with an update of `system/counter_check` preconditioned on that document as read
when the check began, so the second repair fails its precondition and is dropped."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from google.api_core.exceptions import AlreadyExists, FailedPrecondition
from google.cloud import firestore

from shared.core import logs
from shared.core.clients import firestore_client
from shared.core.settings import get_settings
from shared.counters.group_commit import add_increments
from shared.counters.service import fold_counters, read_totals
from shared.counters.shards import Counter
from shared.models import Account, CounterCheckState, Job, utc_now

SETTLE_S = 10.0
LOCAL_SETTLE_S = 1.0
COUNTED_COLLECTIONS: dict[Counter, str] = {
    Counter.TOTAL_USERS: Account.collection,
    Counter.TOTAL_JOBS: Job.collection,
}


@dataclass(frozen=True)
class CounterCheck:
    documents: dict[Counter, int]  # documents that exist (second reading)
    counted: dict[Counter, int]  # what the shards hold (second reading, before any repair)
    repaired: dict[Counter, int] = field(default_factory=dict)  # amount added to each repaired counter
    moving: list[Counter] = field(default_factory=list)  # changed during the check: left for the next one


def _reading(db: firestore.Client) -> tuple[dict[Counter, int], dict[Counter, int]]:
    documents = {}
    for counter, collection in COUNTED_COLLECTIONS.items():
        results = db.collection(collection).count(alias="n").get()
        documents[counter] = int(results[0][0].value) if results and results[0] else 0
    totals = read_totals(db).as_fields()
    return documents, {counter: totals[counter.value] for counter in COUNTED_COLLECTIONS}


# Counters whose documents only the platform's own code deletes never (users) can be repaired both ways;
# jobs only upward (test jobs expire by TTL).
REPAIRED_UPWARD_ONLY = frozenset({Counter.TOTAL_JOBS})


def repairs_for(
    documents: dict[Counter, int], counted: dict[Counter, int], moving: list[Counter]
) -> dict[Counter, int]:
    """The pure rule: each settled counter that disagrees with its documents, by the difference (a counter
    of deletable documents only when documents exceed it)."""
    repairs: dict[Counter, int] = {}
    for counter in documents:
        if counter in moving or documents[counter] == counted[counter]:
            continue
        difference = documents[counter] - counted[counter]
        if difference < 0 and counter in REPAIRED_UPWARD_ONLY:
            continue
        repairs[counter] = difference
    return repairs


def _check_ref(db: firestore.Client) -> firestore.DocumentReference:
    return db.collection(CounterCheckState.collection).document(CounterCheckState.document_id)


def check_counters(settle_s: float | None = None) -> CounterCheck:
    db = firestore_client()
    if settle_s is None:
        settle_s = SETTLE_S if get_settings().is_production else LOCAL_SETTLE_S
    check_ref = _check_ref(db)
    began = check_ref.get()
    documents_before, counted_before = _reading(db)
    time.sleep(settle_s)  # lets triggers on their way land; not a wait for a server
    documents, counted = _reading(db)
    moving = [
        counter
        for counter in COUNTED_COLLECTIONS
        if documents[counter] != documents_before[counter] or counted[counter] != counted_before[counter]
    ]
    repairs = repairs_for(documents, counted, moving)
    if repairs:
        batch = db.batch()
        add_increments(batch, repairs, db)
        record = CounterCheckState(
            repaired_at=utc_now(), repaired={counter.value: n for counter, n in repairs.items()}
        ).to_firestore()
        if began.exists:
            batch.update(check_ref, record, option=db.write_option(last_update_time=began.update_time))
        else:
            batch.create(check_ref, record)
        try:
            batch.commit()
        except (FailedPrecondition, AlreadyExists):
            logs.warning("counter repair left to an overlapping check that made it first")
            return CounterCheck(documents, counted, {}, moving)
        logs.warning(
            "counter drift repaired",
            **{f"{c.value}_documents": documents[c] for c in repairs},
            **{f"{c.value}_counted": counted[c] for c in repairs},
            **{f"{c.value}_added": n for c, n in repairs.items()},
        )
        fold_counters()
    return CounterCheck(documents, counted, repairs, moving)
