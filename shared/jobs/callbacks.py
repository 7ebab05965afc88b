"""A callback worker's report on its running attempt (`POST /v1/jobs/{job_id}/callback`, docs/workers.md).

The bearer token was made for the attempt by the dispatcher; the job stores only its sha256. A result or an
error ends the attempt through the lifecycle (shared/jobs/lifecycle.finish_attempt: once; a repeat, or a
report after the job moved on, changes nothing and answers 409; an answer the lifecycle kept for the sweep,
its owner's balance being busy, is accepted); progress is recorded while it runs.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from shared.core.errors import ApiError, ErrorCode, not_found
from shared.jobs.callback_rules import CallbackRefused, callback_token_matches, read_callback
from shared.jobs.lifecycle import finish_attempt, report_progress
from shared.jobs.service import JOB_ID_PATTERN, job_ref
from shared.models import Job, JobStatus, MeteredPricing, ModelDataError, utc_now


class CallbackUsage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    units: Annotated[float, Field(ge=0, allow_inf_nan=False)]


class CallbackError(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(default=None, max_length=100)
    message: str = Field(min_length=1, max_length=1000)


class CallbackProgress(BaseModel):
    model_config = ConfigDict(extra="forbid")

    percent: Annotated[float, Field(ge=0, le=100)]
    message: str = Field(default="", max_length=500)


class JobCallbackBody(BaseModel):
    """Exactly one of: `result` (with `usage` for a metered type), `error` (with `retryable`), `progress`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"result": {"text": "..."}, "usage": {"units": 12.5}},
                {"error": {"code": "bad_audio", "message": "The file is not audio."}, "retryable": False},
                {"progress": {"percent": 40, "message": "transcribing"}},
            ]
        },
    )

    result: dict[str, Any] | None = None
    usage: CallbackUsage | None = None
    error: CallbackError | None = None
    retryable: bool | None = None
    progress: CallbackProgress | None = None


def _job(job_id: str) -> Job:
    if not JOB_ID_PATTERN.fullmatch(job_id):
        raise not_found("job", param="job_id")
    snapshot = job_ref(job_id).get()
    if not snapshot.exists:
        raise not_found("job", param="job_id")
    try:
        return Job.from_firestore(snapshot.to_dict())
    except ModelDataError:
        raise not_found("job", param="job_id") from None


def _answer_held(job: Job, attempt: int) -> bool:
    return (
        job.status is JobStatus.RUNNING and job.held_answer is not None and job.held_answer.attempt == attempt
    )


def _already_ended(job: Job, attempt: int) -> ApiError:
    return ApiError(
        ErrorCode.ILLEGAL_STATE_TRANSITION,
        f"Attempt {attempt} already ended (the job is {job.status.value}); this callback changes nothing.",
    )


def accept_callback(job_id: str, token: str | None, body: bytes) -> dict[str, Any]:
    """Apply one callback; raises 401 for a token that is not the running attempt's (or the last one's),
    400 for a body the contract does not allow, 409 once the attempt ended."""
    job = _job(job_id)
    if not callback_token_matches(token, job.callback_token_hash):
        raise ApiError(ErrorCode.INVALID_CALLBACK_TOKEN, "The callback token is not this job's.")
    attempt = job.attempts
    try:
        report = read_callback(
            body,
            attempt=attempt,
            max_attempts=job.max_attempts,
            metered=isinstance(job.pricing, MeteredPricing),
            now=utc_now(),
        )
    except CallbackRefused as exc:
        raise ApiError(ErrorCode.PARAMETER_INVALID, str(exc)) from None
    if report.progress is not None:
        moved = report_progress(job_id, attempt, report.progress)
        if not moved.changed:
            raise _already_ended(moved.job, attempt)
        return {"job_id": job_id, "accepted": True, "status": JobStatus.RUNNING.value}
    assert report.outcome is not None  # a callback is progress or an outcome
    outcome = finish_attempt(job_id, attempt, report.outcome)
    if outcome.held or _answer_held(outcome.job, attempt):
        # Kept on the job for the sweep to apply (the balance was busy): accepted, not to be sent again.
        return {"job_id": job_id, "accepted": True, "status": JobStatus.RUNNING.value}
    if not outcome.changed:
        raise _already_ended(outcome.job, attempt)
    return {"job_id": job_id, "accepted": True, "status": outcome.job.status.value}
