"""The worker contract's decisions, as pure functions of facts and time (docs/workers.md).

What one dispatch's answer means for the job (completed, failed at once, or the attempt failed and the next
one is due after a backoff, or the attempts are exhausted), what a metered job costs, and what the job
sweep must do with a job it finds due. The Firestore code around them (shared/jobs/lifecycle.py,
shared/jobs/sweep.py, the dispatcher) only reads and writes.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shared.core.firestore_values import (
    MAX_JSON_VALUES,
    UnstorableValue,
    check_json_values,
    check_storable,
    count_json_values,
)
from shared.jobs.turns import NOT_NOW_STATUSES
from shared.models import Job, JobFailure, JobStatus, MeteredPricing

BASE_BACKOFF = timedelta(seconds=5)
MAX_RETRY_AFTER = timedelta(hours=1)
MAX_RESULT_BYTES = 64 * 1024
# A worker's whole answer is read up to this (the result plus its envelope and usage).
MAX_REPLY_BYTES = MAX_RESULT_BYTES + 4096
MAX_ERROR_LENGTH = 1000
# The recovery grace: a queued job not started this long after it became due was not handed to a
# dispatcher (a lost publish), and the sweep publishes it again; a running attempt past its deadline by this
# much lost its dispatcher (whose own deadline ends the attempt at `attempt_deadline`), and the sweep counts
# it as failed. Locally (jobs run in milliseconds, a killed host is back in seconds) it is shorter.
RECOVERY_GRACE = timedelta(seconds=30)
LOCAL_RECOVERY_GRACE = timedelta(seconds=5)
RETRYABLE_STATUSES = frozenset({408, 429})
# A metered worker's usage.units above this is refused as unusable (far beyond any price's max_credits).
MAX_UNITS = 1e15


class Verdict(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"  # the job fails now (a 4xx, or the last attempt failed)
    RETRY = "retry"  # the attempt failed; the next one is due at `next_attempt_at`
    NOT_NOW = "not_now"  # a 429/503: the attempt does not count; the job waits for the type's pause


@dataclass(frozen=True)
class WorkerReply:
    """What one dispatch produced: the HTTP status (None: no answer, `error` says why), the body read up to
    MAX_REPLY_BYTES (+1 to tell a longer one), and the worker's Retry-After as a delay."""

    status_code: int | None
    error: str | None
    body: bytes = b""
    retry_after: timedelta | None = None


@dataclass(frozen=True)
class AttemptOutcome:
    verdict: Verdict
    result: dict[str, Any] | None = None
    units: float | None = None  # a metered worker's usage
    error: str | None = None  # why the attempt (or the job) failed
    failure_reason: JobFailure | None = None
    next_attempt_at: datetime | None = None
    retry_after: timedelta | None = None  # NOT_NOW: the worker's Retry-After


def retry_delay(attempt: int, rng: random.Random | None = None) -> timedelta:
    """The pause after failed attempt `attempt` (1-based): at most 5 s x 2^(attempt-1), at least half of it
    (jitter spreads the retries of a burst of jobs that failed together)."""
    ceiling = BASE_BACKOFF.total_seconds() * 2 ** (max(attempt, 1) - 1)
    return timedelta(seconds=ceiling * (rng or random).uniform(0.5, 1.0))


def after_failed_attempt(
    attempt: int,
    max_attempts: int,
    error: str,
    now: datetime,
    retry_after: timedelta | None = None,
    rng: random.Random | None = None,
) -> AttemptOutcome:
    """Attempt `attempt` failed: the next one after the backoff (or the worker's Retry-After, capped), or
    the job fails when that was the last one."""
    error = error[:MAX_ERROR_LENGTH]
    if attempt >= max_attempts:
        message = f"All {max_attempts} attempts failed; the last: {error}"[:MAX_ERROR_LENGTH]
        return AttemptOutcome(Verdict.FAILED, error=message, failure_reason=JobFailure.ATTEMPTS_EXHAUSTED)
    delay = min(retry_after, MAX_RETRY_AFTER) if retry_after is not None else retry_delay(attempt, rng)
    return AttemptOutcome(Verdict.RETRY, error=error, next_attempt_at=now + delay)


