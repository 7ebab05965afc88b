"""The built-in worker for `echo` jobs (topic `jobs`): `result = input`, or failed when `input.fail` is true.

Messages carry only the job id; the job document is the truth. Redelivery is harmless: a finished job is
left alone; a job is run only by the delivery that moved it to running, or that claimed it once it had been
running longer than STALE_RUNNING_AFTER (its worker died; the sweep republishes it); every state change
goes through shared/jobs/lifecycle.py (preconditioned, refund once).
"""

from __future__ import annotations

from shared.core import logs
from shared.core.errors import ApiError
from shared.core.pubsub_events import MalformedMessage, PubSubMessage
from shared.jobs.costs import ECHO_JOB_TYPE
from shared.jobs.lifecycle import (
    TERMINAL_STATUSES,
    JobNotFound,
    claim_stale_run,
    complete_job,
    fail_job,
    start_job,
)
from shared.jobs.service import JOB_ID_PATTERN, job_ref
from shared.models import Job, JobStatus

FAIL_MESSAGE = "The job failed as requested (input.fail is true)."


def job_id_of(message: PubSubMessage) -> str:
    payload = message.json()
    job_id = payload.get("job_id") if isinstance(payload, dict) else None
    if not isinstance(job_id, str) or not JOB_ID_PATTERN.fullmatch(job_id):
        raise MalformedMessage(f"message {message.message_id} names no job")
    return job_id


def handle_run_job(message: PubSubMessage) -> None:
    job_id = job_id_of(message)
    snapshot = job_ref(job_id).get()
    if not snapshot.exists:
        logs.warning("job to run does not exist", job_id=job_id, message_id=message.message_id)
        return
    job = Job.from_firestore(snapshot.to_dict())
    if job.type != ECHO_JOB_TYPE:
        logs.info("not an echo job: left to its own worker", job_id=job_id, job_type=job.type)
        return
    if job.status in TERMINAL_STATUSES:
        return
    try:
        if job.status is JobStatus.QUEUED:
            if not start_job(job_id).changed:
                logs.info("job started by another delivery", job_id=job_id)
                return
        elif not claim_stale_run(job_id):
            # Running, and recently started: another delivery is on it. Should that one die, the job goes
            # stale and the sweep republishes it.
            logs.info("job is being run by another delivery", job_id=job_id)
            return
        if job.input.get("fail") is True:
            fail_job(job_id, FAIL_MESSAGE)
        else:
            complete_job(job_id, job.input)
    except ApiError as exc:
        if exc.code != "illegal_state_transition":
            raise
        # Another delivery of this message finished the job first.
        logs.info("job already finished by another delivery", job_id=job_id)
    except JobNotFound:
        logs.warning("job vanished while running", job_id=job_id)
