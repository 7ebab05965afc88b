"""The job sweep (`sweep_jobs`, every minute, polling for most of it): every job ends.

A job that is not finished carries `sweep_at`, when the sweep must look at it next; the sweep reads the jobs
whose time has come (shared/core/index_shards.first_over_shards: one query per index shard, merged by time) and does what the pure rule says
(shared/jobs/attempts.sweep_action):
- past its absolute deadline (shared/jobs/attempts.job_deadline), whatever its state or its type's
  document: failed, refunded;
- queued and due (a new job whose publish was lost, a retry whose backoff is over, a job waiting in its
  type's line whose turn may have been lost): handed to the dispatchers again (a duplicate is harmless: the
  type's flow control knows the job, and an attempt is started with a precondition), and its `sweep_at`
  moved on (attempts.republished_sweep_at), so the next pass does not read it again;
- queued past its type's `queue_timeout_s` without a first attempt: failed (expired), refunded;
- running past its attempt's deadline (the dispatcher died mid-attempt): the attempt counts as failed,
  and the next one starts after the backoff, or the job fails when it was the last; the slot the dead
  dispatcher held in its type's flow control is freed.
Each change goes through shared/jobs/lifecycle.py, decided again on the job as read there.

Two small rules of their own come right after the deadline (shared/jobs/callback_rules.py, shared/jobs/notices.py): a callback
attempt past its deadline without its callback has failed; a canceled running job's worker notice is
handed to the dispatchers.
"""

from __future__ import annotations

import contextvars
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from google.cloud import firestore

from shared.core import logs
from shared.core.clients import firestore_client, publisher, topic_path
from shared.core.function_registry import JOBS_TOPIC
from shared.core.index_shards import first_over_shards
from shared.core.pubsub_events import PubSubMessage
from shared.core.settings import get_settings
from shared.jobs import flow
from shared.jobs.attempts import SweepAction, recovery_grace, republished_sweep_at, sweep_action
from shared.jobs.callback_rules import callback_overdue
from shared.jobs.lifecycle import (
    JobNotFound,
    expire_job,
    fail_overdue_callback,
    fail_past_deadline,
    lose_attempt,
    move_sweep_at,
    push_back,
)
from shared.jobs.messages import job_message, publish_dispatches
from shared.jobs.notices import cancel_notice_due, hand_out_cancel_notice
from shared.jobs.service import summary_fields
from shared.jobs.types import stored_job_type
from shared.models import Job, ModelDataError, utc_now

SWEEP_BATCH = 500
# The function is scheduled every minute (timeout 90 s) and polls for SWEEP_RUN_S, a pass every
# SWEEP_POLL_S: the first retry is due 5 s after a failed attempt.
SWEEP_RUN_S = 55.0
SWEEP_POLL_S = 2.5
# A job the sweep cannot read is looked at again after UNREADABLE_PUSH_BACK; one whose handling raised, after
# ITEM_PUSH_BACK.
UNREADABLE_PUSH_BACK = timedelta(hours=1)
ITEM_PUSH_BACK = timedelta(minutes=1)
PUSH_BACK_THREADS = 16


@dataclass
class SweepReport:
    dispatched: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    past_deadline: list[str] = field(default_factory=list)
    callbacks_overdue: list[str] = field(default_factory=list)
    cancel_notices: list[str] = field(default_factory=list)
    pushed_back: list[str] = field(default_factory=list)  # unreadable, or handling them raised

    def acted(self) -> int:
        return (
            len(self.dispatched)
            + len(self.expired)
            + len(self.lost)
            + len(self.past_deadline)
            + len(self.callbacks_overdue)
            + len(self.cancel_notices)
        )

    def __bool__(self) -> bool:
        return bool(self.acted() or self.pushed_back)


def due_jobs(now: datetime, limit: int = SWEEP_BATCH) -> list[Any]:
    """The first `limit` jobs whose `sweep_at` has come, over every shard (shared/core/index_shards.py)."""
    return first_over_shards(lambda shard: _due_query(shard, now), "sweep_at", limit)


def _due_query(shard: int, now: datetime) -> Any:
    # Index: index_shard ASC, sweep_at ASC (the shard prefix keeps one platform-wide timestamp from being a
    # sequential hotspot: shared/core/index_shards.py). Finished jobs have no sweep_at and never match.
    return (
        firestore_client()
        .collection(Job.collection)
        .select(summary_fields())
        .where(filter=firestore.FieldFilter("index_shard", "==", shard))
        .where(filter=firestore.FieldFilter("sweep_at", "<=", now))
        .order_by("sweep_at")
    )


