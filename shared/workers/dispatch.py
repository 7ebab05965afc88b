"""The dispatcher (function `run_job`, topic `jobs`): a job handed in waits for its turn in its type's flow
control (shared/jobs/flow.py); the turns granted are run here, side by side (`pump`), each an attempt
POSTed to the type's worker.

Messages carry only the job id (and `turn` when its turn came); the job document is the truth. An attempt is started with a precondition
(queued -> running, `attempts + 1`), so of several deliveries of one message, or a message and the sweep's
copy, one dispatches and the others acknowledge. The request is signed here as Standard Webhooks signs (the
type's secret, and a rotated one within its overlap) and handed to the function `send_to_worker`
(`post_to_worker`, shared/outbound/relay.py), which POSTs it with the guarded sender
(shared/outbound/sender.py: SSRF-safe, pinned address, no redirects, one deadline for the whole attempt: the
job type's `timeout_s`). run_job holds the Redis secrets of flow control, so it never connects to an
operator's URL itself; the sender holds no secret. What the answer means is
shared/jobs/attempts.judge_reply; the job's move is shared/jobs/lifecycle.finish_attempt, which ignores an
answer that arrives after the job moved on (canceled, or the attempt was counted as lost). A dispatcher that dies mid-attempt leaves the job running
past its deadline: the sweep counts the attempt as failed (shared/jobs/sweep.py).

A callback type's worker answers 202 at once and later POSTs the outcome to `callback_url` with the
attempt's token (shared/jobs/callbacks.py); a test-mode job of a `test_jobs: sample` type completes with
the type's `sample_result` and no worker is called. A `{"notice": "cancel"}` message tells the worker of a
canceled running job (`send_cancel_notice`).
"""

from __future__ import annotations

import contextvars
import json
import math
import secrets
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import timedelta

from shared.core import logs
from shared.core.pubsub_events import MalformedMessage, PubSubMessage
from shared.core.settings import get_settings
from shared.jobs import flow
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
from shared.jobs.flow import TypeLimits
from shared.jobs.lifecycle import JobNotFound, finish_attempt, settle_canceled, start_attempt
from shared.jobs.messages import publish_dispatches
from shared.jobs.notices import CANCEL_NOTICE
from shared.jobs.service import JOB_ID_PATTERN, job_ref
from shared.jobs.turns import NOT_NOW_STATUSES, pause_for
from shared.jobs.types import stored_job_type
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
from shared.outbound.relay import google_id_token, relayed_post
from shared.outbound.results import AttemptResult, parse_retry_after
from shared.outbound.sender import SendPolicy
from shared.outbound.signing import build_headers
from shared.workers.job_types import function_url, signing_secrets

USER_AGENT = "credits-platform-jobs/1"
SENDER_FUNCTION = "send_to_worker"
# A type's pause or rate wait this short is waited out by one dispatcher, which then grants the next turns.
MAX_WAKE_WAIT_MS = 10_000
# One invocation runs the turns it is granted, and those their ends grant, for at most PUMP_BUDGET_S, and
# never an attempt that could outlive run_job (540 s, less a margin for recording it); later turns are
# published. At most PUMP_THREADS attempts at once per invocation.
PUMP_BUDGET_S = 120.0
RUN_JOB_LIFETIME_S = 540
LIFETIME_MARGIN_S = 30
PUMP_THREADS = 32
PUMP_TICK_S = 0.25


@dataclass(frozen=True)
class Dispatched:
    job_id: str
    attempt: int
    outcome: AttemptOutcome
    applied: bool  # False: the job moved on while the worker worked (its answer changed nothing)
    # A callback worker accepted the attempt: its outcome comes later (`outcome` is not applied).
    awaiting_callback: bool = False
    user_id: str = ""


def job_id_of(message: PubSubMessage) -> str:
    payload = message.json()
    job_id = payload.get("job_id") if isinstance(payload, dict) else None
    if not isinstance(job_id, str) or not JOB_ID_PATTERN.fullmatch(job_id):
        raise MalformedMessage(f"message {message.message_id} names no job")
    return job_id


def worker_of(job: Job) -> JobType | None:
    """The stored definition that runs the job (a deleted type's too: its queued jobs still run). None when
    there is no type document or it has no worker: the job waits for its deadline (the sweep ends it)."""
    definition = stored_job_type(job.type)
    return definition if definition is not None and definition.worker_url is not None else None


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


def post_to_worker(url: str, body: bytes, headers: dict[str, str], policy: SendPolicy) -> AttemptResult:
    """The one way run_job reaches a worker: the signed request, POSTed by `send_to_worker` (with an ID
    token for it in production). The hop's own failure is a failed attempt, never an exception."""
    token = google_id_token if get_settings().is_production else (lambda _audience: None)
    return relayed_post(function_url(SENDER_FUNCTION), url, body, headers, policy, id_token=token)


