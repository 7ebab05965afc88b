"""A job as the API shows it (GET /v1/jobs/{id}) and as webhook events carry it in `data.object`.

One rendering for both, so a webhook receiver and an API client always see the same fields.

`cost` is what the job costs in the end: its fixed price (known from creation), a metered job's settled
cost once it completed (null before), and 0 for a job that failed or was canceled (its credits came back).
`reserved_credits` is what creation held.
A list item (GET /v1/jobs) leaves out `input` and `result` (up to 64 KiB each) unless the caller expands them.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Literal

from shared.models import Job, JobStatus, MeteredPricing


def job_cost(job: Job) -> int | None:
    if job.status in (JobStatus.FAILED, JobStatus.CANCELED):
        return 0 if job.refunded or not job.livemode or job.held_credits == 0 else job.cost
    if isinstance(job.pricing, MeteredPricing) and job.status is not JobStatus.COMPLETED:
        return None
    return job.cost


def _progress(job: Job) -> dict[str, Any] | None:
    """A callback worker's latest report, shown while the job runs."""
    if job.progress is None or job.status is not JobStatus.RUNNING:
        return None
    return {
        "percent": job.progress.percent,
        "message": job.progress.message,
        "updated_at": int(job.progress.updated_at.timestamp()),
    }


# The fields a list leaves out unless `expand[]` names them (Stripe's expand[]=data.<field>).
Expandable = Literal["data.input", "data.result"]
EXPANDABLE_FIELDS: tuple[str, ...] = ("input", "result")


def job_resource(job_id: str, job: Job) -> dict[str, Any]:
    usage = None
    if isinstance(job.pricing, MeteredPricing) and job.usage_units is not None:
        usage = {"units": job.usage_units, "unit": job.pricing.unit}
    return {
        "job_id": job_id,
        "type": job.type,
        "status": job.status.value,
        "input": job.input,
        "result": job.result,
        "error": job.error,
        "failure_reason": job.failure_reason.value if job.failure_reason is not None else None,
        "livemode": job.livemode,
        "cost": job_cost(job),
        "reserved_credits": job.held_credits,
        "usage": usage,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "progress": _progress(job),
        "run_at": int(job.run_at.timestamp()) if job.run_at is not None else None,
        "created_at": int(job.created_at.timestamp()),
        "finished_at": int(job.finished_at.timestamp()) if job.finished_at is not None else None,
    }


def job_list_item(job_id: str, job: Job, expand: Collection[str] = ()) -> dict[str, Any]:
    """A job in a list: everything but the big fields the caller did not expand."""
    resource = job_resource(job_id, job)
    for name in EXPANDABLE_FIELDS:
        if f"data.{name}" not in expand:
            del resource[name]
    return resource
