"""Cancel notices on their way to the dispatchers: a canceled running job carries `cancel_notice_attempt`
and a due `sweep_at`; the job sweep publishes `{"job_id", "notice": "cancel"}` to the `jobs` topic and
looks again after NOTICE_RETRY (a lost message is handed out again); `run_job` tells the worker and clears
the field (shared/workers/dispatch.py). One notice per canceled attempt, at least once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from shared.core.clients import start_publish
from shared.core.function_registry import JOBS_TOPIC
from shared.jobs.lifecycle import move_sweep_at
from shared.models import Job, JobStatus

CANCEL_NOTICE = "cancel"
NOTICE_RETRY = timedelta(seconds=60)


def cancel_notice_due(job: Job, now: datetime) -> bool:
    return (
        job.status is JobStatus.CANCELED
        and job.cancel_notice_attempt is not None
        and job.sweep_at is not None
        and job.sweep_at <= now
    )


def notice_message(job_id: str) -> bytes:
    return json.dumps({"job_id": job_id, "notice": CANCEL_NOTICE}).encode()


def hand_out_cancel_notice(job_id: str, update_time: datetime, now: datetime) -> bool:
    """Move the job's sweep_at past NOTICE_RETRY (on the sweep's read: a settlement meanwhile wins), then
    publish the notice; False when the job changed meanwhile (the next pass decides again)."""
    if not move_sweep_at(job_id, update_time, now + NOTICE_RETRY):
        return False
    start_publish(JOBS_TOPIC, notice_message(job_id), job_id=job_id)()
    return True
