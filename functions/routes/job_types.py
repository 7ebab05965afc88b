"""Job types: the operator's (admin: create or replace, delete, rotate the worker secret, list) and the
customers' view of them (descriptions and prices)."""

from __future__ import annotations

from shared.api.http import NO_STORE, ApiRequest, EmptyBody, Reply, Router
from shared.api.resources import (
    JobTypeDeleted,
    JobTypeListing,
    JobTypeResource,
    Page,
)
from shared.core.errors import ErrorCode
from shared.core.pagination import PageQuery, page_of, page_params
from shared.workers.job_types import (
    JobTypeInput,
    delete_job_type,
    list_admin_job_types,
    list_public_job_types,
    put_job_type,
    revoke_retired_secrets,
    rotate_secret,
)

router = Router(tags=("job types",))


@router.add(
    "GET",
    "/v1/job_types",
    operation_id="list_job_types",
    auth="user_or_key",
    summary="The job types on offer, with their descriptions and prices.",
    query=PageQuery,
    response=Page[JobTypeListing],
)
def public_list(request: ApiRequest) -> Reply:
    params = page_params(request.parsed_query(PageQuery))
    items = [(item["type"], item) for item in list_public_job_types()]
    return Reply(page_of(items, params, lambda _name, item: item))


@router.add(
    "GET",
    "/v1/admin/job_types",
    operation_id="list_admin_job_types",
    auth="admin",
    summary="Every job type with its worker and settings (one without a worker refuses jobs until given one).",
    query=PageQuery,
    response=Page[JobTypeResource],
)
def admin_list(request: ApiRequest) -> Reply:
    params = page_params(request.parsed_query(PageQuery))
    items = [(item["type"], item) for item in list_admin_job_types()]
    return Reply(page_of(items, params, lambda _name, item: item))


@router.add(
    "PUT",
    "/v1/admin/job_types/<job_type>",
    operation_id="put_job_type",
    auth="admin",
    summary="Create or replace a job type; on creation the answer holds its worker_secret, once.",
    body=JobTypeInput,
    response=JobTypeResource,
    status=201,
    also=(200,),
    description="201 with `worker_secret` when created (also over a deleted type, or over a type without "
    "a worker), 200 when replaced (the secret is kept). The worker_url is checked as webhook URLs are (https in production, no "
    "private addresses).",
)
def put(request: ApiRequest) -> Reply:
    body = request.parse(JobTypeInput)
    resource, created = put_job_type(request.path_params["job_type"], body)
    # A created type's answer holds its worker secret: never kept by a cache or a proxy.
    return Reply(resource, status=201 if created else 200, headers=NO_STORE if created else {})


@router.add(
    "DELETE",
    "/v1/admin/job_types/<job_type>",
    operation_id="delete_job_type",
    auth="admin",
    summary="Delete a job type: new jobs of it are refused; queued ones still end by the rules.",
    response=JobTypeDeleted,
    errors=(ErrorCode.RESOURCE_MISSING,),
)
def delete(request: ApiRequest) -> Reply:
    return Reply(delete_job_type(request.path_params["job_type"]))


@router.add(
    "POST",
    "/v1/admin/job_types/<job_type>/rotate_secret",
    operation_id="rotate_job_type_secret",
    auth="admin",
    summary="A new worker secret (in this answer only); the old one keeps signing for 24 h.",
    body=EmptyBody,
    response=JobTypeResource,
    errors=(ErrorCode.RESOURCE_MISSING,),
)
def rotate(request: ApiRequest) -> Reply:
    return Reply(rotate_secret(request.path_params["job_type"]), headers=NO_STORE)


@router.add(
    "POST",
    "/v1/admin/job_types/<job_type>/revoke_retired_secrets",
    operation_id="revoke_job_type_retired_secrets",
    auth="admin",
    summary="Stop every retired worker secret signing now (before its 24 h); the current secret stays.",
    body=EmptyBody,
    response=JobTypeResource,
    errors=(ErrorCode.RESOURCE_MISSING,),
    description="For a secret that leaked: rotate, then revoke the retired ones once the worker has the new "
    "secret. At most 5 retired secrets sign at any time.",
)
def revoke_retired(request: ApiRequest) -> Reply:
    return Reply(revoke_retired_secrets(request.path_params["job_type"]))
