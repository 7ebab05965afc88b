from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.api.auth_gate import require_key, require_user
from shared.api.http import NO_STORE, ApiRequest, EmptyBody, Reply, Router
from shared.api.resources import ApiKeyResource, NewApiKey, Page, RolledApiKey, WhoAmI
from shared.core.errors import ApiError, ErrorCode
from shared.core.pagination import PageQuery, page_params
from shared.keys.limits import MAX_RATE_LIMIT, MIN_RATE_LIMIT
from shared.keys.service import create_key, key_resource, list_keys_page, revoke_key, roll_key, update_key
from shared.models import KeyEnvironment

router = Router(tags=("api_keys",))


class CreateKeyBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "production server", "environment": "live"}]}
    )
    name: str = Field(default="", max_length=100)
    environment: KeyEnvironment = KeyEnvironment.TEST
    rate_limit: int | None = Field(
        default=None,
        ge=MIN_RATE_LIMIT,
        le=MAX_RATE_LIMIT,
        strict=True,
        description="Requests per second; default 100 for live keys, 25 for test keys.",
    )


class RollKeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"expires_in": 3600}]})
    expires_in: int = Field(
        default=0, ge=0, le=7 * 24 * 3600, strict=True, description="Seconds the old key keeps working."
    )
    rate_limit: int | None = Field(
        default=None,
        ge=MIN_RATE_LIMIT,
        le=MAX_RATE_LIMIT,
        strict=True,
        description="Requests per second of the new key; default: the old key's.",
    )


class UpdateKeyBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "batch jobs", "rate_limit": 50}]}
    )
    name: str = Field(default="", max_length=100)
    rate_limit: int | None = Field(
        default=None,
        ge=MIN_RATE_LIMIT,
        le=MAX_RATE_LIMIT,
        strict=True,
        description="Requests per second; null returns the key to the default of its environment.",
    )


@router.add(
    "POST",
    "/v1/api_keys",
    operation_id="create_api_key",
    auth="user",
    summary="Create a key; the plaintext is in this response only (Cache-Control: no-store).",
    body=CreateKeyBody,
    response=NewApiKey,
    status=201,
)
def create(request: ApiRequest) -> Reply:
    body = request.parse(CreateKeyBody)
    key_id, plaintext, key = create_key(
        require_user(request).user_id, body.name, body.environment, body.rate_limit
    )
    return Reply(key_resource(key_id, key, plaintext), status=201, headers=NO_STORE)


@router.add(
    "GET",
    "/v1/api_keys",
    operation_id="list_api_keys",
    auth="user",
    summary="The caller's keys, newest first (never the hash or plaintext).",
    query=PageQuery,
    response=Page[ApiKeyResource],
)
def list_all(request: ApiRequest) -> Reply:
    params = page_params(request.parsed_query(PageQuery))
    return Reply(list_keys_page(require_user(request).user_id, params))


@router.add(
    "POST",
    "/v1/api_keys/<key_id>/revoke",
    operation_id="revoke_api_key",
    auth="user",
    summary="Revoke a key (idempotent).",
    body=EmptyBody,
    response=ApiKeyResource,
)
def revoke(request: ApiRequest) -> Reply:
    key_id = request.path_params["key_id"]
    return Reply(key_resource(key_id, revoke_key(require_user(request).user_id, key_id)))


@router.add(
    "POST",
    "/v1/api_keys/<key_id>/roll",
    operation_id="roll_api_key",
    auth="user",
    summary="New key; the old expires after expires_in s (Cache-Control: no-store).",
    body=RollKeyBody,
    response=RolledApiKey,
    status=201,
    errors=(ErrorCode.ILLEGAL_STATE_TRANSITION,),
)
def roll(request: ApiRequest) -> Reply:
    body = request.parse(RollKeyBody)
    new_id, plaintext, new_key, old = roll_key(
        require_user(request).user_id, request.path_params["key_id"], body.expires_in, body.rate_limit
    )
    resource = key_resource(new_id, new_key, plaintext)
    resource["rolled_from"] = key_resource(request.path_params["key_id"], old)
    return Reply(resource, status=201, headers=NO_STORE)


@router.add(
    "PATCH",
    "/v1/api_keys/<key_id>",
    operation_id="update_api_key",
    auth="user",
    summary="Rename a key or change its rate limit.",
    body=UpdateKeyBody,
    response=ApiKeyResource,
    errors=(ErrorCode.PARAMETER_MISSING,),
    description="Send `name`, `rate_limit` (1..1000 requests/s, or null for the default) or both. "
    "Every instance applies a new limit within 5 s.",
)
def update(request: ApiRequest) -> Reply:
    body = request.parse(UpdateKeyBody)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if not changes:
        raise ApiError(ErrorCode.PARAMETER_MISSING, "Send name, rate_limit or both.", param="rate_limit")
    key_id = request.path_params["key_id"]
    return Reply(key_resource(key_id, update_key(require_user(request).user_id, key_id, changes)))


@router.add(
    "GET",
    "/v1/whoami",
    operation_id="whoami",
    auth="key",
    summary="Authentication only: which key and user is calling.",
    response=WhoAmI,
)
def whoami(request: ApiRequest) -> Reply:
    key = require_key(request)
    return Reply(
        {
            "key_id": key.key_id,
            "user_id": key.user_id,
            "environment": key.environment.value,
            "livemode": key.livemode,
        }
    )
