"""Recovery path for the hand-off to workers: republish jobs still `queued` a while after creation.

`on_job_created` publishes every new job, and production retries that trigger until it succeeds; this
sweep covers what a trigger cannot: a trigger delivery dropped for good (the emulator never retries, and
production gives up after its retry window). Republishing is safe because workers treat a duplicate
message as a no-op. Only jobs between MIN_AGE and MAX_AGE old are considered, so a job whose type no
worker serves is not republished forever.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from google.cloud import firestore

from shared import logs
from shared.clients import firestore_client, publish
from shared.function_registry import JOBS_TOPIC
from shared.models import Job, JobStatus, utc_now

MIN_AGE = timedelta(minutes=2)
MAX_AGE = timedelta(hours=24)
MAX_PER_SWEEP = 500


def republish_stale_jobs(now: datetime | None = None, limit: int = MAX_PER_SWEEP) -> list[str]:
    now = now or utc_now()
    # Index: status ASC, created_at ASC (firestore.indexes.json).
    query = (
        firestore_client()
        .collection(Job.collection)
        .where(filter=firestore.FieldFilter("status", "==", JobStatus.QUEUED.value))
        .where(filter=firestore.FieldFilter("created_at", ">=", now - MAX_AGE))
        .where(filter=firestore.FieldFilter("created_at", "<=", now - MIN_AGE))
        .order_by("created_at")
        .limit(limit)
    )
    republished: list[str] = []
    for snapshot in query.stream():
        publish(JOBS_TOPIC, json.dumps({"job_id": snapshot.id}).encode(), job_id=snapshot.id)
        republished.append(snapshot.id)
    if republished:
        logs.warning("republished stale queued jobs", count=len(republished), job_ids=republished[:20])
    return republished
