from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.api_keys import create_key, key_resource, list_keys, revoke_key, roll_key
from shared.auth_gate import require_key, require_user
from shared.http import ApiRequest, Reply, Router
from shared.models import KeyEnvironment

router = Router()


class CreateKeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=100)
    environment: KeyEnvironment = KeyEnvironment.TEST


class RollKeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expires_in: int = Field(default=0, ge=0, le=7 * 24 * 3600, strict=True)


@router.add(
    "POST", "/v1/api_keys", auth="user", summary="Create a key; the plaintext is in this response only."
)
def create(request: ApiRequest) -> Reply:
    body = request.parse(CreateKeyBody)
    key_id, plaintext, key = create_key(require_user(request).user_id, body.name, body.environment)
    return Reply(key_resource(key_id, key, plaintext), status=201)


@router.add("GET", "/v1/api_keys", auth="user", summary="The caller's keys (never the hash or plaintext).")
def list_all(request: ApiRequest) -> Reply:
    keys = list_keys(require_user(request).user_id)
    return Reply({"data": [key_resource(i, k) for i, k in keys], "has_more": False, "next_cursor": None})


@router.add("POST", "/v1/api_keys/<key_id>/revoke", auth="user", summary="Revoke a key (idempotent).")
def revoke(request: ApiRequest) -> Reply:
    key_id = request.path_params["key_id"]
    request.json_body()
    return Reply(key_resource(key_id, revoke_key(require_user(request).user_id, key_id)))


@router.add(
    "POST", "/v1/api_keys/<key_id>/roll", auth="user", summary="New key; the old expires after expires_in s."
)
def roll(request: ApiRequest) -> Reply:
    body = request.parse(RollKeyBody)
    new_id, plaintext, new_key, old = roll_key(
        require_user(request).user_id, request.path_params["key_id"], body.expires_in
    )
    resource = key_resource(new_id, new_key, plaintext)
    resource["rolled_from"] = key_resource(request.path_params["key_id"], old)
    return Reply(resource, status=201)


@router.add("GET", "/v1/whoami", auth="key", summary="Authentication only: which key and user is calling.")
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
