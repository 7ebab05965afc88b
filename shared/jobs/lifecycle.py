"""The job lifecycle `queued -> running -> completed | failed`, enforced here and only here.

Every transition is an update with a `last_update_time` precondition from the read that checked it, so two
writers can never both move a job from the same state (the loser re-reads and sees the new state). No
transactions: they collapse under contention on the emulator. Moving to the state a job is already in is a
no-op (`changed=False`), so redelivered events are harmless; anything else not allowed is refused.

A failed live job that cost credits is refunded in the same batch as its transition to `failed` (through
the ledger, marker `refund:job:{id}`): the refund happens exactly once, whatever is delivered twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from google.cloud import firestore

from shared.core.clients import firestore_client
from shared.core.errors import ApiError, ErrorCode
from shared.core.retry import RETRYABLE_COMMIT_ERRORS, retry_commit
from shared.core.settings import get_settings
from shared.credits.ledger import CreditChange, apply_credit_change
from shared.jobs.service import job_ref
from shared.keys.usage import record_job_refund
from shared.models import Job, JobStatus, LedgerEntryType, utc_now

MAX_ATTEMPTS = 50
# A job `running` longer than this has lost its worker (crash, lost message): it may be resumed. Locally
# (echo jobs run in milliseconds, a killed host is back in seconds) a job left running is resumed sooner.
STALE_RUNNING_AFTER = timedelta(minutes=10)
LOCAL_STALE_RUNNING_AFTER = timedelta(seconds=20)
MAX_ERROR_LENGTH = 1000
ALLOWED_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING}),
    JobStatus.RUNNING: frozenset({JobStatus.COMPLETED, JobStatus.FAILED}),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
}
TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED})


class JobNotFound(LookupError):
    pass


class _JobChangedMeanwhile(Exception):
    """The job moved on between our check and the refund batch: check again from the start."""


RETRY_ON: tuple[type[Exception], ...] = (*RETRYABLE_COMMIT_ERRORS, _JobChangedMeanwhile)


@dataclass(frozen=True)
class TransitionOutcome:
    job: Job
    changed: bool  # False: the job already was in the requested state (a repeated event)


def can_transition(current: JobStatus, target: JobStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def start_job(job_id: str) -> TransitionOutcome:
    return transition(job_id, JobStatus.RUNNING)


def complete_job(job_id: str, result: dict[str, Any]) -> TransitionOutcome:
    return transition(job_id, JobStatus.COMPLETED, result=result)


def fail_job(job_id: str, error: str) -> TransitionOutcome:
    return transition(job_id, JobStatus.FAILED, error=error[:MAX_ERROR_LENGTH])


def _read_job(ref: firestore.DocumentReference, job_id: str) -> tuple[Any, Job]:
    snapshot = ref.get()
    if not snapshot.exists:
        raise JobNotFound(job_id)
    return snapshot, Job.from_firestore(snapshot.to_dict())


def transition(
    job_id: str, target: JobStatus, *, result: dict[str, Any] | None = None, error: str | None = None
) -> TransitionOutcome:
    ref = job_ref(job_id)

    def attempt() -> TransitionOutcome:
        snapshot, job = _read_job(ref, job_id)
        if job.status is target:
            return TransitionOutcome(job, changed=False)
        if not can_transition(job.status, target):
            raise ApiError(
                ErrorCode.ILLEGAL_STATE_TRANSITION, f"A {job.status.value} job cannot become {target.value}."
            )
        fields = _transition_fields(target, result, error)
        if target is JobStatus.FAILED and job.livemode and job.cost > 0 and not job.refunded:
            _fail_and_refund(job_id, job, fields)
            fields["refunded"] = True
        else:
            ref.update(fields, option=firestore_client().write_option(last_update_time=snapshot.update_time))
        return TransitionOutcome(Job.model_validate({**job.model_dump(), **fields}), changed=True)

    return retry_commit(
        attempt,
        what=f"job {job_id} while moving it to {target.value}",
        max_attempts=MAX_ATTEMPTS,
        retry_on=RETRY_ON,
    )


def stale_running_after() -> timedelta:
    return STALE_RUNNING_AFTER if get_settings().is_production else LOCAL_STALE_RUNNING_AFTER


def claim_stale_run(job_id: str, stale_after: timedelta | None = None) -> bool:
    """Claim a job left `running` longer than `stale_after` (stale_running_after()) for this delivery to
    finish: restart its clock (`started_at`, `updated_at`) with a precondition on the read, so of several
    deliveries one wins and the others see a fresh run. False when the job is not running, still fresh, or
    claimed by another."""
    ref = job_ref(job_id)
    stale_after = stale_after or stale_running_after()

    def attempt() -> bool:
        snapshot, job = _read_job(ref, job_id)
        now = utc_now()
        if job.status is not JobStatus.RUNNING:
            return False
        if job.started_at is not None and now - job.started_at < stale_after:
            return False
        ref.update(
            {"started_at": now, "updated_at": now},
            option=firestore_client().write_option(last_update_time=snapshot.update_time),
        )
        return True

    return retry_commit(attempt, what=f"job {job_id} while claiming its stale run", max_attempts=MAX_ATTEMPTS)


def _transition_fields(target: JobStatus, result: dict[str, Any] | None, error: str | None) -> dict[str, Any]:
    now = utc_now()
    fields: dict[str, Any] = {"status": target.value, "updated_at": now}
    if target is JobStatus.RUNNING:
        fields["started_at"] = now
    if target is JobStatus.COMPLETED:
        fields["result"] = result if result is not None else {}
        fields["finished_at"] = now
    if target is JobStatus.FAILED:
        fields["error"] = error or "The job failed."
        fields["finished_at"] = now
    return fields


def _fail_and_refund(job_id: str, job: Job, fields: dict[str, Any]) -> None:
    """One ledger batch: refund entry + marker + the job's move to failed (preconditioned on the job)."""
    ref = job_ref(job_id)

    def mark_failed(batch: firestore.WriteBatch, _balance_after: int) -> None:
        # Re-read on every ledger attempt so the job precondition is never stale across its retries.
        snapshot = ref.get()
        current = Job.from_firestore(snapshot.to_dict()) if snapshot.exists else None
        if current is None or current.status is not job.status or current.refunded:
            raise _JobChangedMeanwhile
        batch.update(
            ref,
            {**fields, "refunded": True},
            option=firestore_client().write_option(last_update_time=snapshot.update_time),
        )

    applied = apply_credit_change(
        CreditChange(
            user_id=job.user_id,
            amount=job.cost,
            type=LedgerEntryType.REFUND,
            reference=job_id,
            description=f"refund of failed {job.type} job",
            marker_id=f"refund:job:{job_id}",
        ),
        extra_writes=mark_failed,
    )
    if applied.already_applied:
        # The refund and the transition commit together, so the job is failed already: look again.
        raise _JobChangedMeanwhile
    record_job_refund(job.user_id, job.key_id, job.cost, job.created_at)
