"""The dispatcher (function `run_job`, topic `jobs`): one attempt of a job, POSTed to its type's worker.

Messages carry only the job id; the job document is the truth. An attempt is started with a precondition
(queued -> running, `attempts + 1`), so of several deliveries of one message, or a message and the sweep's
copy, one dispatches and the others acknowledge. The request is signed as Standard Webhooks signs (the
type's secret, and a rotated one within its overlap) and sent through the guarded sender of outgoing
webhooks (shared/outbound/sender.py: SSRF-safe, pinned address, no redirects, one deadline for the whole
attempt: the job type's `timeout_s`). What the answer means is shared/jobs/attempts.judge_reply; the job's
move is shared/jobs/lifecycle.finish_attempt, which ignores an answer that arrives after the job moved on
(canceled, or the attempt was counted as lost). A dispatcher that dies mid-attempt leaves the job running
past its deadline: the sweep counts the attempt as failed (shared/jobs/sweep.py).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from shared.core import logs
from shared.core.pubsub_events import MalformedMessage, PubSubMessage
from shared.core.settings import get_settings
from shared.jobs.attempts import (
    MAX_REPLY_BYTES,
    RETRYABLE_STATUSES,
    AttemptOutcome,
    WorkerReply,
    judge_reply,
)
from shared.jobs.lifecycle import JobNotFound, finish_attempt, start_attempt
from shared.jobs.service import JOB_ID_PATTERN
from shared.jobs.types import ECHO_JOB_TYPE, stored_job_type
from shared.models import Job, JobType, MeteredPricing, utc_now
from shared.outbound.results import AttemptResult, parse_retry_after
from shared.outbound.sender import SendPolicy, guarded_post
from shared.outbound.signing import build_headers
from shared.workers.job_types import ensure_echo_type, signing_secrets

USER_AGENT = "credits-platform-jobs/1"


@dataclass(frozen=True)
class Dispatched:
    job_id: str
    attempt: int
    outcome: AttemptOutcome
    applied: bool  # False: the job moved on while the worker worked (its answer changed nothing)


def job_id_of(message: PubSubMessage) -> str:
    payload = message.json()
    job_id = payload.get("job_id") if isinstance(payload, dict) else None
    if not isinstance(job_id, str) or not JOB_ID_PATTERN.fullmatch(job_id):
        raise MalformedMessage(f"message {message.message_id} names no job")
    return job_id


def worker_of(job: Job) -> JobType | None:
    """The stored definition that runs the job (a deleted type's too: its queued jobs still run); echo's is
    made on its first dispatch. None: a legacy type without a worker (the job waits for its expiry)."""
    definition = stored_job_type(job.type)
    if definition is None and job.type == ECHO_JOB_TYPE:
        definition = ensure_echo_type()
    return definition


def dispatch_body(job_id: str, job: Job) -> bytes:
    deadline = job.attempt_deadline or utc_now()
    payload = {
        "job_id": job_id,
        "type": job.type,
        "input": job.input,
        "attempt": job.attempts,
        "livemode": job.livemode,
        "deadline": int(deadline.timestamp()),
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def send_policy(timeout_s: float) -> SendPolicy:
    settings = get_settings()
    return SendPolicy(
        timeout_s=timeout_s,
        # Local development and the tests run workers on loopback, as they run webhook receivers.
        allow_loopback=settings.allow_loopback_webhooks,
        require_https=settings.is_production,
        response_bytes=MAX_REPLY_BYTES + 1,
    )


def worker_reply(result: AttemptResult) -> WorkerReply:
    status = result.status_code
    retry_after = None
    if status is not None and (status in RETRYABLE_STATUSES or status >= 500):
        retry_after = parse_retry_after(result.retry_after_header, utc_now())
    return WorkerReply(status_code=status, error=result.error, body=result.body, retry_after=retry_after)


def dispatch_job(job_id: str) -> Dispatched | None:
    """Make the job's next attempt if it is due and has a worker; None when there is nothing to do."""
    try:
        started = start_attempt(job_id, runnable=lambda job: worker_of(job) is not None)
    except JobNotFound:
        logs.warning("job to dispatch does not exist", job_id=job_id)
        return None
    if not started.changed:
        return None
    job = started.job
    worker = worker_of(job)
    assert worker is not None  # checked by the start
    attempt = job.attempts
    now = utc_now()
    body = dispatch_body(job_id, job)
    headers = {
        **build_headers(signing_secrets(worker, now), f"{job_id}_{attempt}", int(time.time()), body),
        "User-Agent": USER_AGENT,
    }
    remaining = (job.attempt_deadline - now).total_seconds() if job.attempt_deadline else job.timeout_s
    result = guarded_post(worker.worker_url, body, headers, send_policy(max(remaining, 0.001)), now)
    outcome = judge_reply(
        worker_reply(result),
        attempt=attempt,
        max_attempts=job.max_attempts,
        metered=isinstance(job.pricing, MeteredPricing),
        now=utc_now(),
    )
    applied = finish_attempt(job_id, attempt, outcome).changed
    logs.info(
        "job attempt",
        job_id=job_id,
        job_type=job.type,
        attempt=attempt,
        status_code=result.status_code,
        duration_ms=result.duration_ms,
        verdict=outcome.verdict.value,
        error=outcome.error,
        applied=applied,
    )
    return Dispatched(job_id, attempt, outcome, applied)


def handle_run_job(message: PubSubMessage) -> Dispatched | None:
    return dispatch_job(job_id_of(message))
