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

import contextvars
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
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
from shared.jobs.service import job_ref
from shared.models import Job, JobStatus, ModelDataError, ReconciliationState, utc_now
from shared.webhooks.events import create_job_event, event_ref, job_event_id

# A finished job's trigger normally makes its event within a second; production retries a failing one
# for longer, and the event is then made by whichever comes first.
JOB_EVENTS_GRACE = timedelta(minutes=2)
LOCAL_JOB_EVENTS_GRACE = timedelta(seconds=5)
# Where a shard's first pass starts (a new deployment, a new shard).
FIRST_LOOKBACK = timedelta(hours=24)
PAGE = 500
# Shards are checked this many at a time; a pass stops starting pages after PASS_BUDGET_S (the function's
# timeout is 300 s) and the next pass carries on from each shard's saved progress. On paper (docs/reliability.md,
# "Reconciliation"): a page is one projected query of 500 small documents and one batched read of 500 event
# ids, ~0.3 s together, so one worker checks ~1,600 finished jobs/s and 8 ~13,000/s: a pass every 5 min
# keeps up with 10,000 jobs finishing per second (3,000,000 per pass) with room to catch up.
SHARD_WORKERS = 8
PASS_BUDGET_S = 200.0
# What a page reads of each job (a projection): never input or result.
_PAGE_FIELDS = ["status", "finished_at", "user_id"]


@dataclass(frozen=True)
class Reconciliation:
    jobs_checked: int
    job_events_created: list[str]
    counters: CounterCheck


@dataclass
class _ShardPass:
    checked: int = 0
    created: list[str] = field(default_factory=list)
    failed: int = 0  # jobs that raised (logged and skipped)


def state_ref() -> firestore.DocumentReference:
    return (
        firestore_client()
        .collection(ReconciliationState.collection)
        .document(ReconciliationState.document_id)
    )


def job_events_grace() -> timedelta:
    return JOB_EVENTS_GRACE if get_settings().is_production else LOCAL_JOB_EVENTS_GRACE


def create_missing_job_events(
    now: datetime | None = None, grace: timedelta | None = None, budget_s: float = PASS_BUDGET_S
) -> tuple[int, list[str]]:
    """Check every job finished since the last pass (up to `now - grace`) for its event; create the
    missing ones. Returns how many jobs were checked and the events created.

    Each shard saves its own progress when its pass ends; a job that raises is logged and skipped (the
    shard goes on). Two overlapping passes create nothing twice: an event is made with create()."""
    now = now or utc_now()
    until = now - (job_events_grace() if grace is None else grace)
    snapshot = state_ref().get()
    state = _state(snapshot.to_dict() if snapshot.exists else None)
    stop_at = time.monotonic() + budget_s

    def run(shard: int) -> _ShardPass:
        since = state.job_events_checked_until.get(str(shard), now - FIRST_LOOKBACK)
        return _check_shard(shard, since, until, stop_at)

    with ThreadPoolExecutor(max_workers=SHARD_WORKERS) as pool:
        # Each shard's pass runs in a copy of this context (the project it works for included).
        futures = [pool.submit(contextvars.copy_context().run, run, shard) for shard in range(INDEX_SHARDS)]
        passes = [future.result() for future in futures]
    created = [event_id for shard_pass in passes for event_id in shard_pass.created]
    failed = sum(shard_pass.failed for shard_pass in passes)
    if created:
        logs.warning(
            "reconciliation created missing job webhook events", count=len(created), event_ids=created[:20]
        )
    if failed:
        logs.error("reconciliation skipped jobs that raised", count=failed)
    return sum(shard_pass.checked for shard_pass in passes), created


def _state(data: dict[str, object] | None) -> ReconciliationState:
    if data is None:
        return ReconciliationState()
    try:
        return ReconciliationState.from_firestore(data)
    except ModelDataError as exc:
        logs.error("system/reconciliation is malformed; starting every shard afresh", error=str(exc))
        return ReconciliationState()


def _check_shard(shard: int, since: datetime, until: datetime, stop_at: float) -> _ShardPass:
    shard_pass = _ShardPass()
    start = since
    try:
        while True:
            page = _finished_page(shard, since, until)
            shard_pass.checked += len(page)
            _create_missing(page, shard_pass)
            if page:
                # Inclusive next time: a job finished at the very same instant is checked again, never skipped.
                since = page[-1].get("finished_at")
            if len(page) < PAGE:
                since = max(since, until)
                break
            if time.monotonic() >= stop_at:
                break
    except Exception as exc:  # a page that cannot be read: this shard stops here, the others go on
        logs.exception("reconciliation of a jobs shard failed", exc, shard=shard)
    if since != start:
        # This shard's progress alone (a field of the map): passes of other shards, and a pass overlapping
        # this one, keep theirs; an older value written late only makes a later pass check again.
        state_ref().set({"job_events_checked_until": {str(shard): since}}, merge=True)
    return shard_pass


def _finished_page(shard: int, since: datetime, until: datetime) -> list[Snapshot]:
    # Index: index_shard ASC, finished_at ASC (only finished jobs have finished_at).
    query = (
        firestore_client()
        .collection(Job.collection)
        .select(_PAGE_FIELDS)
        .where(filter=firestore.FieldFilter("index_shard", "==", shard))
        .where(filter=firestore.FieldFilter("finished_at", ">=", since))
        .where(filter=firestore.FieldFilter("finished_at", "<=", until))
        .order_by("finished_at")
        .limit(PAGE)
    )
    return list(query.stream())


def _create_missing(page: list[Snapshot], shard_pass: _ShardPass) -> None:
    """The page's finished jobs whose event is missing get it; each job apart (one that raises is logged
    and skipped). Only those few are read whole (the event carries the job's input and result)."""
    expected: dict[str, str] = {}  # event id -> job id
    for snapshot in page:
        status = (snapshot.to_dict() or {}).get("status")
        if status in {s.value for s in TERMINAL_STATUSES}:
            expected[job_event_id(snapshot.id, JobStatus(status))] = snapshot.id
    if not expected:
        return
    db = firestore_client()
    existing = {s.id for s in db.get_all([event_ref(e) for e in expected]) if s.exists}
    missing = [job_id for event_id, job_id in expected.items() if event_id not in existing]
    if not missing:
        return
    for snapshot in db.get_all([job_ref(job_id) for job_id in missing]):
        try:
            if not snapshot.exists:
                continue  # deleted meanwhile (a test job's TTL)
            job = Job.from_firestore(snapshot.to_dict())
            if job.status in TERMINAL_STATUSES:
                shard_pass.created.append(create_job_event(snapshot.id, job))
        except ModelDataError as exc:
            shard_pass.failed += 1
            logs.error("job document does not fit the Job model", job_id=snapshot.id, error=str(exc))
        except Exception as exc:  # one job's failure (a publish, a write) never stops the pass
            shard_pass.failed += 1
            logs.exception("reconciling a job's webhook event failed", exc, job_id=snapshot.id)


def reconcile(now: datetime | None = None, grace: timedelta | None = None) -> Reconciliation:
    checked, created = create_missing_job_events(now, grace)
    return Reconciliation(checked, created, check_counters())


def handle_reconcile(message: PubSubMessage) -> Reconciliation:
    """`reconcile`: a tick (its content does not matter)."""
    return reconcile()