def worker_reply(result: AttemptResult) -> WorkerReply:
    status = result.status_code
    retry_after = None
    if status is not None and (status in RETRYABLE_STATUSES or status in NOT_NOW_STATUSES or status >= 500):
        retry_after = parse_retry_after(result.retry_after_header, utc_now())
    return WorkerReply(status_code=status, error=result.error, body=result.body, retry_after=retry_after)


def dispatch_job(job_id: str, turn: bool = False) -> Dispatched | None:
    """Hand the job in to its type's flow control; when no other invocation pumps the type, become its pump
    and run the turns due. `turn`: the message says its turn came (it holds a slot). None when this call
    made no attempt of `job_id`."""
    job = read_job(job_id)
    if job is None:
        logs.warning("job to dispatch does not exist", job_id=job_id)
        return None
    worker = worker_of(job)
    if worker is None:
        return None  # a type without a worker: the job waits for its deadline (the sweep ends it)
    if not flow.available():
        return attempt_job(job_id, worker)
    if not turn and answers_with_sample(job, worker):
        return attempt_job(job_id, worker)  # the worker is not called: no turn to wait for
    limits = flow.limits_of(job, worker)
    token = secrets.token_hex(8)
    if turn:
        if flow.claim_pump(limits, token):
            return pump(limits, worker, [job_id], own_job=job_id, token=token)
        dispatched, turns = run_turn(job_id, worker, limits)
        publish_dispatches(turns.granted, turn=True)  # the type's pump was busy: their own dispatchers
        return dispatched
    now = utc_now()
    if job.status is not JobStatus.QUEUED or (job.next_attempt_at is not None and job.next_attempt_at > now):
        return None
    # Admitted first, then the claim: a pump that ends after a failed claim here still grants this job.
    flow.admit(limits, job_id, job.user_id, now)
    if not flow.claim_pump(limits, token):
        return None
    return pump(limits, worker, [], own_job=job_id, token=token)


def read_job(job_id: str) -> Job | None:
    snapshot = job_ref(job_id).get()
    return Job.from_firestore(snapshot.to_dict()) if snapshot.exists else None


def run_turn(job_id: str, worker: JobType, limits: TypeLimits) -> tuple[Dispatched | None, flow.Turns]:
    """One granted turn: the attempt, then its slot back (or, after a "not now", the job back first in its
    customer's line and the type paused); returns the turns granted next."""
    released: list[flow.Turns] = []

    def answered() -> None:
        # The worker has answered: its slot is free before the job's move is written, so a hand-in of the
        # job that follows the move (the sweep's, of a retry) always finds it no longer holding a slot.
        released.append(flow.release(limits, job_id, utc_now()))

    try:
        dispatched = attempt_job(job_id, worker, limits, answered=answered)
    except BaseException:
        if not released:
            flow.release(limits, job_id, utc_now())
        raise
    if released:
        return dispatched, released[0]
    now = utc_now()
    if dispatched is not None and dispatched.applied and dispatched.outcome.verdict is Verdict.NOT_NOW:
        due = dispatched.outcome.next_attempt_at or now
        pause = max(due - now, timedelta(0))
        return dispatched, flow.put_back(limits, job_id, dispatched.user_id, pause, now)
    return dispatched, flow.release(limits, job_id, now)


