"""Pydantic descriptions of what the API answers: the OpenAPI description's response schemas.

The renderers (key_resource, job_resource, ...) build these shapes as dicts; the schemathesis run in
tests/integration/test_openapi_fuzz.py checks every answer against these models, so they cannot drift.
Timestamps are Unix seconds (shared/api/http.py serialises datetimes that way); `extra="forbid"` makes the
schemas closed, so an undocumented field fails that check too.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from shared.core.errors import ERROR_CODES
from shared.models import (
    AutoTopUpFailure,
    CancelPolicy,
    FixedPricing,
    GrantCategory,
    GrantSource,
    GrantStatus,
    JobCompletion,
    JobFailure,
    JobStatus,
    JobTestMode,
    KeyEnvironment,
    LedgerEntryType,
    MeteredPricing,
    PurchaseStatus,
)

UnixTime = int
ItemT = TypeVar("ItemT", bound=BaseModel)


class Resource(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(Resource, Generic[ItemT]):
    """A list: newest first where ordered; `next_cursor` goes into `starting_after` for the next page."""

    data: list[ItemT]
    has_more: bool
    next_cursor: str | None = Field(description="Pass as starting_after to get the next page.")


class Health(Resource):
    status: Literal["ok"]


class AccountResource(Resource):
    user_id: str
    email: str | None
    livemode: bool = Field(description="False for test keys, which see the test-mode balance (always 0).")
    credits: int = Field(description="Balance in credits.")
    founding_member: bool
    founding_member_number: int | None = Field(ge=1, le=100)
    created_at: UnixTime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": "u_123",
                    "email": "ada@example.com",
                    "livemode": True,
                    "credits": 120,
                    "founding_member": True,
                    "founding_member_number": 7,
                    "created_at": 1735689600,
                }
            ]
        }
    )


class WhoAmI(Resource):
    key_id: str
    user_id: str
    environment: KeyEnvironment
    livemode: bool


class ApiKeyResource(Resource):
    key_id: str
    name: str
    environment: KeyEnvironment
    livemode: bool
    key_prefix: str = Field(description="The first 12 characters of the key.")
    status: Literal["active", "revoked", "expired"]
    created_at: UnixTime
    last_used_at: UnixTime | None
    expires_at: UnixTime | None
    revoked_at: UnixTime | None
    rolled_to_key_id: str | None
    rate_limit: int = Field(
        description="Requests per second this key may make (its override or the default)."
    )
    rate_limit_override: int | None = Field(
        description="The key's own rate_limit; null: the default applies."
    )
    max_jobs_in_flight: int = Field(description="Queued plus running jobs this key may have at once.")


class AccountLimitsResource(Resource):
    user_id: str
    rate_limit: int = Field(description="Live requests per second over all of the account's keys, in effect.")
    rate_limit_override: int | None = Field(description="The administrator's override; null: the default.")
    jobs_in_flight: int = Field(description="Live jobs queued plus running the account may have, in effect.")
    jobs_in_flight_override: int | None = Field(
        description="The administrator's override; null: the default."
    )


class NewApiKey(ApiKeyResource):
    key: str = Field(description="The plaintext key: shown in this response only, never stored.")


class RolledApiKey(NewApiKey):
    rolled_from: ApiKeyResource


class WebhookEndpointResource(Resource):
    webhook_id: str
    url: str
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    created_at: UnixTime
    updated_at: UnixTime | None
    last_triggered_at: UnixTime | None
    last_status_code: int | None
    previous_secret_expires_at: UnixTime | None
    rate_limit: int | None = Field(description="Deliveries per second at most; null: no throttle.")
    secret: str | None = Field(
        default=None,
        description="whsec_...: present only when the endpoint is created or its secret rotated.",
    )
    status: Literal["healthy", "failing", "disabled"] | None = Field(
        default=None,
        description="GET only. failing: the circuit is open (one probe at a time on the retry schedule).",
    )
    consecutive_failures: int | None = Field(default=None, description="GET only. Failed attempts in a row.")
    backlog: int | None = Field(
        default=None, description="GET only. Events not yet delivered: queued, in flight or awaiting a retry."
    )


class WebhookEventRetried(Resource):
    event_id: str
    type: str
    status: Literal["pending"]


class WebhookRecovered(Resource):
    requeued: int = Field(description="Failed events put back in the endpoint's backlog, oldest first.")
    has_more: bool = Field(description="More failed events remain: call again with the same since.")


class WebhookDeleted(Resource):
    webhook_id: str
    deleted: Literal[True]


class WebhookTestEvent(Resource):
    event_id: str
    type: Literal["webhook.test"]
    status: Literal["pending"]


class DeliveryAttempt(Resource):
    event_id: str
    event_type: str
    attempt: int = Field(ge=1)
    status_code: int | None
    error: str | None
    duration_ms: int = Field(ge=0)
    next_attempt_at: UnixTime | None
    created_at: UnixTime


class CreditPackageResource(Resource):
    package: str
    name: str
    credits: int = Field(gt=0)
    price: int = Field(gt=0, description="US cents.")
    currency: str
    bonus_percent: int = Field(
        ge=0, description="Extra credits (percent) over the least generous package's credits per cent."
    )


class SetupIntentResource(Resource):
    setup_intent_id: str
    client_secret: str | None
    customer_id: str


class PaymentMethodResource(Resource):
    payment_method_id: str
    type: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    is_default: bool
    created_at: UnixTime
    updated_at: UnixTime | None


class PaymentMethodDeleted(Resource):
    payment_method_id: str
    deleted: Literal[True]


class NextActionResource(Resource):
    type: str = Field(description="Stripe's next_action.type, e.g. use_stripe_sdk or redirect_to_url.")
    redirect_url: str | None = Field(description="Where to send the customer (redirect_to_url).")
    client_secret: str | None = Field(description="For Stripe.js handleNextAction (3-D Secure).")


class PurchaseResource(Resource):
    purchase_id: str
    package: str
    credits: int
    amount: int = Field(description="US cents.")
    currency: str
    status: PurchaseStatus
    payment_intent_id: str | None
    payment_method_id: str | None
    credits_granted: bool
    credits_clawed_back: int = Field(ge=0, description="Credits taken back by refunds and disputes now.")
    amount_refunded: int = Field(ge=0, description="Cents refunded and not undone (failed refunds excluded).")
    dispute_status: str | None = Field(
        description="Stripe's status of the charge's newest dispute (warning_*: an inquiry), if any."
    )
    next_action: NextActionResource | None = Field(
        description="For status requires_action: what the customer must do before credits can arrive."
    )
    failure_code: str | None
    livemode: bool
    created_at: UnixTime
    updated_at: UnixTime | None


class CreditGrantResource(Resource):
    grant_id: str
    category: GrantCategory = Field(description="paid (bought) or promotional (given).")
    name: str
    amount: int = Field(description="Credits granted.")
    remaining: int = Field(description="Credits left to spend (0 once depleted, expired or voided).")
    status: GrantStatus
    priority: int = Field(ge=0, le=100, description="Spent first: the lowest priority.")
    source: GrantSource
    effective_at: UnixTime
    expires_at: UnixTime | None = Field(description="Unspendable from this time on; null: never expires.")
    created_at: UnixTime


class SignupGrantResource(Resource):
    credits: int = Field(ge=0, description="0: no sign-up grant.")
    expires_in_days: int = Field(ge=0, description="0: the grant never expires.")


class AutoTopUpResource(Resource):
    enabled: bool
    threshold: int
    package: str | None
    monthly_limit_cents: int
    low_balance_threshold: int | None
    disabled_reason: AutoTopUpFailure | None = Field(
        description="Why auto top-up turned itself off (a charge failed); null while on or turned off by you."
    )
    month_spent_cents: int = Field(description="Charged by auto top-up this UTC month.")
    in_progress: bool = Field(description="A top-up is being charged now.")


class LedgerEntryResource(Resource):
    entry_id: str
    type: LedgerEntryType
    amount: int = Field(description="Signed credits.")
    balance_after: int
    reference: str | None = Field(description="The purchase or job id.")
    description: str | None
    created_at: UnixTime


class JobUsage(Resource):
    units: float = Field(ge=0, description="What the metered worker reported.")
    unit: str


class JobProgressResource(Resource):
    percent: float = Field(ge=0, le=100)
    message: str
    updated_at: UnixTime


class JobFields(Resource):
    """What a job shows besides its input and result (JobResource adds both; a list item only if asked)."""

    job_id: str
    type: str
    status: JobStatus
    error: str | None
    failure_reason: JobFailure | None = Field(
        description="Why a failed job failed: worker_error (4xx), attempts_exhausted, expired (no first "
        "attempt within queue_timeout_s), deadline_exceeded (not ended by its absolute deadline)."
    )
    livemode: bool
    cost: int | None = Field(
        ge=0,
        description="Credits the job costs in the end: the fixed price, a metered job's settled cost once "
        "completed (null before), 0 once failed or canceled (refunded).",
    )
    reserved_credits: int = Field(ge=0, description="Credits held at creation (a metered type's max).")
    usage: JobUsage | None = Field(description="A metered job's reported usage, once completed.")
    attempts: int = Field(ge=0)
    max_attempts: int = Field(ge=1)
    progress: JobProgressResource | None = Field(
        default=None,
        description="A callback worker's latest progress report, while the job runs (docs/workers.md).",
    )
    run_at: UnixTime | None = Field(default=None, description="A delayed job: not dispatched before this.")
    created_at: UnixTime
    finished_at: UnixTime | None


class JobResource(JobFields):
    input: dict[str, Any]
    result: dict[str, Any] | None


class JobCallbackAnswer(Resource):
    job_id: str
    accepted: Literal[True]
    status: JobStatus = Field(description="The job's status after the callback.")


class JobTypeListing(Resource):
    type: str
    description: str
    pricing: FixedPricing | MeteredPricing = Field(
        description='`{"credits"}` per job, or metered: `{"credits_per_unit", "max_credits", "unit"}`.'
    )


class JobTypeResource(JobTypeListing):
    worker_url: str | None = Field(
        description="null for a type migrated from system/config.job_costs without a worker: its jobs are "
        "refused until a PUT gives it one (docs/jobs.md)."
    )
    timeout_s: int
    max_attempts: int
    queue_timeout_s: int
    completion: JobCompletion = Field(
        default=JobCompletion.RESPONSE, description="response or callback (docs/workers.md)."
    )
    test_jobs: JobTestMode = Field(
        default=JobTestMode.SAMPLE, description="sample (test-mode jobs get sample_result) or worker."
    )
    sample_result: dict[str, Any] = Field(default_factory=dict)
    cancel_policy: CancelPolicy = Field(default=CancelPolicy.REFUND, description="refund or charge_started.")
    max_concurrency: int = Field(
        ge=1, le=1000, description="Attempts in flight at the worker at once, at most."
    )
    max_rate_per_s: float | None = Field(description="Dispatches per second at most; null: no rate limit.")
    created_at: UnixTime
    updated_at: UnixTime | None
    worker_secret: str | None = Field(
        default=None,
        description="Signs every dispatch (Standard Webhooks); present on creation and rotation only.",
    )


class JobTypeDeleted(Resource):
    type: str
    deleted: Literal[True]


class JobListItem(JobFields):
    """A job in GET /v1/jobs: `input` and `result` only when expanded (expand[]=data.input, data.result)."""

    input: dict[str, Any] | None = Field(default=None, description="Present with expand[]=data.input.")
    result: dict[str, Any] | None = Field(default=None, description="Present with expand[]=data.result.")


class AdminStats(Resource):
    total_users: int
    total_jobs: int
    founding_member_count: int
    maintenance_mode: bool
    usage: UsageCounts = Field(description="All keys' usage since the start, exact within about a minute.")


class UsageCounts(Resource):
    requests: int = Field(description="Key-authenticated requests, refused ones included.")
    rate_limited: int = Field(description="Requests refused with 429 rate_limited.")
    jobs_created: int
    credits_spent: int


class UsageDayResource(UsageCounts):
    date: str = Field(description="UTC day, YYYY-MM-DD.")
    key_id: str
    livemode: bool = Field(description="The key's mode (usage counted before modes were recorded: true).")


class UsageReport(Resource):
    """Usage per key and UTC day; counts are exact within about a minute (docs/rate-limits.md)."""

    data: list[UsageDayResource]
    has_more: bool
    next_cursor: str | None
    totals: UsageCounts = Field(description="The sums of this page's rows.")
    from_date: str = Field(alias="from")
    to_date: str = Field(alias="to")


class MaintenanceState(Resource):
    maintenance_mode: bool


class OpenApiDocument(BaseModel):
    """This document (OpenAPI 3.1)."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


_ERROR_TYPES: list[JsonValue] = [*sorted({t.value for t, _ in ERROR_CODES.values()})]
_ERROR_CODE_NAMES: list[JsonValue] = [*sorted(ERROR_CODES)]


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(json_schema_extra={"enum": _ERROR_TYPES})
    code: str = Field(description="Names the cause.", json_schema_extra={"enum": _ERROR_CODE_NAMES})
    message: str = Field(description="For people; may change.")
    param: str | None = Field(default=None, description="The one input field at fault, when there is one.")
    stripe_code: str | None = Field(
        default=None,
        description="With `stripe_rejected`: the code Stripe gave for refusing the request (e.g. `resource_missing`).",
    )


class ErrorEnvelope(BaseModel):
    """Every error: `{"error": {"type", "code", "message", "param"?}}` (shared/core/errors.py)."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail
