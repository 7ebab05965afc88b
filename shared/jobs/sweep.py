"""Recovery path for the hand-off to workers: republish jobs still `queued` a while after creation, and jobs
left `running` longer than STALE_RUNNING_AFTER (locally LOCAL_STALE_RUNNING_AFTER).

`on_job_created` publishes every new job, and production retries that trigger until it succeeds; this
sweep covers what a trigger cannot: a trigger delivery dropped for good (the emulator never retries, and
production gives up after its retry window), and a worker that died (or whose message was lost) after
moving the job to running. Republishing is safe because workers treat a duplicate message as a no-op and
resume a running job only once it is stale, claimed with a precondition (shared/jobs/lifecycle.claim_stale_run).
Only jobs created (queued) or started (running) less than MAX_AGE ago are considered, so a job whose type
no worker serves is not republished forever.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from google.cloud import firestore

from shared.core import logs
from shared.core.clients import firestore_client, publish
from shared.core.function_registry import JOBS_TOPIC
from shared.core.index_shards import first_over_shards
from shared.core.pubsub_events import PubSubMessage
from shared.core.settings import get_settings
from shared.jobs.lifecycle import stale_running_after
from shared.models import Job, JobStatus, utc_now

MIN_AGE = timedelta(minutes=2)
# The local platform sweeps every 15 s (localdev/scheduler.py): a job whose trigger call was lost waits
# about that long, not minutes. A job requeued while its trigger was only late is run once all the same.
LOCAL_MIN_AGE = timedelta(seconds=10)
MAX_AGE = timedelta(hours=24)
MAX_PER_SWEEP = 500


def republish_stale_jobs(now: datetime | None = None, limit: int = MAX_PER_SWEEP) -> list[str]:
    now = now or utc_now()
    min_age = MIN_AGE if get_settings().is_production else LOCAL_MIN_AGE
    stale = _stale_job_ids(JobStatus.QUEUED, "created_at", now - MAX_AGE, now - min_age, limit)
    stale += _stale_job_ids(
        JobStatus.RUNNING, "started_at", now - MAX_AGE, now - stale_running_after(), limit - len(stale)
    )
    for job_id in stale:
        publish(JOBS_TOPIC, json.dumps({"job_id": job_id}).encode(), job_id=job_id)
    if stale:
        logs.warning("republished stale jobs", count=len(stale), job_ids=stale[:20])
    return stale


def _stale_job_ids(
    status: JobStatus, since_field: str, oldest: datetime, newest: datetime, limit: int
) -> list[str]:
    """The oldest stale jobs over every index shard; what is left over is picked up by the next sweep."""
    found = first_over_shards(
        lambda shard: _stale_query(shard, status, since_field, oldest, newest), since_field, limit
    )
    return [snapshot.id for snapshot in found]


def _stale_query(shard: int, status: JobStatus, since_field: str, oldest: datetime, newest: datetime) -> Any:
    # Indexes: index_shard, status, created_at and index_shard, status, started_at (all ASC): the shard
    # prefix keeps platform-wide timestamps from being one sequential hotspot (shared/core/index_shards.py).
    return (
        firestore_client()
        .collection(Job.collection)
        .where(filter=firestore.FieldFilter("index_shard", "==", shard))
        .where(filter=firestore.FieldFilter("status", "==", status.value))
        .where(filter=firestore.FieldFilter(since_field, ">=", oldest))
        .where(filter=firestore.FieldFilter(since_field, "<=", newest))
        .order_by(since_field)
    )


def handle_requeue_stale_jobs(message: PubSubMessage) -> list[str]:
    """`requeue_stale_jobs`: a tick (its content does not matter)."""
    return republish_stale_jobs()
