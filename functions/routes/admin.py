"""Administrator routes: platform counters, the maintenance switch (exempt from maintenance mode), balance
corrections (credit adjustments), and the operator's webhook controls for any customer (the same as the
customer's own: docs/webhooks.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator

from shared.api.auth_gate import require_user
from shared.api.http import ApiRequest, EmptyBody, Reply, Router
from shared.api.resources import (
    AccountLimitsResource,
    AdminStats,
    ApiKeyResource,
    CreditGrantResource,
    LedgerEntryResource,
    MaintenanceState,
    SignupGrantResource,
    WebhookEndpointResource,
    WebhookEventRetried,
    WebhookRecovered,
)
from shared.core.errors import ErrorCode, not_found
from shared.core.idempotency import IDEMPOTENCY_HEADER, replay_headers, required_idempotency_key
from shared.counters.service import read_totals
from shared.credits.adjustments import adjust_credits
from shared.credits.granting import create_grant, set_signup_grant, void_grant
from shared.credits.ledger import GRANT_ID_PATTERN
from shared.keys.account_limits import (
    MAX_ACCOUNT_JOBS_IN_FLIGHT,
    MAX_ACCOUNT_RATE_LIMIT,
    admin_get_account_limits,
    admin_set_account_limits,
)
from shared.keys.limits import MAX_RATE_LIMIT, MIN_RATE_LIMIT
from shared.keys.service import admin_set_rate_limit, key_resource
from shared.keys.usage import read_usage_totals
from shared.models import GrantCategory
from shared.system.maintenance import read_maintenance_mode, set_maintenance_mode
from shared.webhooks.controls import RecoverInput, health_resource, recover, retry_event

router = Router(tags=("admin",))


class MaintenanceInput(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"enabled": True}]})

    enabled: StrictBool


@router.add(
    "GET",
    "/v1/admin/stats",
    operation_id="get_admin_stats",
    auth="admin",
    summary="system/config counters, exact now.",
    response=AdminStats,
)
def stats(request: ApiRequest) -> Reply:
    # The shards are the source of truth; system/config receives their sums on each fold (docs/counters.md).
    return Reply(
        {
            **read_totals().as_fields(),
            "maintenance_mode": read_maintenance_mode(),
            "usage": read_usage_totals(),
        }
    )


@router.add(
    "PUT",
    "/v1/admin/maintenance",
    operation_id="set_maintenance_mode",
    auth="admin",
    summary="Switch maintenance mode on or off.",
    body=MaintenanceInput,
    response=MaintenanceState,
    description="While on, every route but health, the OpenAPI description and admin answers 503.",
)
def set_maintenance(request: ApiRequest) -> Reply:
    body = request.parse(MaintenanceInput)
    set_maintenance_mode(body.enabled)
    return Reply({"maintenance_mode": body.enabled})


class AdminKeyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"rate_limit": 500}]})

    rate_limit: int | None = Field(
        ge=MIN_RATE_LIMIT,
        le=MAX_RATE_LIMIT,
        strict=True,
        description="Requests per second, above the default if need be; null returns to the default.",
    )


@router.add(
    "PATCH",
    "/v1/admin/api_keys/<key_id>",
    auth="admin",
    summary="Set any customer key's rate limit (customers may only lower their own).",
    body=AdminKeyUpdate,
    response=ApiKeyResource,
    errors=(ErrorCode.RESOURCE_MISSING,),
    description="The customer may lower the limit afterwards, never raise it past this value. Every "
    "instance applies it within 5 s. The account-wide limit (docs/rate-limits.md) still applies.",
)
def set_key_rate_limit(request: ApiRequest) -> Reply:
    body = request.parse(AdminKeyUpdate)
    key, key_id = admin_set_rate_limit(request.path_params["key_id"], body.rate_limit)
    return Reply(key_resource(key_id, key))


class AdminAccountLimitsUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"rate_limit": 5000, "jobs_in_flight": 20000}, {"rate_limit": None}]},
    )

    rate_limit: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ACCOUNT_RATE_LIMIT,
        strict=True,
        description="Live requests per second over all the account's keys; null returns to the default.",
    )
    jobs_in_flight: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ACCOUNT_JOBS_IN_FLIGHT,
        strict=True,
        description="Live jobs queued plus running over all the account's keys; null returns to the default.",
    )


@router.add(
    "GET",
    "/v1/admin/users/<user_id>/limits",
    operation_id="get_account_limits",
    auth="admin",
    summary="A customer's account-wide live limits and their overrides.",
    response=AccountLimitsResource,
    errors=(ErrorCode.RESOURCE_MISSING,),
)
def get_account_limits(request: ApiRequest) -> Reply:
    return Reply(admin_get_account_limits(request.path_params["user_id"]))


@router.add(
    "PATCH",
    "/v1/admin/users/<user_id>/limits",
    operation_id="set_account_limits",
    auth="admin",
    summary="Override a customer's account-wide live rate limit or jobs in flight.",
    body=AdminAccountLimitsUpdate,
    response=AccountLimitsResource,
    errors=(ErrorCode.RESOURCE_MISSING,),
    description="Only the fields sent change (null returns one to the default). Every instance applies "
    "them within 5 s. Each key's own limits still apply; test mode keeps its defaults. 404 when the user "
    "has no account.",
)
def set_account_limits(request: ApiRequest) -> Reply:
    body = request.parse(AdminAccountLimitsUpdate)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    return Reply(admin_set_account_limits(request.path_params["user_id"], changes))


@router.add(
    "GET",
    "/v1/admin/webhooks/<user_id>",
    operation_id="get_customer_webhook",
    auth="admin",
    summary="A customer's webhook endpoint and its health.",
    response=WebhookEndpointResource,
    errors=(ErrorCode.RESOURCE_MISSING,),
)
def webhook_health(request: ApiRequest) -> Reply:
    return Reply(health_resource(request.path_params["user_id"]))


@router.add(
    "POST",
    "/v1/admin/webhooks/<user_id>/events/<event_id>/retry",
    operation_id="retry_customer_webhook_event",
    auth="admin",
    summary="Send one of a customer's events again now.",
    body=EmptyBody,
    response=WebhookEventRetried,
    status=202,
    # Admin routes document no 503 (they are exempt from maintenance mode); a retry that keeps losing a
    # race with concurrent changes still answers 503 service_unavailable, as for the customer.
    errors=(ErrorCode.RESOURCE_MISSING, ErrorCode.WEBHOOK_DISABLED, ErrorCode.ILLEGAL_STATE_TRANSITION),
)
def retry_webhook_event(request: ApiRequest) -> Reply:
    user_id, event_id = request.path_params["user_id"], request.path_params["event_id"]
    return Reply(retry_event(user_id, event_id, by_operator=True), status=202)


@router.add(
    "POST",
    "/v1/admin/webhooks/<user_id>/recover",
    operation_id="recover_customer_webhook_events",
    auth="admin",
    summary="Requeue a customer's failed events since a time.",
    body=RecoverInput,
    response=WebhookRecovered,
    status=202,
    errors=(ErrorCode.RESOURCE_MISSING, ErrorCode.WEBHOOK_DISABLED),
)
def recover_webhook_events(request: ApiRequest) -> Reply:
    body = request.parse(RecoverInput)
    return Reply(recover(request.path_params["user_id"], body, by_operator=True), status=202)


MAX_ADJUSTMENT = 1_000_000_000


class CreditAdjustmentInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"amount": 500, "reason": "Goodwill credit for the outage on 3 May"},
                {"amount": -120, "reason": "Credits granted twice by mistake"},
            ]
        },
    )

    amount: StrictInt = Field(
        ge=-MAX_ADJUSTMENT,
        le=MAX_ADJUSTMENT,
        description="Signed credits, not 0: positive adds, negative takes (the balance may go below zero).",
    )
    reason: str = Field(
        min_length=1, max_length=500, description="Shown to the customer as the ledger entry's description."
    )

    @field_validator("amount")
    @classmethod
    def not_zero(cls, amount: int) -> int:
        if amount == 0:
            raise ValueError("must not be 0")
        return amount

    @field_validator("reason")
    @classmethod
    def not_blank(cls, reason: str) -> str:
        if not reason.strip():
            raise ValueError("must not be blank")
        return reason


@router.add(
    "POST",
    "/v1/admin/users/<user_id>/credit_adjustments",
    auth="admin",
    summary="Correct a customer's balance with an adjustment ledger entry.",
    body=CreditAdjustmentInput,
    response=LedgerEntryResource,
    status=201,
    also=(200,),
    errors=(ErrorCode.RESOURCE_MISSING, ErrorCode.IDEMPOTENCY_KEY_IN_USE),
    required_headers=(IDEMPOTENCY_HEADER,),
    description=(
        "Adds (or, negative, takes) credits with an `adjustment` ledger entry whose `description` is the"
        " reason; a negative one may leave the balance below zero (a debt: live jobs answer 402 until it is"
        " paid back). `Idempotency-Key` is required: a repeat with the same key answers 200 with the first"
        " entry and changes nothing; the same key with another amount or reason is 409"
        " `idempotency_key_in_use`. 404 when the user has no account."
    ),
)
def credit_adjustment(request: ApiRequest) -> Reply:
    key = required_idempotency_key(request.header(IDEMPOTENCY_HEADER))
    body = request.parse(CreditAdjustmentInput)
    entry, created = adjust_credits(
        request.path_params["user_id"],
        body.amount,
        body.reason,
        key,
        admin_id=require_user(request).user_id,
    )
    return Reply(entry, status=201 if created else 200, headers=replay_headers(not created))


class CreditGrantInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"amount": 500, "category": "promotional", "name": "Trial", "expires_at": 1767225600},
                {"amount": 1000, "category": "paid", "name": "Invoice 2026-031", "priority": 10},
            ]
        },
    )

    amount: StrictInt = Field(ge=1, le=MAX_ADJUSTMENT, description="Credits granted.")
    category: GrantCategory
    name: str = Field(min_length=1, max_length=200, description="Shown to the customer.")
    expires_at: StrictInt | None = Field(
        default=None, ge=1, le=253402300799, description="Unix seconds, in the future; null: never expires."
    )
    priority: StrictInt = Field(default=50, ge=0, le=100, description="Spent first: the lowest.")

    @field_validator("name")
    @classmethod
    def name_not_blank(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("must not be blank")
        return name


@router.add(
    "POST",
    "/v1/admin/users/<user_id>/credit_grants",
    operation_id="create_credit_grant",
    auth="admin",
    summary="Grant a customer credits, paid or promotional, with an optional expiry and priority.",
    body=CreditGrantInput,
    response=CreditGrantResource,
    status=201,
    also=(200,),
    errors=(ErrorCode.RESOURCE_MISSING, ErrorCode.IDEMPOTENCY_KEY_IN_USE),
    required_headers=(IDEMPOTENCY_HEADER,),
    description=(
        "Effective at once, with a `grant` ledger entry; a debt is paid from it first (docs/credits.md)."
        " `Idempotency-Key` is required: a repeat with the same key answers 200 with the same grant; the same"
        " key with another body is 409 `idempotency_key_in_use`. 404 when the user has no account."
    ),
)
def create_credit_grant(request: ApiRequest) -> Reply:
    key = required_idempotency_key(request.header(IDEMPOTENCY_HEADER))
    body = request.parse(CreditGrantInput)
    grant, created = create_grant(
        request.path_params["user_id"],
        amount=body.amount,
        category=body.category,
        name=body.name,
        expires_at=datetime.fromtimestamp(body.expires_at, UTC) if body.expires_at is not None else None,
        priority=body.priority,
        idempotency_key=key,
        admin_id=require_user(request).user_id,
    )
    return Reply(grant, status=201 if created else 200, headers=replay_headers(not created))


@router.add(
    "POST",
    "/v1/admin/credit_grants/<grant_id>/void",
    operation_id="void_credit_grant",
    auth="admin",
    summary="Void a promotional grant: what is left of it goes, with a `void` ledger entry.",
    body=EmptyBody,
    response=CreditGrantResource,
    errors=(ErrorCode.RESOURCE_MISSING, ErrorCode.ILLEGAL_STATE_TRANSITION),
    description="Once: voiding a voided grant answers it again. Paid grants and expired grants are 409.",
)
def void_credit_grant(request: ApiRequest) -> Reply:
    grant_id = request.path_params["grant_id"]
    if not GRANT_ID_PATTERN.fullmatch(grant_id):
        raise not_found("credit grant", param="grant_id")
    return Reply(void_grant(grant_id, admin_id=require_user(request).user_id))


class SignupGrantInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"credits": 100, "expires_in_days": 30}]}
    )

    credits: StrictInt = Field(ge=0, le=MAX_ADJUSTMENT, description="0 turns the sign-up grant off.")
    expires_in_days: StrictInt = Field(default=0, ge=0, le=3650, description="0: never expires.")


@router.add(
    "PUT",
    "/v1/admin/signup_grant",
    operation_id="set_signup_grant",
    auth="admin",
    summary="The promotional grant every account created from now on gets once (off by default).",
    body=SignupGrantInput,
    response=SignupGrantResource,
)
def put_signup_grant(request: ApiRequest) -> Reply:
    body = request.parse(SignupGrantInput)
    return Reply(set_signup_grant(body.credits, body.expires_in_days))
