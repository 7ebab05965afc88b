"""A job as the API shows it (GET /v1/jobs/{id}) and as webhook events carry it in `data.object`.

One rendering for both, so a webhook receiver and an API client always see the same fields.
"""

from __future__ import annotations

from typing import Any

from shared.models import Job


def job_resource(job_id: str, job: Job) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "type": job.type,
        "status": job.status.value,
        "input": job.input,
        "result": job.result,
        "error": job.error,
        "livemode": job.livemode,
        "cost": job.cost,
        "created_at": int(job.created_at.timestamp()),
    }
