"""The operator's job types (admin API): create or replace, delete, rotate the signing secret, list. The
seeded types (`echo`, and those migrated from `system/config.job_costs`) are stored the same way
(shared/workers/catalogue.py) and managed through the same endpoints.

A type's `worker_secret` (`whsec_...`) signs every dispatch to its worker (Standard Webhooks); it is shown
once, when the type is created (or re-created after a delete) and when it is rotated. A rotated secret
keeps signing alongside the new one for ROTATION_OVERLAP, as webhook secrets do; at most MAX_RETIRED_SECRETS
of them, and the operator can revoke them all at once (a leaked secret must not sign for another day).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.core.clients import current_project, firestore_client
from shared.core.errors import ApiError, ErrorCode, not_found
from shared.core.firestore_values import UnstorableValue, check_storable
from shared.core.retry import RETRYABLE_COMMIT_ERRORS, retry_commit
from shared.core.settings import get_settings
from shared.jobs.attempts import MAX_RESULT_BYTES
from shared.jobs.turns import DEFAULT_MAX_CONCURRENCY
from shared.jobs.types import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_QUEUE_TIMEOUT_S,
    DEFAULT_TIMEOUT_S,
    MAX_RESPONSE_TIMEOUT_S,
    ResolvedType,
    available_job_types,
    forget_cached_types,
    resolved_type,
)
from shared.models import (
    CALLBACK_TIMEOUT_S_MAX,
    JOB_MAX_ATTEMPTS_RANGE,
    JOB_MAX_CONCURRENCY_RANGE,
    JOB_MAX_RATE_PER_S_RANGE,
    JOB_QUEUE_TIMEOUT_S_RANGE,
    JOB_TIMEOUT_S_RANGE,
    CancelPolicy,
    FixedPricing,
    JobCompletion,
    JobTestMode,
    JobType,
    MeteredPricing,
    utc_now,
)
from shared.outbound import signing
from shared.outbound.signing import generate_signing_secret, rotated
from shared.outbound.targets import check_url

# Retired secrets that still sign, at most (rotations in quick succession push the oldest out first).
MAX_RETIRED_SECRETS = 5
# Narrower than the names jobs accept (TYPE_NAME_PATTERN): a path parameter allows no '.' (docs/api-conventions.md).
_TYPE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class JobTypeInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "worker_url": "https://worker.example.com/",
                    "description": "Transcribes audio.",
                    "pricing": {"credits_per_unit": 2, "max_credits": 100, "unit": "second"},
                    "timeout_s": 300,
                    "max_attempts": 3,
                    "queue_timeout_s": 3600,
                    "completion": "response",
                    "test_jobs": "sample",
                    "sample_result": {"text": "sample transcript"},
                    "cancel_policy": "refund",
                    "max_concurrency": 10,
                    "max_rate_per_s": 5,
                }
            ]
        },
    )

    worker_url: str = Field(min_length=1, max_length=2048)
    description: str = Field(default="", max_length=1000)
    pricing: FixedPricing | MeteredPricing = Field(
        description='`{"credits": n}` (fixed) or `{"credits_per_unit", "max_credits", "unit"}` (metered).'
    )
    timeout_s: Annotated[int, Field(ge=JOB_TIMEOUT_S_RANGE[0], le=CALLBACK_TIMEOUT_S_MAX, strict=True)] = (
        DEFAULT_TIMEOUT_S
    )
    max_attempts: Annotated[
        int, Field(ge=JOB_MAX_ATTEMPTS_RANGE[0], le=JOB_MAX_ATTEMPTS_RANGE[1], strict=True)
    ] = DEFAULT_MAX_ATTEMPTS
    queue_timeout_s: Annotated[
        int, Field(ge=JOB_QUEUE_TIMEOUT_S_RANGE[0], le=JOB_QUEUE_TIMEOUT_S_RANGE[1], strict=True)
    ] = DEFAULT_QUEUE_TIMEOUT_S
    completion: JobCompletion = Field(
        default=JobCompletion.RESPONSE,
        description="response: the worker's answer ends the attempt; callback: it answers 202 and POSTs "
        "the outcome to callback_url by timeout_s (up to 24 h).",
    )
    test_jobs: JobTestMode = Field(
        default=JobTestMode.SAMPLE,
        description="sample: test-mode jobs complete with sample_result, the worker is not called; "
        "worker: they are sent to it with livemode false.",
    )
    sample_result: dict[str, Any] = Field(
        default_factory=dict, description="The result of test-mode jobs when test_jobs is sample."
    )
    cancel_policy: CancelPolicy = Field(
        default=CancelPolicy.REFUND,
        description="refund: a canceled job costs nothing; charge_started: a running job canceled keeps "
        "its fixed price, or a metered one costs the units its worker reports.",
    )

    max_concurrency: Annotated[
        int,
        Field(
            ge=JOB_MAX_CONCURRENCY_RANGE[0],
            le=JOB_MAX_CONCURRENCY_RANGE[1],
            strict=True,
            description="The most attempts in flight at the worker at once, over every instance; jobs beyond "
            "it wait queued.",
        ),
    ] = DEFAULT_MAX_CONCURRENCY
    max_rate_per_s: (
        Annotated[
            float,
            Field(
                ge=JOB_MAX_RATE_PER_S_RANGE[0],
                le=JOB_MAX_RATE_PER_S_RANGE[1],
                description="Dispatches per second to the worker at most (none: no rate limit); jobs beyond "
                "it wait queued.",
            ),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _response_timeout_fits_the_dispatcher(self) -> JobTypeInput:
        # A worker that answers in its response is waited for by run_job, which lives at most 540 s.
        if self.completion is JobCompletion.RESPONSE and self.timeout_s > MAX_RESPONSE_TIMEOUT_S:
            raise ValueError(
                f"timeout_s of a type whose worker answers in its response is at most {MAX_RESPONSE_TIMEOUT_S} "
                f"(what the dispatcher can wait: docs/workers.md, Limits); a callback type's: "
                f"{CALLBACK_TIMEOUT_S_MAX}"
            )
        return self


def _check_sample_result(sample: dict[str, Any]) -> None:
    try:
        check_storable(sample)
    except UnstorableValue as exc:
        raise ApiError(ErrorCode.PARAMETER_INVALID, f"Invalid {exc}.", param="sample_result") from None
    if len(json.dumps(sample, separators=(",", ":")).encode()) > MAX_RESULT_BYTES:
        raise ApiError(
            ErrorCode.PARAMETER_INVALID,
            f"sample_result is larger than {MAX_RESULT_BYTES} bytes.",
            param="sample_result",
        )


def _ref(name: str) -> firestore.DocumentReference:
    return firestore_client().collection(JobType.collection).document(name)


def valid_type_name(name: str) -> bool:
    return _TYPE_NAME.fullmatch(name) is not None


def check_type_name(name: str) -> None:
    if not valid_type_name(name):
        raise ApiError(
            ErrorCode.PARAMETER_INVALID,
            "A job type is 1-64 characters of a-z, 0-9, '_', '-', starting with a letter or digit.",
            param="type",
        )


def _unix(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


def pricing_resource(pricing: FixedPricing | MeteredPricing) -> dict[str, Any]:
    return pricing.model_dump(mode="json")


def admin_resource(name: str, job_type: ResolvedType, secret: str | None = None) -> dict[str, Any]:
    definition = job_type.definition
    body: dict[str, Any] = {
        "type": name,
        "description": definition.description,
        "worker_url": definition.worker_url,
        "pricing": pricing_resource(definition.pricing),
        "timeout_s": definition.timeout_s,
        "max_attempts": definition.max_attempts,
        "queue_timeout_s": definition.queue_timeout_s,
        "completion": definition.completion.value,
        "test_jobs": definition.test_jobs.value,
        "sample_result": definition.sample_result,
        "cancel_policy": definition.cancel_policy.value,
        "max_concurrency": definition.max_concurrency,
        "max_rate_per_s": definition.max_rate_per_s,
        "created_at": _unix(definition.created_at),
        "updated_at": _unix(definition.updated_at),
    }
    if secret is not None:
        body["worker_secret"] = secret
    return body


def public_resource(job_type: ResolvedType) -> dict[str, Any]:
    return {
        "type": job_type.name,
        "description": job_type.description,
        "pricing": pricing_resource(job_type.pricing),
    }


def put_job_type(name: str, body: JobTypeInput) -> tuple[dict[str, Any], bool]:
    """Create or replace; returns (resource, created). Creating (also over a deleted type, or over a type
    migrated without a worker, whose secret nobody was shown) makes a new secret, shown in this answer only;
    replacing keeps the secret."""
    check_type_name(name)
    check_url(body.worker_url, param="worker_url")
    _check_sample_result(body.sample_result)
    ref = _ref(name)
    db = firestore_client()

    def attempt() -> tuple[dict[str, Any], bool]:
        snapshot = ref.get()
        now = utc_now()
        fields = body.model_dump()
        fields["pricing"] = body.pricing
        fields["dispatch_topic"] = None
        current = JobType.from_firestore(snapshot.to_dict()) if snapshot.exists else None
        if current is None or current.deleted_at is not None or current.worker_url is None:
            secret = generate_signing_secret()
            job_type = JobType(**fields, secret=secret, created_at=now, updated_at=now)
            if current is None:
                ref.create(job_type.to_firestore())  # AlreadyExists: created meanwhile, read again
            else:
                ref.update(
                    job_type.to_firestore(), option=db.write_option(last_update_time=snapshot.update_time)
                )
            return admin_resource(name, resolved_type(name, job_type), secret=secret), True
        updated = current.model_copy(update={**fields, "updated_at": now})
        ref.update(updated.to_firestore(), option=db.write_option(last_update_time=snapshot.update_time))
        return admin_resource(name, resolved_type(name, updated)), False

    try:
        result = retry_commit(
            attempt,
            what=f"job type {name}",
            retry_on=(*RETRYABLE_COMMIT_ERRORS, AlreadyExists),
            max_attempts=20,
        )
    finally:
        forget_cached_types()
    return result


def _live_definition(name: str) -> tuple[Any, JobType]:
    snapshot = _ref(name).get()
    if not snapshot.exists:
        raise not_found("job type", param="type")
    job_type = JobType.from_firestore(snapshot.to_dict())
    if job_type.deleted_at is not None:
        raise not_found("job type", param="type")
    return snapshot, job_type


def delete_job_type(name: str) -> dict[str, Any]:
    """New jobs of the type are refused from now on; jobs already queued still end by the rules (they are
    dispatched, expire or run out of attempts). The definition stays as a tombstone for them."""
    check_type_name(name)
    db = firestore_client()

    def attempt() -> dict[str, Any]:
        snapshot, _ = _live_definition(name)
        now = utc_now()
        _ref(name).update(
            {"deleted_at": now, "updated_at": now},
            option=db.write_option(last_update_time=snapshot.update_time),
        )
        return {"type": name, "deleted": True}

    try:
        return retry_commit(
            attempt, what=f"job type {name} while deleting it", retry_on=RETRYABLE_COMMIT_ERRORS
        )
    finally:
        forget_cached_types()


def rotate_secret(name: str) -> dict[str, Any]:
    """A new secret (in this answer only); the old one keeps signing for ROTATION_OVERLAP."""
    check_type_name(name)
    db = firestore_client()

    def attempt() -> dict[str, Any]:
        snapshot, current = _live_definition(name)
        now = utc_now()
        secret = generate_signing_secret()
        older = rotated(current.secret, current.older_secrets, now)[:MAX_RETIRED_SECRETS]
        updated = current.model_copy(update={"secret": secret, "older_secrets": older, "updated_at": now})
        _ref(name).update(
            updated.to_firestore(), option=db.write_option(last_update_time=snapshot.update_time)
        )
        return admin_resource(name, resolved_type(name, updated), secret=secret)

    try:
        return retry_commit(
            attempt, what=f"job type {name} while rotating its secret", retry_on=RETRYABLE_COMMIT_ERRORS
        )
    finally:
        forget_cached_types()


def revoke_retired_secrets(name: str) -> dict[str, Any]:
    """Every retired secret stops signing now; the current one stays. Workers that still verify with only a
    retired secret refuse dispatches from now on (within the echo worker's and run_job's cache times)."""
    check_type_name(name)
    db = firestore_client()

    def attempt() -> dict[str, Any]:
        snapshot, current = _live_definition(name)
        updated = current.model_copy(update={"older_secrets": [], "updated_at": utc_now()})
        _ref(name).update(
            {"older_secrets": [], "updated_at": updated.updated_at},
            option=db.write_option(last_update_time=snapshot.update_time),
        )
        return admin_resource(name, resolved_type(name, updated))

    try:
        return retry_commit(
            attempt,
            what=f"job type {name} while revoking its retired secrets",
            retry_on=RETRYABLE_COMMIT_ERRORS,
        )
    finally:
        forget_cached_types()


def list_admin_job_types() -> list[dict[str, Any]]:
    return [admin_resource(t.name, t) for t in available_job_types()]


def list_public_job_types() -> list[dict[str, Any]]:
    """The types on offer: a type without a worker refuses new jobs, so it is not offered."""
    return [public_resource(t) for t in available_job_types() if t.has_worker]


def signing_secrets(job_type: JobType, now: datetime) -> list[str]:
    """The secret and every retired one still within its overlap: a worker on either verifies."""
    return signing.signing_secrets(job_type.secret, job_type.older_secrets, now)


def function_url(name: str) -> str:
    """An HTTP function of the platform (`api`, `echo_worker`), in this project."""
    settings = get_settings()
    project = current_project()
    if settings.functions_base_url:
        return f"{settings.functions_base_url.rstrip('/')}/{project}/{settings.region}/{name}"
    return f"https://{settings.region}-{project}.cloudfunctions.net/{name}"
