"""A job as the API shows it (GET /v1/jobs/{id}) and as webhook events carry it in `data.object`.

One rendering for both, so a webhook receiver and an API client always see the same fields.

`cost` is what the job costs in the end: its fixed price (known from creation), a metered job's settled
cost once it completed (null before), and 0 for a job that failed or was canceled (its credits came back).
`reserved_credits` is what creation held.
"""

from __future__ import annotations

from typing import Any

from shared.models import Job, JobStatus, MeteredPricing


def job_cost(job: Job) -> int | None:
    if job.status in (JobStatus.FAILED, JobStatus.CANCELED):
        return 0 if job.refunded or not job.livemode or job.held_credits == 0 else job.cost
    if isinstance(job.pricing, MeteredPricing) and job.status is not JobStatus.COMPLETED:
        return None
    return job.cost


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
        "created_at": int(job.created_at.timestamp()),
        "finished_at": int(job.finished_at.timestamp()) if job.finished_at is not None else None,
    }