def sweep_jobs(now: datetime | None = None, limit: int = SWEEP_BATCH) -> SweepReport:
    """One pass. `now` decides what is due and what expired (tests pass a later time). Each job is handled
    on its own: one that cannot be read or whose handling raises is logged and pushed back (looked at again
    later), never holding up the jobs due behind it."""
    now = now or utc_now()
    grace = recovery_grace(get_settings().is_production)
    report = SweepReport()
    to_publish: list[tuple[str, Any, datetime]] = []
    unreadable: list[str] = []
    for snapshot in due_jobs(now, limit):
        try:
            job = Job.from_firestore(snapshot.to_dict())
        except (ModelDataError, ValueError, TypeError) as exc:
            logs.error(
                "job document does not fit the Job model; pushed back", job_id=snapshot.id, error=str(exc)
            )
            unreadable.append(snapshot.id)
            continue
        try:
            _handle(snapshot, job, now, grace, report, to_publish)
        except Exception as exc:  # one job's trouble is logged and pushed back; the pass goes on
            logs.error("job sweep could not handle a job; pushed back", job_id=snapshot.id, error=repr(exc))
            _push_back([snapshot.id], now + ITEM_PUSH_BACK, report)
    _push_back(unreadable, now + UNREADABLE_PUSH_BACK, report)
    _hand_in(to_publish, report)
    if report:
        logs.info(
            "job sweep",
            dispatched=len(report.dispatched),
            expired=len(report.expired),
            lost_attempts=len(report.lost),
            past_deadline=len(report.past_deadline),
            callbacks_overdue=len(report.callbacks_overdue),
            cancel_notices=len(report.cancel_notices),
            pushed_back=len(report.pushed_back),
            job_ids=(report.dispatched + report.expired + report.lost + report.past_deadline)[:20],
        )
    return report


def _handle(
    snapshot: Any,
    job: Job,
    now: datetime,
    grace: timedelta,
    report: SweepReport,
    to_publish: list[tuple[str, Any, datetime]],
) -> None:
    action = sweep_action(job, now)
    try:
        if action is SweepAction.DEADLINE:
            if fail_past_deadline(snapshot.id, now=now).changed:
                report.past_deadline.append(snapshot.id)
        elif callback_overdue(job, now):
            if fail_overdue_callback(snapshot.id, now=now).changed:
                report.callbacks_overdue.append(snapshot.id)
        elif cancel_notice_due(job, now):
            if hand_out_cancel_notice(snapshot.id, snapshot.update_time, now):
                report.cancel_notices.append(snapshot.id)
        elif action is SweepAction.DISPATCH:
            to_publish.append((snapshot.id, snapshot.update_time, republished_sweep_at(job, now, grace)))
        elif action is SweepAction.EXPIRE and expire_job(snapshot.id, now=now).changed:
            report.expired.append(snapshot.id)
        elif action is SweepAction.LOST_ATTEMPT and lose_attempt(snapshot.id, now=now).changed:
            report.lost.append(snapshot.id)
            free_lost_slot(snapshot.id, job, now)
    except JobNotFound:
        return


def free_lost_slot(job_id: str, job: Job, now: datetime) -> None:
    """A lost attempt's dispatcher died holding its type's slot: free it now (its lease would free it only at
    the attempt's timeout plus LEASE_GRACE), so the job's retry and the type's next turns are not held up;
    the turns that frees go to their dispatchers."""
    worker = stored_job_type(job.type)
    if worker is None or not flow.available():
        return
    publish_dispatches(flow.release(flow.limits_of(job, worker), job_id, now).granted, turn=True)


def _push_back(job_ids: list[str], until: datetime, report: SweepReport) -> None:
    def one(job_id: str) -> None:
        try:
            push_back(job_id, until)
            report.pushed_back.append(job_id)
        except Exception as exc:  # looked at again on the next pass
            logs.error("job sweep could not push a job back", job_id=job_id, error=repr(exc))

    if job_ids:
        with ThreadPoolExecutor(max_workers=PUSH_BACK_THREADS) as pool:
            # Each in a copy of this context: the project scope (shared/core/clients.py) goes along.
            futures = [pool.submit(contextvars.copy_context().run, one, job_id) for job_id in job_ids]
            for future in futures:
                future.result()


def _hand_in(to_publish: list[tuple[str, Any, datetime]], report: SweepReport) -> None:
    """Publish the due queued jobs to the dispatchers, then move each one's `sweep_at` (so the next pass
    does not read it again); a publish that failed leaves the job due for the next pass."""
    client = publisher()
    sent = [
        (
            job_id,
            read_at,
            sweep_at,
            client.publish(topic_path(JOBS_TOPIC), job_message(job_id), job_id=job_id),
        )
        for job_id, read_at, sweep_at in to_publish
    ]
    for job_id, read_at, sweep_at, future in sent:
        try:
            future.result(timeout=30)
            move_sweep_at(job_id, read_at, sweep_at)
        except Exception as exc:
            logs.error("job sweep could not hand a job in", job_id=job_id, error=repr(exc))
            continue
        report.dispatched.append(job_id)


def sweep_for(run_s: float = SWEEP_RUN_S, poll_s: float = SWEEP_POLL_S) -> int:
    """The scheduled sweep: a pass every `poll_s` for `run_s`; returns how many jobs it acted on."""
    stop_at = time.monotonic() + run_s
    acted = 0
    while True:
        report = sweep_jobs()
        acted += report.acted()
        if time.monotonic() + poll_s >= stop_at:
            return acted
        time.sleep(poll_s)  # polling the jobs' due times, not waiting for a server


def handle_sweep_jobs(message: PubSubMessage) -> int:
    """`sweep_jobs`: a tick (its content does not matter); dead instances' credit leases are settled first."""
    from shared.credits.lease_store import sweep_leases_pass

    sweep_leases_pass()
    return sweep_for()