def judge_reply(
    reply: WorkerReply,
    *,
    attempt: int,
    max_attempts: int,
    metered: bool,
    now: datetime,
    rng: random.Random | None = None,
) -> AttemptOutcome:
    """The worker contract: 2xx with `{"result": {...}}` (and `usage.units` for metered types) completes;
    429 and 503 are "not now" (the attempt does not count: shared/jobs/turns.answer_counts); other 4xx
    than 408 fail the job at once; anything else (5xx, 408, no answer, a timeout) fails the attempt."""
    status = reply.status_code

    def failed_attempt(error: str) -> AttemptOutcome:
        return after_failed_attempt(attempt, max_attempts, error, now, reply.retry_after, rng)

    if status is None:
        return failed_attempt(reply.error or "no answer from the worker")
    if status in NOT_NOW_STATUSES:
        detail = _error_message(reply.body)
        message = f"the worker answered {status} (not now)" + (f": {detail}" if detail else "")
        return AttemptOutcome(
            Verdict.NOT_NOW, error=message[:MAX_ERROR_LENGTH], retry_after=reply.retry_after
        )
    if 200 <= status < 300:
        return _completed(reply.body, metered) or failed_attempt(_unusable_reason(reply.body, metered))
    if 400 <= status < 500 and status not in RETRYABLE_STATUSES:
        message = _error_message(reply.body) or f"the worker answered {status}"
        return AttemptOutcome(
            Verdict.FAILED, error=message[:MAX_ERROR_LENGTH], failure_reason=JobFailure.WORKER_ERROR
        )
    detail = reply.error or _error_message(reply.body)
    return failed_attempt(f"the worker answered {status}" + (f": {detail}" if detail else ""))


def _json_object(body: bytes) -> dict[str, Any] | None:
    if len(body) > MAX_REPLY_BYTES:
        return None
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _units(payload: dict[str, Any]) -> float | None:
    usage = payload.get("usage")
    units = usage.get("units") if isinstance(usage, dict) else None
    if isinstance(units, bool) or not isinstance(units, int | float):
        return None
    # Compared before any conversion: an integer of 400 digits is valid JSON, and float() of it overflows.
    if isinstance(units, float) and not math.isfinite(units):
        return None
    if not 0 <= units <= MAX_UNITS:
        return None
    return float(units)


def _result_size(result: dict[str, Any]) -> int:
    return len(json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode())


def _storable(result: dict[str, Any]) -> bool:
    try:
        check_json_values(result, "result")
        check_storable(result)
    except UnstorableValue:
        return False
    return True


def _completed(body: bytes, metered: bool) -> AttemptOutcome | None:
    payload = _json_object(body)
    if payload is None:
        return None
    result = payload.get("result", {})
    if not isinstance(result, dict) or _result_size(result) > MAX_RESULT_BYTES or not _storable(result):
        return None
    units = _units(payload)
    if metered and units is None:
        return None
    return AttemptOutcome(Verdict.COMPLETED, result=result, units=units)


def _unusable_reason(body: bytes, metered: bool) -> str:
    if len(body) > MAX_REPLY_BYTES:
        return f"the worker's answer is larger than {MAX_REPLY_BYTES} bytes"
    payload = _json_object(body)
    if payload is None:
        return "the worker's answer is not a JSON object"
    result = payload.get("result", {})
    if not isinstance(result, dict):
        return "the worker's result is not a JSON object"
    if _result_size(result) > MAX_RESULT_BYTES:
        return f"the worker's result is larger than {MAX_RESULT_BYTES} bytes"
    if count_json_values(result, MAX_JSON_VALUES) > MAX_JSON_VALUES:
        return f"the worker's result has more than {MAX_JSON_VALUES} JSON values (objects, arrays, scalars)"
    if not _storable(result):
        return "the worker's result cannot be stored (see docs/workers.md)"
    return f"the worker's answer has no usage.units (a number from 0 to {MAX_UNITS:g}), which a metered type needs"


def _error_message(body: bytes) -> str | None:
    payload = _json_object(body)
    error = payload.get("error") if payload is not None else None
    message = error.get("message") if isinstance(error, dict) else None
    return message[:MAX_ERROR_LENGTH] if isinstance(message, str) and message else None


