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

A callback type's worker answers 202 at once and later POSTs the outcome to `callback_url` with the
attempt's token (shared/jobs/callbacks.py); a test-mode job of a `test_jobs: sample` type completes with
the type's `sample_result` and no worker is called. A `{"notice": "cancel"}` message tells the worker of a
canceled running job (`send_cancel_notice`).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

from shared.core import logs
from shared.core.pubsub_events import MalformedMessage, PubSubMessage
from shared.core.settings import get_settings
from shared.jobs.attempts import (
    MAX_REPLY_BYTES,
    RETRYABLE_STATUSES,
    AttemptOutcome,
    Verdict,
    WorkerReply,
    judge_reply,
)
from shared.jobs.callback_rules import (
    ACCEPT_TIMEOUT_S,
    callback_token_hash,
    new_callback_token,
)
from shared.jobs.lifecycle import JobNotFound, finish_attempt, settle_canceled, start_attempt
from shared.jobs.notices import CANCEL_NOTICE
from shared.jobs.service import JOB_ID_PATTERN, job_ref
from shared.jobs.types import ECHO_JOB_TYPE, stored_job_type
from shared.models import (
    Job,
    JobCompletion,
    JobStatus,
    JobTestMode,
    JobType,
    MeteredPricing,
    ModelDataError,
    utc_now,
)
from shared.outbound.results import AttemptResult, parse_retry_after
from shared.outbound.sender import SendPolicy, guarded_post
from shared.outbound.signing import build_headers
from shared.workers.job_types import ensure_echo_type, function_url, signing_secrets

USER_AGENT = "credits-platform-jobs/1"


@dataclass(frozen=True)
class Dispatched:
    job_id: str
    attempt: int
    outcome: AttemptOutcome
    applied: bool  # False: the job moved on while the worker worked (its answer changed nothing)
    # A callback worker accepted the attempt: its outcome comes later (`outcome` is not applied).
    awaiting_callback: bool = False


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


def callback_url(job_id: str) -> str:
    base = get_settings().public_api_url or function_url("api")
    return f"{base.rstrip('/')}/v1/jobs/{job_id}/callback"


def dispatch_body(job_id: str, job: Job, callback_token: str | None = None) -> bytes:
    deadline = job.attempt_deadline or utc_now()
    payload: dict[str, object] = {
        "job_id": job_id,
        "type": job.type,
        "input": job.input,
        "attempt": job.attempts,
        "livemode": job.livemode,
        "deadline": int(deadline.timestamp()),
        "user_id": job.user_id,
    }
    if callback_token is not None:
        payload |= {"callback_url": callback_url(job_id), "callback_token": callback_token}
    return json.dumps(payload, separators=(",", ":")).encode()


def answers_with_sample(job: Job, worker: JobType) -> bool:
    return not job.livemode and worker.test_jobs is JobTestMode.SAMPLE


def signed_headers(worker: JobType, message_id: str, body: bytes) -> dict[str, str]:
    return {
        **build_headers(signing_secrets(worker, utc_now()), message_id, int(time.time()), body),
        "User-Agent": USER_AGENT,
    }


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
    # A callback attempt's token is made before the start that stores its hash (the token is never stored).
    token = new_callback_token()
    try:
        started = start_attempt(
            job_id,
            runnable=lambda job: worker_of(job) is not None,
            callback_token_hash=callback_token_hash(token),
        )
    except JobNotFound:
        logs.warning("job to dispatch does not exist", job_id=job_id)
        return None
    if not started.changed:
        return None
    job = started.job
    worker = worker_of(job)
    assert worker is not None  # checked by the start
    attempt = job.attempts
    if answers_with_sample(job, worker):
        sample = AttemptOutcome(Verdict.COMPLETED, result=dict(worker.sample_result), units=0.0)
        applied = finish_attempt(job_id, attempt, sample).changed
        logs.info(
            "test job answered with the type's sample", job_id=job_id, job_type=job.type, applied=applied
        )
        return Dispatched(job_id, attempt, sample, applied)
    by_callback = job.completion is JobCompletion.CALLBACK
    now = utc_now()
    body = dispatch_body(job_id, job, token if by_callback else None)
    headers = signed_headers(worker, f"{job_id}_{attempt}", body)
    remaining = (job.attempt_deadline - now).total_seconds() if job.attempt_deadline else job.timeout_s
    if by_callback:
        remaining = min(remaining, ACCEPT_TIMEOUT_S)
    result = guarded_post(worker.worker_url, body, headers, send_policy(max(remaining, 0.001)), now)
    if by_callback and result.status_code is not None and 200 <= result.status_code < 300:
        # Accepted: the attempt runs until its callback comes or its deadline passes (the sweep).
        logs.info("job attempt accepted; awaiting its callback", job_id=job_id, attempt=attempt)
        return Dispatched(
            job_id, attempt, AttemptOutcome(Verdict.RETRY), applied=False, awaiting_callback=True
        )
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


def send_cancel_notice(job_id: str) -> bool:
    """Tell a canceled job's worker, once its notice is due; its answer's `usage.units` settle a metered
    charge_started job (none: 0 units). False when there is nothing to tell (already told, or no job)."""
    snapshot = job_ref(job_id).get()
    if not snapshot.exists:
        return False
    try:
        job = Job.from_firestore(snapshot.to_dict())
    except ModelDataError as exc:
        logs.error("job document does not fit the Job model", job_id=job_id, error=str(exc))
        return False
    attempt = job.cancel_notice_attempt
    if job.status is not JobStatus.CANCELED or attempt is None:
        return False
    worker = worker_of(job)
    units = None
    if worker is not None:
        body = json.dumps(
            {
                "notice": CANCEL_NOTICE,
                "job_id": job_id,
                "type": job.type,
                "attempt": attempt,
                "user_id": job.user_id,
                "livemode": job.livemode,
            },
            separators=(",", ":"),
        ).encode()
        headers = signed_headers(worker, f"{job_id}_{attempt}_cancel", body)
        now = utc_now()
        result = guarded_post(worker.worker_url, body, headers, send_policy(ACCEPT_TIMEOUT_S), now)
        if result.status_code is not None and 200 <= result.status_code < 300:
            units = reported_units(result.body)
        logs.info(
            "cancel notice", job_id=job_id, attempt=attempt, status_code=result.status_code, units=units
        )
    settle_canceled(job_id, attempt, units)
    return True


def reported_units(body: bytes) -> float | None:
    """`usage.units` of a worker's answer to a cancel notice, when it is a usable number (>= 0, finite,
    of any size the JSON may hold: a huge one is refused, never an error)."""
    try:
        payload = json.loads(body) if len(body) <= MAX_REPLY_BYTES else None
    except (ValueError, UnicodeDecodeError):
        return None
    usage = payload.get("usage") if isinstance(payload, dict) else None
    units = usage.get("units") if isinstance(usage, dict) else None
    if isinstance(units, bool) or not isinstance(units, int | float):
        return None
    try:
        value = float(units)
    except OverflowError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def handle_run_job(message: PubSubMessage) -> Dispatched | bool | None:
    payload = message.json()
    if isinstance(payload, dict) and payload.get("notice") == CANCEL_NOTICE:
        return send_cancel_notice(job_id_of(message))
    return dispatch_job(job_id_of(message))
