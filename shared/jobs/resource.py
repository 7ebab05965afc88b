"""A job as the API shows it (GET /v1/jobs/{id}) and as webhook events carry it in `data.object`.

One rendering for both, so a webhook receiver and an API client always see the same fields. A list item
(GET /v1/jobs) leaves out `input` and `result` (up to 64 KiB each) unless the caller expands them.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Literal

from shared.models import Job

# The fields a list leaves out unless `expand[]` names them (Stripe's expand[]=data.<field>).
Expandable = Literal["data.input", "data.result"]
EXPANDABLE_FIELDS: tuple[str, ...] = ("input", "result")


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


def job_list_item(job_id: str, job: Job, expand: Collection[str] = ()) -> dict[str, Any]:
    """A job in a list: everything but the big fields the caller did not expand."""
    resource = job_resource(job_id, job)
    for name in EXPANDABLE_FIELDS:
        if f"data.{name}" not in expand:
            del resource[name]
    return resource