def settled_cost(units: float, pricing: MeteredPricing) -> int:
    """min(max_credits, ceil(units x credits_per_unit)), in decimal so 0.1 x 3 costs 1, never 2."""
    exact = Decimal(repr(units)) * Decimal(repr(pricing.credits_per_unit))
    return min(pricing.max_credits, math.ceil(exact))


class SweepAction(StrEnum):
    NONE = "none"
    DEADLINE = "deadline"  # past its absolute deadline, whatever its state: failed, refunded
    DISPATCH = "dispatch"  # queued and due: publish it to the dispatchers
    EXPIRE = "expire"  # queued past its queue deadline without a first attempt: failed, refunded
    LOST_ATTEMPT = "lost_attempt"  # running past its attempt deadline: the attempt failed


def job_deadline(start: datetime, queue_timeout_s: int, timeout_s: int, max_attempts: int) -> datetime:
    """When a job must have ended, whatever happens: each of its attempts may wait `queue_timeout_s` for
    the type's worker (a backlog, its pauses), run `timeout_s`, and be followed by the longest backoff a
    failed attempt can ask for; then the recovery grace. `start`: when the job may first run."""
    per_attempt = timedelta(seconds=queue_timeout_s + timeout_s)
    longest_backoff: timedelta = max(MAX_RETRY_AFTER, BASE_BACKOFF * (1 << max(max_attempts - 2, 0)))
    deadline: datetime = start + max_attempts * per_attempt + max(max_attempts - 1, 0) * longest_backoff
    return deadline + RECOVERY_GRACE


# Jobs stored before deadlines existed: their queue timeout is not stored; the longest one allowed stands in.
_UNSTORED_QUEUE_TIMEOUT_S = 604800


def deadline_of(job: Job) -> datetime:
    if job.deadline_at is not None:
        return job.deadline_at
    return job_deadline(job.created_at, _UNSTORED_QUEUE_TIMEOUT_S, job.timeout_s, job.max_attempts)


# How far the sweep moves a due queued job it handed to the dispatchers again: as long as the job has waited
# since it was due (so a job waiting in a long backlog is looked at about log2(wait) times), at least the
# recovery grace, at most MAX_REPUBLISH_INTERVAL, never past the job's deadline.
MAX_REPUBLISH_INTERVAL = timedelta(minutes=15)


def republished_sweep_at(job: Job, now: datetime, grace: timedelta = RECOVERY_GRACE) -> datetime:
    waited = max(now - (job.run_at or job.created_at), timedelta(0))
    step = min(max(grace, waited), MAX_REPUBLISH_INTERVAL)
    return min(now + step, deadline_of(job))


def sweep_action(job: Job, now: datetime) -> SweepAction:
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING) and deadline_of(job) <= now:
        return SweepAction.DEADLINE
    if job.status is JobStatus.QUEUED:
        if job.attempts == 0 and job.expires_at is not None and job.expires_at <= now:
            return SweepAction.EXPIRE
        if job.next_attempt_at is None or job.next_attempt_at <= now:
            return SweepAction.DISPATCH
        return SweepAction.NONE
    if job.status is JobStatus.RUNNING and job.sweep_at is not None and job.sweep_at <= now:
        # sweep_at of a running job: its attempt's deadline and the recovery grace (running_sweep_at).
        return SweepAction.LOST_ATTEMPT
    return SweepAction.NONE


def queued_sweep_at(
    due: datetime, expires_at: datetime | None, grace: timedelta = RECOVERY_GRACE
) -> datetime:
    """When the sweep looks at a queued job: when its dispatch, due at `due`, should have started, or at its
    queue deadline, whichever is first."""
    return min(due + grace, expires_at) if expires_at is not None else due + grace


def running_sweep_at(attempt_deadline: datetime, grace: timedelta = RECOVERY_GRACE) -> datetime:
    return attempt_deadline + grace


def recovery_grace(production: bool) -> timedelta:
    return RECOVERY_GRACE if production else LOCAL_RECOVERY_GRACE
