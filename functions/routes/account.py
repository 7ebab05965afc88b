from __future__ import annotations

from shared.accounts import account_resource, create_or_get_account, get_account
from shared.auth_gate import caller_user_id, require_user
from shared.http import ApiRequest, Reply, Router

router = Router()


@router.add("POST", "/v1/account", auth="user", summary="Create the signed-in user's account (idempotent).")
def create_account(request: ApiRequest) -> Reply:
    user = require_user(request)
    request.json_body()  # no parameters, but a malformed body is still refused
    account, created = create_or_get_account(user.user_id, user.email)
    return Reply(account_resource(user.user_id, account), status=201 if created else 200)


@router.add("GET", "/v1/account", auth="user_or_key", summary="Credits balance and founding member status.")
def read_account(request: ApiRequest) -> Reply:
    user_id = caller_user_id(request)
    return Reply(account_resource(user_id, get_account(user_id)))
