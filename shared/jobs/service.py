"""Jobs: creation (debit, idempotency), reading and listing, the resource shape, and hand-off to workers.

Creating a live job is one ledger batch: balance update (precondition), `job_debit` ledger entry, `create()`
of the job itself and, with an Idempotency-Key only, the marker `processed_events/debit:job:{job_id}`.
Test-key jobs cost nothing and are a single `create()`, and so is a busy customer's live job admitted from a
credit lease (shared/credits/lease_book.py: the balance is written per lease, not per job). With an
`Idempotency-Key` the job id is derived from (user, mode, key), so a retry's `create()` fails inside that
same batch: idempotent by construction, never check-then-write.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore
from pydantic import BaseModel, ConfigDict, Field

from shared.core.clients import firestore_client
from shared.core.errors import ApiError, ErrorCode, not_found
from shared.core.firestore_events import DocumentChange
from shared.core.firestore_values import UnstorableValue, check_json_values, check_storable
from shared.core.idempotency import IDEMPOTENCY_HEADER
from shared.core.index_shards import in_user_ranges, index_shard
from shared.core.pagination import Snapshot
from shared.core.principals import KeyPrincipal
from shared.core.retention import test_data_expiry
from shared.core.settings import get_settings
from shared.credits.lease_book import lease_book
from shared.credits.ledger import CreditChange, apply_credit_change, job_debit_entry_id, refuse_debt
from shared.jobs.attempts import job_deadline, queued_sweep_at, recovery_grace
from shared.jobs.callback_rules import run_at_refusal
from shared.jobs.types import resolve_job_type
from shared.keys.account_limits import account_limits
from shared.keys.limits import DEFAULT_JOBS_IN_FLIGHT
from shared.keys.usage import record_job
from shared.models import (
    FixedPricing,
    Job,
    JobStatus,
    LedgerEntryType,
    utc_now,
)

JOB_ID_PATTERN = re.compile(r"job_[0-9a-f]{24,40}")
# A job's big fields (up to 64 KiB and MAX_JSON_VALUES each): only a read of that one job, or a list that
# expands them, reads them. Lists, sweeps and reconciliations read the rest (`summary_fields`): the memory
# of a page of 100 jobs is then the same whatever their owners put in them.
BIG_FIELDS = ("input", "result", "held_answer")


def summary_fields(*including: str) -> list[str]:
    """The job fields to select in a query (a projection): all but the big ones, except those named."""
    return [name for name in Job.model_fields if name not in BIG_FIELDS or name in including]


class CreateJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    input: dict[str, Any] = Field(default_factory=dict)
    run_at: Annotated[int, Field(ge=0, strict=True)] | None = Field(
        default=None,
        description="Unix seconds: the job is not dispatched before this (at most 7 days ahead); its "
        "credits are held from creation.",
    )


@dataclass(frozen=True)
class CreatedJob:
    job_id: str
    job: Job
    replayed: bool  # True when an earlier request with the same Idempotency-Key made it


def job_ref(job_id: str) -> firestore.DocumentReference:
    return firestore_client().collection(Job.collection).document(job_id)


def new_job_id() -> str:
    return "job_" + secrets.token_hex(12)


def idempotent_job_id(user_id: str, livemode: bool, idempotency_key: str) -> str:
    """The same (user, mode, key) always names the same job; 40 hex digits make collisions moot."""
    scope = f"{user_id}\x00{'live' if livemode else 'test'}\x00{idempotency_key}"
    return "job_" + hashlib.sha256(scope.encode()).hexdigest()[:40]


def request_fingerprint(request: CreateJobRequest) -> str:
    fields: dict[str, Any] = {"type": request.type, "input": request.input}
    if request.run_at is not None:
        fields["run_at"] = request.run_at
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def create_job(principal: KeyPrincipal, request: CreateJobRequest, idempotency_key: str | None) -> CreatedJob:
    job_type = resolve_job_type(request.type)
    if job_type is None:
        raise ApiError(
            ErrorCode.PARAMETER_INVALID,
            f"Unknown job type {request.type!r}; GET /v1/job_types lists the available ones.",
            param="type",
        )
    if not job_type.has_worker:
        raise ApiError(
            ErrorCode.PARAMETER_INVALID,
            f"Job type {request.type!r} has no worker yet: its jobs are refused until the operator gives "
            "it one.",
            param="type",
        )
    try:
        check_json_values(request.input)
        check_storable(request.input)
    except UnstorableValue as exc:
        raise ApiError(ErrorCode.PARAMETER_INVALID, f"Invalid {exc}.", param="input") from None
    fingerprint = request_fingerprint(request)
    job_id = (
        idempotent_job_id(principal.user_id, principal.livemode, idempotency_key)
        if idempotency_key is not None
        else new_job_id()
    )
    # Live jobs hold their price (fixed) or their type's max_credits (metered) from creation on.
    pricing = job_type.pricing
    price = pricing.credits if isinstance(pricing, FixedPricing) else 0
    held = (price if isinstance(pricing, FixedPricing) else pricing.max_credits) if principal.livemode else 0
    now = utc_now()
    run_at = _run_at(request.run_at, now)
    due = max(run_at, now) if run_at is not None else now
    expires_at = due + timedelta(seconds=job_type.queue_timeout_s)
    deadline_at = job_deadline(due, job_type.queue_timeout_s, job_type.timeout_s, job_type.max_attempts)
    sweep_at = queued_sweep_at(due, expires_at, recovery_grace(get_settings().is_production))
    if due > now:
        sweep_at = due  # nothing but the sweep hands out a delayed job, at its time
    definition = job_type.definition
    job = Job(
        user_id=principal.user_id,
        key_id=principal.key_id,
        type=request.type,
        input=request.input,
        livemode=principal.livemode,
        cost=price if principal.livemode else 0,
        reserved_credits=held,
        pricing=pricing,
        max_attempts=job_type.max_attempts,
        timeout_s=job_type.timeout_s,
        expires_at=expires_at,
        deadline_at=deadline_at,
        sweep_at=min(sweep_at, deadline_at),
        next_attempt_at=due if due > now else None,
        run_at=run_at,
        completion=definition.completion,
        cancel_policy=definition.cancel_policy,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        index_shard=index_shard(job_id),
        created_at=now,
        delete_at=test_data_expiry(principal.livemode, now),
    )
    ref = job_ref(job_id)
    if idempotency_key is None or not ref.get().exists:  # a replay never counts against the cap
        check_jobs_in_flight(principal)
        check_account_jobs_in_flight(principal)
    # A busy customer's paid job is admitted from this instance's credit lease: no balance write of its own
    # (shared/credits/lease_book.py); below the lease rate, or when no lease can be had, the exact path.
    admission = lease_book().admit(principal.user_id, held) if held > 0 else None
    try:
        if admission is not None and admission.lease_id is not None:
            job.lease_id = admission.lease_id
            ref.create(job.to_firestore())
        elif held > 0:
            applied = apply_credit_change(
                CreditChange(
                    user_id=principal.user_id,
                    amount=-held,
                    type=LedgerEntryType.JOB_DEBIT,
                    reference=job_id,
                    description=f"{request.type} job"
                    + ("" if isinstance(pricing, FixedPricing) else f" (up to {held} reserved)"),
                    # Without an Idempotency-Key the job id is random: the job's own create() in the
                    # batch already makes the debit once, and a marker would be one more read and write
                    # per job. With a key, the marker lets a replay short of credits still be told apart.
                    marker_id=f"debit:job:{job_id}" if idempotency_key is not None else None,
                    # Derived from the job: its refund or release finds the grants it took from.
                    entry_id=job_debit_entry_id(job_id),
                ),
                extra_writes=lambda batch, _balance: batch.create(ref, job.to_firestore()),
            )
            if applied.already_applied:
                return _replay(job_id, fingerprint)
        else:
            if principal.livemode:
                refuse_debt(principal.user_id)
            ref.create(job.to_firestore())
    except AlreadyExists:
        # The job exists: an earlier request with this Idempotency-Key made it (its debit included).
        return _replay(job_id, fingerprint)
    finally:
        if admission is not None:
            admission.done()  # its lease may settle once the creations admitted from it are done
    record_job(principal.user_id, principal.key_id, held, principal.livemode)
    return CreatedJob(job_id, job, replayed=False)


def _run_at(value: int | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    try:
        run_at = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        run_at = None
    refusal = run_at_refusal(run_at, now) if run_at is not None else "run_at is not a usable time."
    if refusal is not None:
        raise ApiError(ErrorCode.PARAMETER_INVALID, refusal, param="run_at")
    return run_at


def jobs_in_flight(key_id: str, cap: int) -> int:
    """Queued plus running jobs of one key, counted up to `cap` (count aggregations: one index-entry read
    per 1,000 jobs, no documents read). Concurrent creations may pass a cap by their number, no more."""
    collection = firestore_client().collection(Job.collection)
    total = 0
    for status in (JobStatus.QUEUED, JobStatus.RUNNING):
        query = collection.where(filter=firestore.FieldFilter("key_id", "==", key_id)).where(
            filter=firestore.FieldFilter("status", "==", status.value)
        )
        aggregation: Any = query.limit(cap).count()  # typed oddly upstream: get() is an instance method
        result = aggregation.get()
        total += int(result[0][0].value)
        if total >= cap:
            break
    return total


def check_jobs_in_flight(principal: KeyPrincipal) -> None:
    cap = DEFAULT_JOBS_IN_FLIGHT[principal.environment]
    if jobs_in_flight(principal.key_id, cap) >= cap:
        raise ApiError(
            ErrorCode.TOO_MANY_JOBS_IN_FLIGHT,
            f"This key has {cap} jobs queued or running, its limit; retry when some have finished.",
            headers={"Retry-After": "1"},
        )


def account_jobs_in_flight(user_id: str, livemode: bool, cap: int) -> int:
    """Queued plus running jobs of one account and mode, all keys together, counted up to `cap` (count
    aggregations over single-field indexes: no documents read)."""
    collection = firestore_client().collection(Job.collection)
    total = 0
    for status in (JobStatus.QUEUED, JobStatus.RUNNING):
        query = (
            collection.where(filter=firestore.FieldFilter("user_id", "==", user_id))
            .where(filter=firestore.FieldFilter("livemode", "==", livemode))
            .where(filter=firestore.FieldFilter("status", "==", status.value))
        )
        aggregation: Any = query.limit(cap - total).count()
        total += int(aggregation.get()[0][0].value)
        if total >= cap:
            break
    return total


def check_account_jobs_in_flight(principal: KeyPrincipal) -> None:
    """Many keys must not multiply an account's jobs: a cap over all of its keys of the key's mode."""
    cap = account_limits(principal.user_id, principal.environment).jobs_in_flight
    if account_jobs_in_flight(principal.user_id, principal.livemode, cap) >= cap:
        raise ApiError(
            ErrorCode.TOO_MANY_JOBS_IN_FLIGHT,
            f"This account has {cap} {principal.environment.value} jobs queued or running over all its "
            "keys, its limit; retry when some have finished.",
            headers={"Retry-After": "1"},
        )


def _replay(job_id: str, fingerprint: str) -> CreatedJob:
    snapshot = job_ref(job_id).get()
    if not snapshot.exists:  # unreachable: the marker and the job are written in one batch
        raise ApiError(ErrorCode.SERVICE_UNAVAILABLE, "Try again.", headers={"Retry-After": "1"})
    job = Job.from_firestore(snapshot.to_dict())
    if job.request_hash != fingerprint:
        raise ApiError(
            ErrorCode.IDEMPOTENCY_KEY_IN_USE,
            "This Idempotency-Key was already used with different parameters.",
            param=IDEMPOTENCY_HEADER,
        )
    return CreatedJob(job_id, job, replayed=True)


def get_job(principal: KeyPrincipal, job_id: str) -> Job:
    snapshot = visible_job_snapshot(principal, job_id)
    if snapshot is None:
        raise not_found("job", param="id")
    return Job.from_firestore(snapshot.to_dict())


def visible_job_snapshot(principal: KeyPrincipal, job_id: str) -> Snapshot | None:
    """The job when the caller may see it: their own, made in the same mode (live or test) as the key."""
    if not JOB_ID_PATTERN.fullmatch(job_id):
        return None
    snapshot = job_ref(job_id).get()
    if not snapshot.exists:
        return None
    data = snapshot.to_dict() or {}
    if data.get("user_id") != principal.user_id or data.get("livemode") is not principal.livemode:
        return None
    return snapshot


def jobs_query(
    principal: KeyPrincipal, status: JobStatus | None, including: tuple[str, ...] = ()
) -> firestore.Query:
    """The caller's jobs, newest first, without the big fields but those in `including`."""
    # Index: user_id ASC, livemode ASC, [status ASC,] user_range ASC, created_at DESC (firestore.indexes.json).
    query = (
        firestore_client()
        .collection(Job.collection)
        .select(summary_fields(*including))
        .where(filter=firestore.FieldFilter("user_id", "==", principal.user_id))
        .where(filter=firestore.FieldFilter("livemode", "==", principal.livemode))
    )
    if status is not None:
        query = query.where(filter=firestore.FieldFilter("status", "==", status.value))
    return in_user_ranges(query).order_by("created_at", direction=firestore.Query.DESCENDING)


def publish_new_job(change: DocumentChange) -> Callable[[], object]:
    """From the `on_job_created` trigger: hand a queued job to the workers. The trigger runs after the
    job's creation committed and is retried until it succeeds (at least once), so no job is lost between
    the API's write and the topic; a duplicate message is harmless to the workers.

    Returns the wait for the acknowledgement: the trigger overlaps it with its count and then calls it
    (it raises when the publish failed, so the trigger is retried)."""
    if change.value is None or change.value.get("status") != JobStatus.QUEUED.value:
        return lambda: None
    if change.value.get("next_attempt_at") is not None:
        return lambda: None  # a delayed job (run_at): the sweep hands it out at its time
    from shared.jobs.messages import start_dispatch_publish

    return start_dispatch_publish(change.document_id)
