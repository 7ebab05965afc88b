"""Reconciliation: redo what a trigger should have done and may not have. Production retries a failed trigger
for a while, then gives up; a function can be mis-deployed; locally a trigger call the Firestore emulator
sent while the host was down is lost. The scheduled function `reconcile` (every 5 minutes; every 30 s under
`make dev`) makes the platform converge anyway (docs/reliability.md):

1. Finished jobs without their webhook event: the jobs that finished since the last pass (per index shard,
   from `system/reconciliation`) are read page by page and the events of their ids looked up; a missing
   one is created by the same `create_job_event` the trigger calls. The event id is the job's and the
   status's, and it is made with create(), so a trigger running at the same moment and the reconciliation
   make one event between them (idempotent by construction). Jobs that finished less than the grace ago
   are left to their trigger.
2. The platform counters (shared/counters/reconcile.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from google.cloud import firestore

from shared.core import logs
from shared.core.clients import firestore_client
from shared.core.index_shards import INDEX_SHARDS
from shared.core.pagination import Snapshot
from shared.core.pubsub_events import PubSubMessage
from shared.core.settings import get_settings
from shared.counters.reconcile import CounterCheck, check_counters
from shared.jobs.lifecycle import TERMINAL_STATUSES
from shared.models import Job, ModelDataError, ReconciliationState, utc_now
from shared.webhooks.events import create_job_event, event_ref, job_event_id

# A finished job's trigger normally makes its event within a second; production retries a failing one
# for longer, and the event is then made by whichever comes first.
JOB_EVENTS_GRACE = timedelta(minutes=2)
LOCAL_JOB_EVENTS_GRACE = timedelta(seconds=5)
# Where a shard's first pass starts (a new deployment, a new shard).
FIRST_LOOKBACK = timedelta(hours=24)
PAGE = 200
# Pages per shard per pass at most (the next pass carries on from where this one stopped).
MAX_PAGES = 20


@dataclass(frozen=True)
class Reconciliation:
    jobs_checked: int
    job_events_created: list[str]
    counters: CounterCheck


def state_ref() -> firestore.DocumentReference:
    return (
        firestore_client()
        .collection(ReconciliationState.collection)
        .document(ReconciliationState.document_id)
    )


def job_events_grace() -> timedelta:
    return JOB_EVENTS_GRACE if get_settings().is_production else LOCAL_JOB_EVENTS_GRACE


def create_missing_job_events(
    now: datetime | None = None, grace: timedelta | None = None
) -> tuple[int, list[str]]:
    """Check every job finished since the last pass (up to `now - grace`) for its event; create the
    missing ones. Returns how many jobs were checked and the events created."""
    now = now or utc_now()
    until = now - (job_events_grace() if grace is None else grace)
    snapshot = state_ref().get()
    state = (
        ReconciliationState.from_firestore(snapshot.to_dict()) if snapshot.exists else ReconciliationState()
    )
    reached = dict(state.job_events_checked_until)
    checked = 0
    created: list[str] = []
    for shard in range(INDEX_SHARDS):
        since = reached.get(str(shard), now - FIRST_LOOKBACK)
        for _ in range(MAX_PAGES):
            page = _finished_page(shard, since, until)
            checked += len(page)
            created += _create_missing(page)
            if page:
                # Inclusive next time: a job finished at the very same instant is checked again, never skipped.
                since = page[-1].get("finished_at")
            if len(page) < PAGE:
                since = max(since, until)
                break
        reached[str(shard)] = since
    if reached != state.job_events_checked_until:
        state_ref().set(ReconciliationState(job_events_checked_until=reached).to_firestore())
    if created:
        logs.warning(
            "reconciliation created missing job webhook events", count=len(created), event_ids=created[:20]
        )
    return checked, created


def _finished_page(shard: int, since: datetime, until: datetime) -> list[Snapshot]:
    # Index: index_shard ASC, finished_at ASC (only finished jobs have finished_at).
    query = (
        firestore_client()
        .collection(Job.collection)
        .where(filter=firestore.FieldFilter("index_shard", "==", shard))
        .where(filter=firestore.FieldFilter("finished_at", ">=", since))
        .where(filter=firestore.FieldFilter("finished_at", "<=", until))
        .order_by("finished_at")
        .limit(PAGE)
    )
    return list(query.stream())


def _create_missing(page: list[Snapshot]) -> list[str]:
    jobs: dict[str, tuple[str, Job]] = {}
    for snapshot in page:
        try:
            job = Job.from_firestore(snapshot.to_dict())
        except ModelDataError as exc:
            logs.error("job document does not fit the Job model", job_id=snapshot.id, error=str(exc))
            continue
        if job.status in TERMINAL_STATUSES:
            jobs[job_event_id(snapshot.id, job.status)] = (snapshot.id, job)
    if not jobs:
        return []
    existing = {s.id for s in firestore_client().get_all([event_ref(e) for e in jobs]) if s.exists}
    return [create_job_event(*jobs[event_id]) for event_id in jobs if event_id not in existing]


def reconcile(now: datetime | None = None, grace: timedelta | None = None) -> Reconciliation:
    checked, created = create_missing_job_events(now, grace)
    return Reconciliation(checked, created, check_counters())


def handle_reconcile(message: PubSubMessage) -> Reconciliation:
    """`reconcile`: a tick (its content does not matter)."""
    return reconcile()