def pump(
    limits: TypeLimits, worker: JobType, granted: list[str], *, own_job: str, token: str
) -> Dispatched | None:
    """The type's one pump (it holds the claim `token`): grant the type's turns and run them side by side
    here, as slots free up and jobs are admitted (a Redis call every PUMP_TICK_S while it runs), for up to
    PUMP_BUDGET_S and never an attempt that could outlive run_job; a short pause or rate wait is waited out
    here. When no turn is left it lets go of the claim and grants once more (a job admitted meanwhile is not
    left waiting); turns past its budget are published, each to a dispatcher of its own (which becomes the
    next pump). Every other message of the type (an admission) is answered at once: a type's concurrency
    does not depend on how many pushes Pub/Sub keeps outstanding, and a hanging worker holds one push."""
    started = time.monotonic()
    own: Dispatched | None = None
    with ThreadPoolExecutor(max_workers=min(limits.max_concurrency, PUMP_THREADS)) as pool:
        pending: dict[Future[tuple[Dispatched | None, flow.Turns]], str] = {}

        def within_budget() -> bool:
            elapsed = time.monotonic() - started
            return (
                elapsed < PUMP_BUDGET_S
                and elapsed + limits.timeout_s + LIFETIME_MARGIN_S <= RUN_JOB_LIFETIME_S
            )

        def schedule(job_ids: list[str]) -> None:
            later = []
            for job_id in job_ids:
                if within_budget():
                    context = contextvars.copy_context()
                    pending[pool.submit(context.run, run_turn, job_id, worker, limits)] = job_id
                else:
                    later.append(job_id)
            publish_dispatches(later, turn=True)

        schedule(granted)
        while True:
            flow.keep_pump(limits)
            if pending:
                done, _ = wait(pending, timeout=PUMP_TICK_S, return_when=FIRST_COMPLETED)
                for future in done:
                    job_id = pending.pop(future)
                    try:
                        dispatched, turns = future.result()
                    except Exception as exc:  # one turn's trouble: logged; the sweep recovers its job
                        logs.error("job turn failed", job_id=job_id, error=repr(exc))
                        continue
                    if job_id == own_job:
                        own = dispatched
                    schedule(turns.granted)
                if len(pending) < limits.max_concurrency and within_budget():
                    schedule(flow.grant(limits, utc_now()).granted)
                continue
            due = flow.grant(limits, utc_now()) if within_budget() else None
            if due is not None and due.granted:
                schedule(due.granted)
                continue
            if due is not None and due.customers_waiting and 0 < due.wait_ms <= MAX_WAKE_WAIT_MS:
                time.sleep(min(due.wait_ms / 1000, PUMP_TICK_S * 4))  # the type's pause or rate, not a server
                continue
            flow.free_pump(limits, token)
            last = flow.grant(limits, utc_now())
            if not last.granted:
                break
            if within_budget() and flow.claim_pump(limits, token):
                schedule(last.granted)
                continue
            publish_dispatches(last.granted, turn=True)
            break
    return own


def attempt_job(
    job_id: str,
    worker: JobType,
    limits: TypeLimits | None = None,
    answered: Callable[[], None] | None = None,
) -> Dispatched | None:
    """Make the job's next attempt if it is due; None when there is nothing to do. `answered` is called once
    the worker's answer counts (not after a "not now"), before the job's move is written."""
    worker_url = worker.worker_url
    if worker_url is None:  # worker_of hands out no such type: nothing to attempt
        return None
    # A callback attempt's token is made before the start that stores its hash (the token is never stored).
    token = new_callback_token()
    try:
        started = start_attempt(job_id, callback_token_hash=callback_token_hash(token))
    except JobNotFound:
        logs.warning("job to dispatch does not exist", job_id=job_id)
        return None
    if not started.changed:
        return None
    job = started.job
    attempt = job.attempts
    if answers_with_sample(job, worker):
        sample = AttemptOutcome(Verdict.COMPLETED, result=dict(worker.sample_result), units=0.0)
        applied = finish_attempt(job_id, attempt, sample).changed
        logs.info(
            "test job answered with the type's sample", job_id=job_id, job_type=job.type, applied=applied
        )
        return Dispatched(job_id, attempt, sample, applied, user_id=job.user_id)
    by_callback = job.completion is JobCompletion.CALLBACK
    now = utc_now()
    body = dispatch_body(job_id, job, token if by_callback else None)
    headers = signed_headers(worker, f"{job_id}_{attempt}", body)
    remaining = (job.attempt_deadline - now).total_seconds() if job.attempt_deadline else job.timeout_s
    if by_callback:
        remaining = min(remaining, ACCEPT_TIMEOUT_S)
    result = post_to_worker(worker_url, body, headers, send_policy(max(remaining, 0.001)))
    if by_callback and result.status_code is not None and 200 <= result.status_code < 300:
        # Accepted: the attempt runs until its callback comes or its deadline passes (the sweep).
        logs.info("job attempt accepted; awaiting its callback", job_id=job_id, attempt=attempt)
        return Dispatched(
            job_id,
            attempt,
            AttemptOutcome(Verdict.RETRY),
            applied=False,
            awaiting_callback=True,
            user_id=job.user_id,
        )
    now = utc_now()
    outcome = judge_reply(
        worker_reply(result),
        attempt=attempt,
        max_attempts=job.max_attempts,
        metered=isinstance(job.pricing, MeteredPricing),
        now=now,
    )
    if outcome.verdict is Verdict.NOT_NOW:
        in_a_row = flow.not_now_in_a_row(limits) if limits is not None else 1
        pause = pause_for(outcome.retry_after, in_a_row)
        outcome = replace(outcome, next_attempt_at=now + pause)
    if answered is not None and outcome.verdict is not Verdict.NOT_NOW:
        answered()
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
    return Dispatched(job_id, attempt, outcome, applied, user_id=job.user_id)


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
    if worker is not None and worker.worker_url is not None:
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
        result = post_to_worker(worker.worker_url, body, headers, send_policy(ACCEPT_TIMEOUT_S))
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
    return dispatch_job(job_id_of(message), turn=isinstance(payload, dict) and payload.get("turn") is True)
