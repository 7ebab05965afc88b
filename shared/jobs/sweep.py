"""The job sweep (`sweep_jobs`, every minute, polling for most of it): every job ends.

A job that is not finished carries `sweep_at`, when the sweep must look at it next; the sweep reads the jobs
whose time has come (shared/core/index_shards.first_over_shards: one query per index shard, merged by time) and does what the pure rule says
(shared/jobs/attempts.sweep_action):
- queued and due (a new job whose publish was lost, a retry whose backoff is over): published to the
  dispatchers again (a duplicate is harmless: an attempt is started with a precondition);
- queued past its type's `queue_timeout_s` without a first attempt: failed (expired), refunded;
- running past its attempt's deadline (the dispatcher died mid-attempt): the attempt counts as failed,
  and the next one starts after the backoff, or the job fails when it was the last.
Each change goes through shared/jobs/lifecycle.py, decided again on the job as read there.

Two small rules of their own come first (shared/jobs/callback_rules.py, shared/jobs/notices.py): a callback
attempt past its deadline without its callback has failed; a canceled running job's worker notice is
handed to the dispatchers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from google.cloud import firestore

from shared.core import logs
from shared.core.clients import firestore_client
from shared.core.index_shards import first_over_shards
from shared.core.pubsub_events import PubSubMessage
from shared.credits.lease_store import sweep_leases
from shared.jobs.attempts import SweepAction, sweep_action
from shared.jobs.callback_rules import callback_overdue
from shared.jobs.lanes import publish_dispatches
from shared.jobs.lifecycle import JobNotFound, expire_job, fail_overdue_callback, lose_attempt
from shared.jobs.notices import cancel_notice_due, hand_out_cancel_notice
from shared.jobs.service import summary_fields
from shared.models import Job, ModelDataError, utc_now

SWEEP_BATCH = 500
# The function is scheduled every minute (timeout 90 s) and polls for SWEEP_RUN_S, a pass every
# SWEEP_POLL_S: the first retry is due 5 s after a failed attempt.
SWEEP_RUN_S = 55.0
SWEEP_POLL_S = 2.5


@dataclass
class SweepReport:
    dispatched: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    callbacks_overdue: list[str] = field(default_factory=list)
    cancel_notices: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.dispatched or self.expired or self.lost or self.callbacks_overdue or self.cancel_notices
        )


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
    """One pass. `now` decides what is due and what expired (tests pass a later time)."""
    now = now or utc_now()
    report = SweepReport()
    to_publish: list[tuple[str, str]] = []
    for snapshot in due_jobs(now, limit):
        try:
            job = Job.from_firestore(snapshot.to_dict())
        except ModelDataError as exc:
            logs.error("job document does not fit the Job model", job_id=snapshot.id, error=str(exc))
            continue
        if _callback_or_notice(snapshot, job, now, report):
            continue
        action = sweep_action(job, now)
        try:
            if action is SweepAction.DISPATCH:
                report.dispatched.append(snapshot.id)
                to_publish.append((snapshot.id, job.type))
            elif action is SweepAction.EXPIRE and expire_job(snapshot.id, now=now).changed:
                report.expired.append(snapshot.id)
            elif action is SweepAction.LOST_ATTEMPT and lose_attempt(snapshot.id, now=now).changed:
                report.lost.append(snapshot.id)
        except JobNotFound:
            continue
    publish_dispatches(to_publish)
    _sweep_leases(now)
    if report:
        logs.info(
            "job sweep",
            dispatched=len(report.dispatched),
            expired=len(report.expired),
            lost_attempts=len(report.lost),
            callbacks_overdue=len(report.callbacks_overdue),
            cancel_notices=len(report.cancel_notices),
            job_ids=(report.dispatched + report.expired + report.lost)[:20],
        )
    return report


LEASE_SWEEP_EVERY_S = 5.0
_lease_sweep_after = 0.0


def _sweep_leases(now: datetime) -> None:
    """Dead instances' credit leases and unfolded returns (shared/credits/lease_store.py), at most every
    LEASE_SWEEP_EVERY_S per instance: a lease waits SWEEP_GRACE past its expiry anyway."""
    global _lease_sweep_after
    if time.monotonic() < _lease_sweep_after:
        return
    _lease_sweep_after = time.monotonic() + LEASE_SWEEP_EVERY_S
    try:
        settled = sweep_leases(now)
    except Exception as exc:  # the next pass tries again; the job sweep itself must go on
        logs.warning("lease sweep failed", error=repr(exc))
        return
    if settled:
        logs.info("lease sweep", settlements=settled)


def _callback_or_notice(snapshot: Any, job: Job, now: datetime, report: SweepReport) -> bool:
    """The callback deadline and cancel notice rules; True when one of them applied to the job."""
    try:
        if callback_overdue(job, now):
            if fail_overdue_callback(snapshot.id, now=now).changed:
                report.callbacks_overdue.append(snapshot.id)
            return True
        if cancel_notice_due(job, now):
            if hand_out_cancel_notice(snapshot.id, snapshot.update_time, now):
                report.cancel_notices.append(snapshot.id)
            return True
    except JobNotFound:
        return True
    except Exception as exc:  # one bad item is logged and skipped, never stops the pass
        logs.error("job sweep item failed", job_id=snapshot.id, error=repr(exc))
        return True
    return False


def sweep_for(run_s: float = SWEEP_RUN_S, poll_s: float = SWEEP_POLL_S) -> int:
    """The scheduled sweep: a pass every `poll_s` for `run_s`; returns how many jobs it acted on."""
    stop_at = time.monotonic() + run_s
    acted = 0
    while True:
        report = sweep_jobs()
        acted += len(report.dispatched) + len(report.expired) + len(report.lost)
        acted += len(report.callbacks_overdue) + len(report.cancel_notices)
        if time.monotonic() + poll_s >= stop_at:
            return acted
        time.sleep(poll_s)  # polling the jobs' due times, not waiting for a server


def handle_sweep_jobs(message: PubSubMessage) -> int:
    """`sweep_jobs`: a tick (its content does not matter)."""
    return sweep_for()
