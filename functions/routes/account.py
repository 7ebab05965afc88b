from __future__ import annotations

from shared.accounts.service import account_resource, get_account
from shared.api.auth_gate import caller_user_id, is_test_key, require_user
from shared.api.http import ApiRequest, EmptyBody, Reply, Router
from shared.api.resources import AccountResource
from shared.core.errors import ErrorCode
from shared.credits.granting import open_account

router = Router(tags=("account",))


@router.add(
    "POST",
    "/v1/account",
    operation_id="create_account",
    auth="user",
    summary="Create the signed-in user's account (idempotent).",
    body=EmptyBody,
    response=AccountResource,
    status=201,
    also=(200,),
    description="201 when created now, 200 with the same account when it already existed. A new account"
    " gets the sign-up grant, when the operator set one (PUT /v1/admin/signup_grant).",
)
def create_account(request: ApiRequest) -> Reply:
    user = require_user(request)
    account, created = open_account(user.user_id, user.email)
    return Reply(account_resource(user.user_id, account), status=201 if created else 200)


@router.add(
    "GET",
    "/v1/account",
    operation_id="get_account",
    auth="user_or_key",
    summary="Credits balance and founding member status.",
    response=AccountResource,
    errors=(ErrorCode.RESOURCE_MISSING,),
    description="Test keys see the test-mode balance: credits 0, livemode false.",
)
def read_account(request: ApiRequest) -> Reply:
    user_id = caller_user_id(request)
    return Reply(
        account_resource(
            user_id,
            get_account(user_id, missing=ErrorCode.RESOURCE_MISSING),
            livemode=not is_test_key(request),
        )
    )
