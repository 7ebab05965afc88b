from __future__ import annotations

from pydantic import Field

from shared.api.auth_gate import bearer_token, refuse_callback, require_key
from shared.api.http import ApiRequest, EmptyBody, Reply, Router
from shared.api.resources import JobCallbackAnswer, JobListItem, JobResource, Page
from shared.core.errors import ApiError, ErrorCode
from shared.core.idempotency import IDEMPOTENCY_HEADER, idempotency_key_from, replay_headers
from shared.core.pagination import PageQuery, list_page, page_params
from shared.jobs.callbacks import JobCallbackBody, accept_callback
from shared.jobs.lifecycle import cancel_job
from shared.jobs.resource import Expandable, job_list_item, job_resource
from shared.jobs.service import (
    JOB_ID_PATTERN,
    CreateJobRequest,
    create_job,
    get_job,
    jobs_query,
    visible_job_snapshot,
)
from shared.models import Job, JobStatus

router = Router(tags=("jobs",))


# An expanded page carries up to 128 KiB per job: fewer of them, so a page stays a few MB at most.
MAX_EXPANDED_LIMIT = 20


class JobsQuery(PageQuery):
    status: JobStatus | None = Field(default=None, description="Only jobs in this status.")
    expand: list[Expandable] = Field(
        default_factory=list,
        alias="expand[]",
        description="Repeatable: data.input and/or data.result to include them in each item "
        f"(then limit is at most {MAX_EXPANDED_LIMIT}).",
    )


@router.add(
    "POST",
    "/v1/jobs",
    operation_id="create_job",
    auth="key",
    summary="Create a job; live keys pay its cost in credits.",
    body=CreateJobRequest,
    response=JobResource,
    status=201,
    errors=(
        ErrorCode.INSUFFICIENT_CREDITS,
        ErrorCode.IDEMPOTENCY_KEY_IN_USE,
        ErrorCode.ACCOUNT_MISSING,
        ErrorCode.TOO_MANY_JOBS_IN_FLIGHT,
    ),
    headers=(IDEMPOTENCY_HEADER,),
    description="Honours Idempotency-Key: a repeat answers the first job with `Idempotent-Replayed: true`.",
)
def create(request: ApiRequest) -> Reply:
    principal = require_key(request)
    idempotency_key = idempotency_key_from(request.header(IDEMPOTENCY_HEADER))
    created = create_job(principal, request.parse(CreateJobRequest), idempotency_key)
    headers = replay_headers(created.replayed)
    return Reply(job_resource(created.job_id, created.job), status=201, headers=headers)


@router.add(
    "GET",
    "/v1/jobs/<job_id>",
    operation_id="get_job",
    auth="key",
    summary="One of the caller's jobs (same mode as the key).",
    response=JobResource,
)
def retrieve(request: ApiRequest) -> Reply:
    job_id = request.path_params["job_id"]
    return Reply(job_resource(job_id, get_job(require_key(request), job_id)))


@router.add(
    "GET",
    "/v1/jobs",
    operation_id="list_jobs",
    auth="key",
    summary="The caller's jobs, newest first, cursor-paginated.",
    query=JobsQuery,
    response=Page[JobListItem],
    description="Items leave out `input` and `result` unless `expand[]=data.input` / "
    "`expand[]=data.result` asks for them (GET /v1/jobs/{job_id} always has both): a page of 100 full "
    f"jobs could be 13 MB. With expand[], `limit` is at most {MAX_EXPANDED_LIMIT}.",
)
def list_jobs(request: ApiRequest) -> Reply:
    principal = require_key(request)
    query = request.parsed_query(JobsQuery)
    expand = frozenset(query.expand)
    if expand and query.limit > MAX_EXPANDED_LIMIT:
        raise ApiError(
            ErrorCode.PARAMETER_INVALID,
            f"With expand[], limit is at most {MAX_EXPANDED_LIMIT}.",
            param="limit",
        )
    page = list_page(
        jobs_query(principal, query.status, tuple(name.removeprefix("data.") for name in expand)),
        page_params(query, JOB_ID_PATTERN),
        lambda job_id: visible_job_snapshot(principal, job_id),
        lambda snapshot: job_list_item(snapshot.id, Job.from_firestore(snapshot.to_dict()), expand),
    )
    return Reply(page)


@router.add(
    "POST",
    "/v1/jobs/<job_id>/cancel",
    operation_id="cancel_job",
    auth="key",
    summary="Cancel a queued or running job; its credits come back by the type's cancel_policy.",
    body=EmptyBody,
    response=JobResource,
    errors=(ErrorCode.ILLEGAL_STATE_TRANSITION,),
    description="The job becomes `canceled` and a `job.canceled` webhook event is sent; a running job's "
    "worker is sent a cancel notice, and its answer to the dispatch arriving later changes nothing. With "
    "the type's `cancel_policy: charge_started` a job canceled while running keeps its fixed price (or "
    "costs the units a metered worker reports); otherwise everything comes back. A completed or failed job answers 409 (the message names its "
    "state); canceling a canceled job answers it again.",
)
def cancel(request: ApiRequest) -> Reply:
    principal = require_key(request)
    job_id = request.path_params["job_id"]
    get_job(principal, job_id)  # the owner's key of the job's mode, else 404
    return Reply(job_resource(job_id, cancel_job(job_id).job))


@router.add(
    "POST",
    "/v1/jobs/<job_id>/callback",
    operation_id="job_callback",
    auth="callback",
    summary="A callback worker reports its attempt: a result, an error, or progress (docs/workers.md).",
    body=JobCallbackBody,
    response=JobCallbackAnswer,
    errors=(ErrorCode.ILLEGAL_STATE_TRANSITION,),
    description="Authorization: Bearer <callback_token> of the dispatch. A result or an error is applied "
    "once: a repeat, or a report after the attempt ended (canceled, past its deadline), answers 409 and "
    "changes nothing; a token that is not the attempt's answers 401.",
)
def callback(request: ApiRequest) -> Reply:
    request.parse(JobCallbackBody)  # the shape; its meaning is read from the body by the service
    try:
        answer = accept_callback(request.path_params["job_id"], bearer_token(request), request.raw_body())
    except ApiError as exc:
        raise refuse_callback(request, exc) from None
    return Reply(answer)
