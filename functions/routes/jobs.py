from __future__ import annotations

from shared.auth_gate import require_key
from shared.errors import ApiError
from shared.http import ApiRequest, Reply, Router
from shared.job_resource import job_resource
from shared.jobs import (
    IDEMPOTENCY_HEADER,
    JOB_ID_PATTERN,
    CreateJobRequest,
    create_job,
    get_job,
    idempotency_key_from,
    jobs_query,
    visible_job_snapshot,
)
from shared.models import Job, JobStatus
from shared.pagination import list_page, page_params

router = Router()


@router.add("POST", "/v1/jobs", auth="key", summary="Create a job; live keys pay its cost in credits.")
def create(request: ApiRequest) -> Reply:
    principal = require_key(request)
    idempotency_key = idempotency_key_from(request.header(IDEMPOTENCY_HEADER))
    body = request.parse(CreateJobRequest)
    created = create_job(principal, body, idempotency_key)
    headers = {"Idempotent-Replayed": "true"} if created.replayed else {}
    return Reply(job_resource(created.job_id, created.job), status=201, headers=headers)


@router.add(
    "GET", "/v1/jobs/<job_id>", auth="key", summary="One of the caller's jobs (same mode as the key)."
)
def retrieve(request: ApiRequest) -> Reply:
    job_id = request.path_params["job_id"]
    return Reply(job_resource(job_id, get_job(require_key(request), job_id)))


@router.add("GET", "/v1/jobs", auth="key", summary="The caller's jobs, newest first, cursor-paginated.")
def list_jobs(request: ApiRequest) -> Reply:
    principal = require_key(request)
    params = page_params(request, JOB_ID_PATTERN)
    raw_status = request.query("status")
    status: JobStatus | None = None
    if raw_status is not None:
        try:
            status = JobStatus(raw_status)
        except ValueError:
            allowed = ", ".join(s.value for s in JobStatus)
            raise ApiError(
                "parameter_invalid", f"status must be one of: {allowed}.", param="status"
            ) from None
    page = list_page(
        jobs_query(principal, status),
        params,
        lambda job_id: visible_job_snapshot(principal, job_id),
        lambda snapshot: job_resource(snapshot.id, Job.from_firestore(snapshot.to_dict())),
    )
    return Reply(page)
