"""The decisions of callback completion, delayed jobs and cancel policies, as pure functions of facts and
time (docs/workers.md): what a worker's callback means for its attempt, whether a callback is overdue,
when a delayed job may run, and what a canceled job costs.

The Firestore code around them (shared/jobs/callbacks.py, shared/jobs/lifecycle.py, the dispatcher and
the sweep) only reads and writes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.jobs.attempts import (
    MAX_ERROR_LENGTH,
    MAX_REPLY_BYTES,
    AttemptOutcome,
    Verdict,
    WorkerReply,
    after_failed_attempt,
    judge_reply,
    settled_cost,
)
from shared.models import (
    CancelPolicy,
    Job,
    JobCompletion,
    JobFailure,
    JobStatus,
    MeteredPricing,
)

CALLBACK_TOKEN_PREFIX = "cbt_"  # noqa: S105 (a prefix, not a secret)
# How long the dispatcher waits for a callback worker's 202 (the work itself has until the deadline).
ACCEPT_TIMEOUT_S = 30.0
MAX_RUN_AT_AHEAD = timedelta(days=7)
MAX_PROGRESS_MESSAGE = 500
CALLBACK_OVERDUE_MESSAGE = "the worker's callback did not come by its deadline (timeout_s)"


def new_callback_token() -> str:
    return CALLBACK_TOKEN_PREFIX + secrets.token_urlsafe(32)


def callback_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def callback_token_matches(token: str | None, stored_hash: str | None) -> bool:
    """Constant-time comparison of a presented token with the running attempt's stored hash."""
    if not token or stored_hash is None:
        return False
    return hmac.compare_digest(callback_token_hash(token), stored_hash)


class CallbackRefused(ValueError):
    """The callback's body is not one of the three shapes the contract allows (the worker gets a 400)."""


@dataclass(frozen=True)
class ProgressReport:
    percent: float
    message: str


@dataclass(frozen=True)
class CallbackReport:
    """What a callback says: its attempt's outcome (a result or an error), or progress."""

    outcome: AttemptOutcome | None = None
    progress: ProgressReport | None = None


def _json_object(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_REPLY_BYTES:
        raise CallbackRefused(f"The callback is larger than {MAX_REPLY_BYTES} bytes.")
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise CallbackRefused("The callback is not JSON.") from None
    if not isinstance(value, dict):
        raise CallbackRefused("The callback is not a JSON object.")
    return value


def _progress(value: Any) -> ProgressReport:
    percent = value.get("percent") if isinstance(value, dict) else None
    message = value.get("message", "") if isinstance(value, dict) else None
    if isinstance(percent, bool) or not isinstance(percent, int | float) or not 0 <= percent <= 100:
        raise CallbackRefused("progress.percent must be a number from 0 to 100.")
    if not isinstance(message, str):
        raise CallbackRefused("progress.message must be a string.")
    return ProgressReport(float(percent), message[:MAX_PROGRESS_MESSAGE])


def _error(payload: dict[str, Any], attempt: int, max_attempts: int, now: datetime) -> AttemptOutcome:
    error = payload["error"]
    retryable = payload.get("retryable", False)
    if not isinstance(error, dict) or not isinstance(retryable, bool):
        raise CallbackRefused('An error callback is {"error": {"code", "message"}, "retryable": bool}.')
    code, message = error.get("code"), error.get("message")
    if not isinstance(message, str) or not message or (code is not None and not isinstance(code, str)):
        raise CallbackRefused("error.message must be a non-empty string (error.code a string, if given).")
    text = (f"{code}: {message}" if code else message)[:MAX_ERROR_LENGTH]
    if retryable:
        return after_failed_attempt(attempt, max_attempts, text, now)
    return AttemptOutcome(Verdict.FAILED, error=text, failure_reason=JobFailure.WORKER_ERROR)


def read_callback(
    body: bytes,
    *,
    attempt: int,
    max_attempts: int,
    metered: bool,
    now: datetime,
    rng: random.Random | None = None,
) -> CallbackReport:
    """One callback's meaning: `{"result", "usage"}` completes (held to the rules of a response worker's
    answer), `{"error", "retryable"}` fails the attempt (retryable) or the job, `{"progress"}` reports."""
    payload = _json_object(body)
    kinds = [k for k in ("result", "error", "progress") if k in payload]
    if len(kinds) != 1:
        raise CallbackRefused("A callback carries exactly one of result, error or progress.")
    if kinds == ["progress"]:
        return CallbackReport(progress=_progress(payload["progress"]))
    if kinds == ["error"]:
        return CallbackReport(outcome=_error(payload, attempt, max_attempts, now))
    outcome = judge_reply(
        WorkerReply(200, None, body),
        attempt=attempt,
        max_attempts=max_attempts,
        metered=metered,
        now=now,
        rng=rng,
    )
    if outcome.verdict is not Verdict.COMPLETED:
        # The reason the result cannot be used; the job keeps waiting for a usable callback.
        raise CallbackRefused(f"Unusable result: {outcome.error}.")
    return CallbackReport(outcome=outcome)


def awaits_callback(job: Job) -> bool:
    return job.status is JobStatus.RUNNING and job.completion is JobCompletion.CALLBACK


def callback_overdue(job: Job, now: datetime) -> bool:
    """A callback attempt whose deadline passed without its callback: the attempt failed."""
    return awaits_callback(job) and job.attempt_deadline is not None and job.attempt_deadline <= now


def run_at_refusal(run_at: datetime, now: datetime) -> str | None:
    """Why a delayed job's `run_at` is refused, or None (a time already past runs the job at once)."""
    if run_at > now + MAX_RUN_AT_AHEAD:
        return f"run_at is at most {MAX_RUN_AT_AHEAD.days} days ahead."
    return None


@dataclass(frozen=True)
class CancelCharge:
    """What canceling a job keeps: `keep` credits charged now, or `settle_later` (a running metered job
    of a charge_started type: settled on the units its worker reports to the cancel notice)."""

    keep: int
    settle_later: bool = False


def settles_on_reported_units(job: Job) -> bool:
    """A live metered job of a charge_started type: canceled while running, it costs its reported units."""
    return (
        job.livemode
        and job.cancel_policy is CancelPolicy.CHARGE_STARTED
        and isinstance(job.pricing, MeteredPricing)
    )


def cancel_charge(job: Job) -> CancelCharge:
    """refund: everything back. charge_started, running: a fixed price is kept, a metered job waits for its
    worker's units. A job not running (queued, waiting for a retry or run_at) is always refunded."""
    if (
        not job.livemode
        or job.cancel_policy is not CancelPolicy.CHARGE_STARTED
        or job.status is not JobStatus.RUNNING
    ):
        return CancelCharge(keep=0)
    if settles_on_reported_units(job):
        return CancelCharge(keep=0, settle_later=True)
    # A fixed price (or, for a job made before prices were stored, its debit) stays charged.
    return CancelCharge(keep=job.held_credits)


def canceled_settlement(job: Job, units: float | None) -> tuple[int, float]:
    """(cost, units) of a canceled metered job on the units its worker reported (none reported: 0)."""
    reported = units if units is not None else 0.0
    if not isinstance(job.pricing, MeteredPricing) or not job.livemode:
        return 0, reported
    return min(settled_cost(reported, job.pricing), job.held_credits), reported
