"""The platform's one model module: every Firestore collection, with explicit conversion.

Conventions:
- Field names are the stored names (snake_case), identical to the seed schema for `api_keys`,
  `webhooks`, `payment_methods` and `system/config`.
- Document ids live outside the body: `from_firestore(data)` / `to_firestore()` never see them.
- Timestamps are UTC-aware datetimes (Firestore returns `DatetimeWithNanoseconds`, a datetime subclass);
  naive datetimes are refused rather than guessed at.
- Closed sets are StrEnums, stored as their string values.
- Versions side by side (docs/deploy.md, "Changing a stored document"): during a deploy or a rollback an
  older version reads documents a newer one wrote, so `from_firestore` ignores fields its model does not
  know (at every level); each known field is still validated strictly. Writes, and API input, stay strict
  (`extra="forbid"`): a stray field is never written. A change of fields follows the procedure there
  (add, then use; rename as add + write both + read either; remove only once no version needs it),
  held by tests/unit/test_model_versions.py.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must be timezone-aware")
    return value.astimezone(UTC)


# shared/core/index_shards.py: a per-user index with a timestamp has `user_range` between `user_id` and the
# timestamp. One customer's 1,000 jobs/s put ~1,000 new entries a second into each of its per-user indexes
# (a job's status index entry moves about 3 times, each into another status's range); 16 ranges is ~63/s per
# range, 8x under the ~500/s of one range, and within the 30 values one `in` filter takes.
USER_RANGES = 16


def new_user_range() -> int:
    """A new per-user document's range: uniform, so one customer's writes spread over every range."""
    return secrets.randbelow(USER_RANGES)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
NonNegativeInt = Annotated[int, Field(ge=0, strict=True)]
StrictInt = Annotated[int, Field(strict=True)]


class ModelDataError(ValueError):
    """Stored or incoming data that does not fit its model; the message names the offending fields."""

    def __init__(self, model: str, error: ValidationError) -> None:
        self.model = model
        self.errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(document)", "message": e["msg"]}
            for e in error.errors(include_url=False)
        ]
        details = "; ".join(f"{e['field']}: {e['message']}" for e in self.errors)
        super().__init__(f"invalid {model}: {details}")

    @property
    def field(self) -> str:
        return str(self.errors[0]["field"]) if self.errors else ""


def utc_now() -> datetime:
    return datetime.now(UTC)


# The validation context of a stored document's read (FirestoreModel.from_firestore).
STORED = "stored"


def _aliases(field: Any) -> list[str]:
    """The names a field may be stored under besides its own (a renamed field's old name)."""
    names: list[str] = []
    alias = field.validation_alias
    if isinstance(alias, str):
        names.append(alias)
    elif alias is not None:
        names.extend(choice for choice in getattr(alias, "choices", []) if isinstance(choice, str))
    return names


class FirestoreModel(BaseModel):
    """Base of every stored document."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)
    collection: ClassVar[str]

    @model_validator(mode="before")
    @classmethod
    def _known_fields_of_stored(cls, data: Any, info: ValidationInfo) -> Any:
        """Reading a stored document (context STORED, nested models included): fields of a newer version
        are left out, not refused."""
        if not (isinstance(info.context, dict) and info.context.get(STORED)) or not isinstance(data, dict):
            return data
        known = set(cls.model_fields) | {
            alias for field in cls.model_fields.values() for alias in _aliases(field)
        }
        return {key: value for key, value in data.items() if key in known}

    def to_firestore(self) -> dict[str, Any]:
        # mode="python" keeps datetimes as datetimes (stored as Firestore timestamps); enums become strings.
        data: dict[str, Any] = _plain(self.model_dump(mode="python"))
        return data

    @classmethod
    def from_firestore(cls, data: dict[str, Any] | None) -> Self:
        if data is None:
            raise ModelDataError(cls.__name__, ValidationError.from_exception_data(cls.__name__, []))
        try:
            return cls.model_validate(data, context={STORED: True})
        except ValidationError as exc:
            raise ModelDataError(cls.__name__, exc) from None


def _plain(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------------
# Closed sets


class KeyEnvironment(StrEnum):
    LIVE = "live"
    TEST = "test"


class ApiKeyStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class JobStatus(StrEnum):
    """A job's state: queued and running move on; completed, failed and canceled are terminal (listed
    under `x-terminal`, where the clients' `wait` learns when to stop polling)."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_JOB_STATUSES

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        schema["x-terminal"] = [status.value for status in cls if status.terminal]
        return schema


TERMINAL_JOB_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED})


class JobFailure(StrEnum):
    """Why a job failed (docs/jobs.md): its worker refused it (4xx), every attempt failed, it waited past its
    type's queue_timeout_s for a first attempt, it was still not done at its absolute deadline."""

    WORKER_ERROR = "worker_error"
    ATTEMPTS_EXHAUSTED = "attempts_exhausted"
    EXPIRED = "expired"
    DEADLINE_EXCEEDED = "deadline_exceeded"  # not ended by its absolute deadline (whatever held it up)


class LedgerEntryType(StrEnum):
    PURCHASE = "purchase"
    JOB_DEBIT = "job_debit"
    JOB_RELEASE = "job_release"  # a metered job's reserved credits that its usage did not cost
    REFUND = "refund"
    ADJUSTMENT = "adjustment"
    CLAWBACK = "clawback"  # a Stripe refund takes a purchase's credits back
    REFUND_REVERSAL = "refund_reversal"  # that refund failed or was canceled: the credits come back
    DISPUTE = "dispute"  # a chargeback withdrew funds: a purchase's credits follow them out
    DISPUTE_REVERSAL = "dispute_reversal"  # dispute funds reinstated (won, or as Stripe's money shows)
    GRANT = "grant"  # credits granted by an operator or at sign-up (a credit grant of its own)
    EXPIRY = "expiry"  # what was left of a grant when it expired
    VOID = "void"  # what was left of a promotional grant an operator voided


class GrantCategory(StrEnum):
    PAID = "paid"
    PROMOTIONAL = "promotional"


class GrantStatus(StrEnum):
    ACTIVE = "active"
    DEPLETED = "depleted"
    EXPIRED = "expired"
    VOIDED = "voided"


class GrantSource(StrEnum):
    PURCHASE = "purchase"
    ADMIN = "admin"
    SIGNUP = "signup"
    AUTO_TOP_UP = "auto_top_up"
    ADJUSTMENT = "adjustment"  # a positive operator correction
    MIGRATION = "migration"  # a balance from before grants beyond its purchases


class PurchaseStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"
    DISPUTED = "disputed"
    REQUIRES_ACTION = "requires_action"  # the customer must authenticate (3-D Secure): see next_action
    CANCELED = "canceled"  # the PaymentIntent was canceled before any payment
    DISPUTED_LOST = "disputed_lost"  # the dispute was lost: the credits stay taken back


class AutoTopUpFailure(StrEnum):
    """Why auto top-up turned itself off (docs/credits.md); only the customer turns it on again."""

    CARD_DECLINED = "card_declined"
    AUTHENTICATION_REQUIRED = "authentication_required"
    NO_DEFAULT_CARD = "no_default_card"
    CARD_DELETED = "card_deleted"
    PACKAGE_UNAVAILABLE = "package_unavailable"


class WebhookEventType(StrEnum):
    JOB_COMPLETED = "job.completed"
    JOB_FAILED = "job.failed"
    JOB_CANCELED = "job.canceled"
    AUTO_TOP_UP_SUCCEEDED = "auto_top_up.succeeded"
    AUTO_TOP_UP_FAILED = "auto_top_up.failed"
    CREDITS_LOW = "credits.low"
    CREDIT_GRANT_EXPIRING = "credit_grant.expiring"
    WEBHOOK_TEST = "webhook.test"
    # Recorded (never sent) when the platform disables an endpoint, for the dashboard.
    WEBHOOK_DISABLED = "webhook.disabled"


class WebhookEventStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # retries exhausted
    DISCARDED = "discarded"  # endpoint missing, disabled or not subscribed


# ---------------------------------------------------------------------------------------------------
# Seed collections (field names and types are binding)


class ApiKey(FirestoreModel):
    """`api_keys/{keyId}`. Only the SHA-256 hash of the key is stored."""

    collection: ClassVar[str] = "api_keys"

    user_id: str = Field(min_length=1)
    name: str = Field(max_length=100)
    environment: KeyEnvironment
    key_prefix: str = Field(min_length=12, max_length=12)
    key_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    status: ApiKeyStatus = ApiKeyStatus.ACTIVE
    created_at: UtcDatetime
    last_used_at: UtcDatetime | None = None
    expires_at: UtcDatetime | None = None
    revoked_at: UtcDatetime | None = None
    rolled_to_key_id: str | None = None
    rate_limit: Annotated[int, Field(ge=1, le=1000, strict=True)] | None = None  # requests/s; None: default


class RetiredSecret(FirestoreModel):
    """A webhook signing secret that still signs until `expires_at`."""

    secret: str = Field(pattern=r"^whsec_")
    expires_at: UtcDatetime


class WebhookEndpoint(FirestoreModel):
    """`webhooks/{webhookId}`: one per user. The secret never leaves the server after creation."""

    collection: ClassVar[str] = "webhooks"

    user_id: str = Field(min_length=1)
    url: str = Field(min_length=1, max_length=2048)
    events: list[WebhookEventType]
    enabled: bool = True
    secret: str = Field(pattern=r"^whsec_")
    created_at: UtcDatetime
    updated_at: UtcDatetime | None = None
    last_triggered_at: UtcDatetime | None = None
    last_status_code: StrictInt | None = None
    previous_secret: str | None = None
    previous_secret_expires_at: UtcDatetime | None = None
    # Secrets retired before `previous_secret` whose 24 h overlap has not ended (rotations in quick succession).
    older_secrets: list[RetiredSecret] = Field(default_factory=list)
    failing_since: UtcDatetime | None = None
    disabled_reason: str | None = None
    # Optional throttle: at most this many delivery attempts per second (None: no throttle).
    rate_limit: Annotated[int, Field(ge=1, le=100, strict=True)] | None = None
    # Health (docs/webhooks.md "Isolation"): failed attempts in a row; from CIRCUIT_THRESHOLD on the
    # circuit is open and only one probe at a time is made, not before `probe_at`.
    consecutive_failures: NonNegativeInt = 0
    probe_at: UtcDatetime | None = None
    # The last successful attempt took long: keep the endpoint off the fast lane until one is quick again.
    slow: bool = False


class PaymentMethod(FirestoreModel):
    """`payment_methods/{paymentMethodId}`: the Stripe PaymentMethod id is the document id."""

    collection: ClassVar[str] = "payment_methods"

    user_id: str = Field(min_length=1)
    stripe_customer_id: str
    type: str = "card"
    brand: str | None = None
    last4: str | None = Field(default=None, pattern=r"^[0-9]{4}$")
    exp_month: Annotated[int, Field(ge=1, le=12, strict=True)] | None = None
    exp_year: StrictInt | None = None
    is_default: bool = False
    created_at: UtcDatetime
    updated_at: UtcDatetime | None = None
    # Stripe's `created` of the newest object applied: older events arriving late change nothing.
    stripe_synced_at: UtcDatetime | None = None


class CreditPackage(FirestoreModel):
    """One entry of `system/config.credit_packages`: price in US cents, credits include the bonus."""

    name: str
    credits: Annotated[int, Field(gt=0, strict=True)]
    price: Annotated[int, Field(gt=0, strict=True)]
    currency: str = "usd"


DEFAULT_CREDIT_PACKAGES: dict[str, CreditPackage] = {
    "starter": CreditPackage(name="Starter", credits=120, price=1000),
    "popular": CreditPackage(name="Popular", credits=400, price=3000),
    "pro": CreditPackage(name="Pro", credits=1100, price=7500),
    "mega": CreditPackage(name="Mega", credits=2500, price=15000),
}
FOUNDING_MEMBER_LIMIT = 100


class SignupGrant(FirestoreModel):
    """`system/config.signup_grant`: the promotional grant every new account gets (absent: none)."""

    credits: Annotated[int, Field(gt=0, le=1_000_000_000, strict=True)]
    expires_in_days: Annotated[int, Field(ge=0, le=3650, strict=True)] = 0  # 0: never expires


class SystemConfig(FirestoreModel):
    """`system/config`: credit packages, platform counters and switches."""

    collection: ClassVar[str] = "system"
    document_id: ClassVar[str] = "config"

    credit_packages: dict[str, CreditPackage]
    total_users: NonNegativeInt = 0
    total_jobs: NonNegativeInt = 0
    founding_member_count: NonNegativeInt = 0
    maintenance_mode: bool = False
    signup_grant: SignupGrant | None = None
    # Paid live jobs/s of one customer on one instance from which its jobs are admitted from credit leases
    # (shared/credits/leases.py); None: the default, LEASE_MIN_RATE.
    credit_lease_min_rate: Annotated[float, Field(gt=0)] | None = None
    updated_at: UtcDatetime | None = None

    @classmethod
    def defaults(cls) -> SystemConfig:
        return cls(credit_packages={k: v.model_copy() for k, v in DEFAULT_CREDIT_PACKAGES.items()})


class ReconciliationState(FirestoreModel):
    """`system/reconciliation`: how far the reconciliation (shared/webhooks/reconcile.py) has checked
    finished jobs for their webhook event: per jobs index shard ("0".."63"), the `finished_at` it reached."""

    collection: ClassVar[str] = "system"
    document_id: ClassVar[str] = "reconciliation"

    job_events_checked_until: dict[str, UtcDatetime] = Field(default_factory=dict)


class CounterCheckState(FirestoreModel):
    """`system/counter_check`: the last counter repair (shared/counters/reconcile.py). Each repair commits
    with an update of this document preconditioned on its read: overlapping checks repair once."""

    collection: ClassVar[str] = "system"
    document_id: ClassVar[str] = "counter_check"

    repaired_at: UtcDatetime
    repaired: dict[str, StrictInt] = Field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------
# Platform collections


class LeaseHold(BaseModel):
    """One open credit lease on the balance document (shared/credits/leases.py)."""

    model_config = ConfigDict(extra="forbid")

    amount: Annotated[int, Field(ge=1, strict=True)]
    expires_at: UtcDatetime


class GrantBalance(FirestoreModel):
    """One active grant as the balance document holds it (`users/{uid}.grants`): what spending needs.
    Spendable while effective and not expired (`now < expires_at`), even before the expiry sweep runs."""

    remaining: Annotated[int, Field(ge=0, strict=True)]
    category: GrantCategory
    priority: Annotated[int, Field(ge=0, le=100, strict=True)] = 50
    effective_at: UtcDatetime
    expires_at: UtcDatetime | None = None

    def spendable(self, now: datetime) -> bool:
        return (
            self.remaining > 0
            and self.effective_at <= now
            and (self.expires_at is None or now < self.expires_at)
        )

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


class Account(FirestoreModel):
    """`users/{uid}`: the signed-in user's account and credits balance.

    `credits` == sum of `grants`' remaining - `debt` (docs/credits.md). `grants` holds the active grants'
    remaining credits where every debit already writes (one write per debit however many grants it takes
    from); None on an account from before grants, which its first credit change migrates. `held` is what
    open credit leases hold (the sum of `leases`), already debited in the ledger and not yet settled.
    """

    collection: ClassVar[str] = "users"

    email: str | None = None
    credits: StrictInt = 0
    held: NonNegativeInt = 0
    leases: dict[str, LeaseHold] = Field(default_factory=dict)
    founding_member: bool = False
    founding_member_number: Annotated[int, Field(ge=1, le=FOUNDING_MEMBER_LIMIT, strict=True)] | None = None
    stripe_customer_id: str | None = None
    grants: dict[str, GrantBalance] | None = None
    debt: NonNegativeInt = 0
    # Copies of the customer's thresholds (auto_top_up/{uid}), for the users trigger to compare with the
    # balance it sees without a read: auto top-up (when on) and credits.low.
    auto_top_up_below: NonNegativeInt | None = None
    low_balance_below: NonNegativeInt | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime | None = None


class AccountLimits(FirestoreModel):
    """`account_limits/{uid}`: an administrator's overrides of one account's live limits (None: the default
    applies). Apart from `users/{uid}`, whose balance is written far more often than limits are read."""

    collection: ClassVar[str] = "account_limits"

    rate_limit: Annotated[int, Field(ge=1, strict=True)] | None = None  # live requests/s, all keys together
    jobs_in_flight: Annotated[int, Field(ge=1, strict=True)] | None = None  # live jobs queued + running
    updated_at: UtcDatetime


class AutoTopUp(FirestoreModel):
    """`auto_top_up/{uid}`: the customer's auto top-up and low-balance settings and its attempts' state."""

    collection: ClassVar[str] = "auto_top_up"

    enabled: bool
    threshold: NonNegativeInt
    package: str
    monthly_limit_cents: NonNegativeInt
    low_balance_threshold: NonNegativeInt | None = None
    disabled_reason: AutoTopUpFailure | None = None
    attempts: NonNegativeInt = 0  # numbers the attempts: an attempt's id is derived from (user, number)
    in_flight: str | None = None  # the attempt being made
    last_attempt_at: UtcDatetime | None = None
    month: str = ""  # UTC YYYY-MM of month_spent_cents
    month_spent_cents: NonNegativeInt = 0
    updated_at: UtcDatetime | None = None


class FixedPricing(FirestoreModel):
    """A job type's fixed price: `credits` per job, debited at creation."""

    credits: NonNegativeInt


class MeteredPricing(FirestoreModel):
    """A metered price: `max_credits` reserved at creation, `min(max_credits, ceil(units x credits_per_unit))`
    charged on completion, the rest released."""

    credits_per_unit: Annotated[float, Field(gt=0, le=1_000_000)]
    max_credits: Annotated[int, Field(ge=1, le=1_000_000, strict=True)]
    unit: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_ -]*$")


JobPricing = FixedPricing | MeteredPricing

# The bounds of a job type's settings (docs/jobs.md).
JOB_TIMEOUT_S_RANGE = (1, 3600)
# A callback type's timeout_s is the deadline of the worker's callback, not of a held request.
CALLBACK_TIMEOUT_S_MAX = 86400
JOB_MAX_ATTEMPTS_RANGE = (1, 10)
JOB_QUEUE_TIMEOUT_S_RANGE = (10, 604800)
JOB_MAX_CONCURRENCY_RANGE = (1, 1000)
JOB_MAX_RATE_PER_S_RANGE = (0.1, 1000.0)


class JobCompletion(StrEnum):
    """How a type's worker ends an attempt (docs/workers.md): in its answer, or later by a callback."""

    RESPONSE = "response"
    CALLBACK = "callback"


class JobTestMode(StrEnum):
    """What test-mode jobs of a type do: answered with the type's sample_result, or sent to the worker."""

    SAMPLE = "sample"
    WORKER = "worker"


class CancelPolicy(StrEnum):
    """What canceling a running job costs: nothing (refund), or what it started (charge_started)."""

    REFUND = "refund"
    CHARGE_STARTED = "charge_started"


class JobProgress(FirestoreModel):
    """A callback worker's latest progress report on a running job."""

    percent: Annotated[float, Field(ge=0, le=100)]
    message: str = Field(default="", max_length=500)
    updated_at: UtcDatetime


class JobType(FirestoreModel):
    """`job_types/{type}`: a job type, its worker and its price: the one definition of what jobs may be made
    (the operator's, the seeded `echo`, and those migrated from the former `system/config.job_costs`).
    `secret` signs every dispatch to `worker_url` (Standard Webhooks); retired secrets keep signing until
    they expire."""

    collection: ClassVar[str] = "job_types"

    # None only for a type migrated from `job_costs`, which had no worker: its jobs are refused at creation
    # until the operator gives it one (shared/workers/catalogue.py; the admin API always sets one).
    worker_url: str | None = Field(min_length=1, max_length=2048)
    description: str = Field(default="", max_length=1000)
    pricing: JobPricing
    timeout_s: Annotated[int, Field(ge=JOB_TIMEOUT_S_RANGE[0], le=CALLBACK_TIMEOUT_S_MAX, strict=True)] = 300
    max_attempts: Annotated[
        int, Field(ge=JOB_MAX_ATTEMPTS_RANGE[0], le=JOB_MAX_ATTEMPTS_RANGE[1], strict=True)
    ] = 3
    queue_timeout_s: Annotated[
        int, Field(ge=JOB_QUEUE_TIMEOUT_S_RANGE[0], le=JOB_QUEUE_TIMEOUT_S_RANGE[1], strict=True)
    ] = 3600
    completion: JobCompletion = JobCompletion.RESPONSE
    test_jobs: JobTestMode = JobTestMode.SAMPLE
    sample_result: dict[str, Any] = Field(default_factory=dict)
    cancel_policy: CancelPolicy = CancelPolicy.REFUND
    # Flow control (shared/jobs/flow.py): attempts in flight at the worker at once, over every instance;
    # dispatches per second (None: no rate limit).
    max_concurrency: Annotated[
        int, Field(ge=JOB_MAX_CONCURRENCY_RANGE[0], le=JOB_MAX_CONCURRENCY_RANGE[1], strict=True)
    ] = 10
    max_rate_per_s: (
        Annotated[float, Field(ge=JOB_MAX_RATE_PER_S_RANGE[0], le=JOB_MAX_RATE_PER_S_RANGE[1])] | None
    ) = None
    secret: str = Field(pattern=r"^whsec_")
    older_secrets: list[RetiredSecret] = Field(default_factory=list)
    created_at: UtcDatetime
    updated_at: UtcDatetime | None = None
    # Deleted types stay stored (a tombstone): new jobs are refused, queued ones still end by the rules.
    deleted_at: UtcDatetime | None = None
    # Nothing reads it: every type is dispatched through the `jobs` topic under flow control
    # (shared/jobs/messages.py); types stored with a topic of their own still load.
    dispatch_topic: str | None = Field(default=None, pattern=r"^jobs-type-[a-z0-9_.-]+$")


class AnswerVerdict(StrEnum):
    """What a worker's answer to one attempt means (shared/jobs/attempts.Verdict, as stored)."""

    COMPLETED = "completed"
    FAILED = "failed"
    RETRY = "retry"


class HeldAnswer(FirestoreModel):
    """A worker's answer to attempt `attempt`, kept on the job when applying it kept losing races (the
    account's balance was busy): whoever looks at the job next (the sweep, soon; a cancel) applies it, so a
    lost race never throws away work that was done (shared/jobs/lifecycle.py)."""

    attempt: Annotated[int, Field(ge=1, strict=True)]
    verdict: AnswerVerdict
    result: dict[str, Any] | None = None
    units: Annotated[float, Field(ge=0)] | None = None
    error: str | None = None
    failure_reason: JobFailure | None = None
    next_attempt_at: UtcDatetime | None = None
    received_at: UtcDatetime


class Job(FirestoreModel):
    """`jobs/{jobId}`.

    `reserved_credits` were debited at creation (a fixed price or a metered type's max_credits; None on
    jobs made before reservations existed, whose `cost` was the debit). `sweep_at` is when the job sweep must
    look at the job next (a due dispatch, the queue deadline, a lost attempt's deadline); None once it ended.
    """

    collection: ClassVar[str] = "jobs"

    user_id: str
    key_id: str
    type: str = Field(min_length=1, max_length=64)
    status: JobStatus = JobStatus.QUEUED
    input: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str | None = None
    livemode: bool
    cost: NonNegativeInt = 0
    refunded: bool = False
    reserved_credits: NonNegativeInt | None = None
    pricing: JobPricing | None = None  # the type's price when the job was created
    usage_units: Annotated[float, Field(ge=0)] | None = None  # a metered worker's reported usage
    attempts: NonNegativeInt = 0
    max_attempts: Annotated[int, Field(ge=1, strict=True)] = 3
    timeout_s: Annotated[int, Field(ge=1, strict=True)] = 300
    failure_reason: JobFailure | None = None
    next_attempt_at: UtcDatetime | None = None  # after a failed attempt: not dispatched before
    expires_at: UtcDatetime | None = None  # queued without a first attempt past this: failed (expired)
    attempt_deadline: UtcDatetime | None = None  # the running attempt's end
    sweep_at: UtcDatetime | None = None
    # The job's absolute deadline (shared/jobs/attempts.job_deadline): past it the sweep fails and refunds it.
    deadline_at: UtcDatetime | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
    # Admitted from this credit lease (no balance write of its own): its reserved credits are counted, and
    # its refund or release returned, by the lease's settlement (shared/credits/lease_store.py).
    lease_id: str | None = None
    # shared/core/index_shards.py: the high-cardinality prefix of the platform-wide sweep's indexes.
    index_shard: NonNegativeInt = 0
    # shared/core/index_shards.py: spreads one customer's entries over ranges of its per-user indexes.
    user_range: Annotated[int, Field(ge=0, lt=USER_RANGES, strict=True)] = Field(
        default_factory=new_user_range
    )
    created_at: UtcDatetime
    updated_at: UtcDatetime | None = None
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
    # Test mode only: the TTL policy deletes the job after this (shared/core/retention.py).
    delete_at: UtcDatetime | None = None
    held_answer: HeldAnswer | None = None
    # The type's contract when the job was created (a later change of the type does not change the job's).
    completion: JobCompletion = JobCompletion.RESPONSE
    cancel_policy: CancelPolicy = CancelPolicy.REFUND
    run_at: UtcDatetime | None = None  # a delayed job: not dispatched before this
    progress: JobProgress | None = None  # a callback worker's latest report on the running attempt
    # sha256 of the running attempt's callback token (callback types): the token itself is never stored.
    callback_token_hash: str | None = None
    # Canceled while running: the attempt whose worker is still to be told (and, metered and
    # charge_started, to report its units); None once told.
    cancel_notice_attempt: NonNegativeInt | None = None

    @property
    def held_credits(self) -> int:
        """What creation debited, all of which a job that does not complete gives back."""
        return self.reserved_credits if self.reserved_credits is not None else self.cost


class LedgerEntry(FirestoreModel):
    """`credit_ledger/{entryId}`: append-only; `balance_after` is the account balance right after it."""

    collection: ClassVar[str] = "credit_ledger"

    user_id: str
    type: LedgerEntryType
    amount: StrictInt
    balance_after: StrictInt
    reference: str | None = None
    description: str | None = None
    # shared/core/index_shards.py: spreads one customer's entries over ranges of its per-user indexes.
    user_range: Annotated[int, Field(ge=0, lt=USER_RANGES, strict=True)] = Field(
        default_factory=new_user_range
    )
    # Grant id -> signed change of that grant's remaining; what is not in them changed the debt.
    allocations: dict[str, StrictInt] | None = None
    created_at: UtcDatetime


class CreditLease(FirestoreModel):
    """`credit_leases/{leaseId}`: an open lease, created in the write that opens it and deleted in the one
    that settles it; the lease sweep finds the leases of dead instances here (index_shard, sweep_at)."""

    collection: ClassVar[str] = "credit_leases"

    user_id: str
    amount: Annotated[int, Field(ge=1, strict=True)]
    index_shard: NonNegativeInt = 0
    expires_at: UtcDatetime
    sweep_at: UtcDatetime  # expires_at + the sweep's grace
    created_at: UtcDatetime


class CreditReturn(FirestoreModel):
    """`credit_returns/{marker}`: credits a leased job gives back (a refund, a metered release), created in
    the job's own write (its id is the exactly-once marker) and folded into the balance, with its ledger
    entry, by the next settlement of the user's leases or by the lease sweep."""

    collection: ClassVar[str] = "credit_returns"

    user_id: str
    amount: Annotated[int, Field(ge=1, strict=True)]
    type: LedgerEntryType
    lease_id: str  # the lease whose debit the credits go back to (its grants)
    reference: str | None = None
    description: str | None = None
    index_shard: NonNegativeInt = 0
    sweep_at: UtcDatetime  # when the sweep folds it if no settlement did
    created_at: UtcDatetime


class CreditGrant(FirestoreModel):
    """`credit_grants/{grantId}`: credits that entered an account (docs/credits.md). While `active`, the
    live `remaining` is the balance document's (`users/{uid}.grants`); this document's `remaining` is
    written when the status changes (depleted, expired, voided, active again)."""

    collection: ClassVar[str] = "credit_grants"

    user_id: str = Field(min_length=1)
    category: GrantCategory
    name: str = Field(min_length=1, max_length=200)
    amount: NonNegativeInt
    remaining: NonNegativeInt
    priority: Annotated[int, Field(ge=0, le=100, strict=True)] = 50
    effective_at: UtcDatetime
    expires_at: UtcDatetime | None = None
    source: GrantSource
    reference: str | None = None  # the purchase, for a purchase's grant
    status: GrantStatus = GrantStatus.ACTIVE
    # shared/core/index_shards.py: the high-cardinality prefix of the expiry sweep's indexes.
    index_shard: NonNegativeInt = 0
    expiring_notified: bool = False  # credit_grant.expiring was recorded
    created_at: UtcDatetime
    updated_at: UtcDatetime | None = None

    def balance(self) -> GrantBalance:
        return GrantBalance(
            remaining=self.remaining,
            category=self.category,
            priority=self.priority,
            effective_at=self.effective_at,
            expires_at=self.expires_at,
        )


class RefundFact(FirestoreModel):
    """One Stripe refund of a purchase's charge, as of the newest state seen (`seen_at`)."""

    amount: NonNegativeInt
    status: str  # Stripe's: pending, requires_action, succeeded, failed, canceled
    seen_at: UtcDatetime  # the event's `created`, or when the refund was retrieved from Stripe


class DisputeFact(FirestoreModel):
    """One Stripe dispute (inquiry or chargeback) on a purchase's charge, as of the newest state seen."""

    status: str  # Stripe's: warning_needs_response, ..., needs_response, under_review, won, lost
    amount: NonNegativeInt  # the disputed amount, in the purchase's currency
    # Every balance transaction the dispute has shown (id -> signed cents, fees apart): withdrawn < 0,
    # reinstated > 0. Stripe only ever adds them, so every snapshot's are kept.
    funds: dict[str, int] = Field(default_factory=dict)
    created: UtcDatetime  # the dispute's own creation time
    seen_at: UtcDatetime


class NextAction(FirestoreModel):
    """What the customer must do for a PaymentIntent in `requires_action` (e.g. 3-D Secure)."""

    type: str  # Stripe's next_action.type: use_stripe_sdk, redirect_to_url, ...
    redirect_url: str | None = None  # for redirect_to_url
    client_secret: str | None = None  # the PaymentIntent's, for Stripe.js handleNextAction


class Purchase(FirestoreModel):
    """`purchases/{purchaseId}`: one credit package bought through a Stripe PaymentIntent."""

    collection: ClassVar[str] = "purchases"

    user_id: str
    package: str
    credits: Annotated[int, Field(gt=0, strict=True)]
    amount: Annotated[int, Field(gt=0, strict=True)]
    currency: str = "usd"
    status: PurchaseStatus = PurchaseStatus.PENDING
    payment_intent_id: str | None = None
    payment_method_id: str | None = None
    livemode: bool = False
    auto_top_up: bool = False  # made off-session by auto top-up (shared/billing/auto_top_up.py)
    credits_granted: bool = False
    credits_clawed_back: NonNegativeInt = 0
    idempotency_key: str | None = None
    request_hash: str | None = None
    # While pending, the request charging it holds it for 60 s from updated_at; one that answered 502/503
    # releases it, so the retry that answer asks for takes the purchase over at once.
    hold_released: bool = False
    failure_code: str | None = None  # Stripe's decline code when the payment failed
    # Why credits have not arrived yet: requires_action's next step; the time of the newest intent state.
    next_action: NextAction | None = None
    intent_status_at: UtcDatetime | None = None
    # Money facts from Stripe, by Stripe id (shared/billing/money_facts.py derives the credits kept).
    refunds: dict[str, RefundFact] = Field(default_factory=dict)
    disputes: dict[str, DisputeFact] = Field(default_factory=dict)
    # credits_clawed_back = refund part + credits_disputed; credit_steps numbers the changes (markers).
    credits_disputed: NonNegativeInt = 0
    credit_steps: NonNegativeInt = 0
    created_at: UtcDatetime
    updated_at: UtcDatetime | None = None


class StripeCustomer(FirestoreModel):
    """`stripe_customers/{customerId}`: which user a Stripe customer belongs to (events name customers)."""

    collection: ClassVar[str] = "stripe_customers"

    user_id: str
    created_at: UtcDatetime


class StripeCustomerClaim(FirestoreModel):
    """`stripe_customer_claims/{uid}`: created (create() wins once) by whoever creates the user's customer."""

    collection: ClassVar[str] = "stripe_customer_claims"

    claim_id: str
    created_at: UtcDatetime


class DetachedPaymentMethod(FirestoreModel):
    """`detached_payment_methods/{paymentMethodId}`: a tombstone. Stripe never re-attaches a detached
    PaymentMethod, so late or repeated attach/update events for it change nothing."""

    collection: ClassVar[str] = "detached_payment_methods"

    user_id: str | None = None
    detached_at: UtcDatetime


class WebhookEvent(FirestoreModel):
    """`webhook_events/{eventId}`: one outgoing event and its delivery state (the retry schedule)."""

    collection: ClassVar[str] = "webhook_events"

    user_id: str
    type: WebhookEventType
    livemode: bool
    payload: dict[str, Any]
    status: WebhookEventStatus = WebhookEventStatus.PENDING
    attempts: NonNegativeInt = 0
    next_attempt_at: UtcDatetime | None = None
    last_status_code: StrictInt | None = None
    last_error: str | None = None
    # shared/core/index_shards.py: the high-cardinality prefix of the due-event sweep's index.
    index_shard: NonNegativeInt = 0
    # shared/core/index_shards.py: spreads one customer's entries over ranges of its per-user indexes.
    user_range: Annotated[int, Field(ge=0, lt=USER_RANGES, strict=True)] = Field(
        default_factory=new_user_range
    )
    created_at: UtcDatetime
    updated_at: UtcDatetime | None = None
    # Waiting in its endpoint's backlog (isolation deferred it); the drain hands these out oldest first.
    queued: bool = False
    # Attempts allowed in all: the schedule's MAX_ATTEMPTS, raised by one per manual retry or recovery.
    attempt_limit: Annotated[int, Field(ge=1, strict=True)] = 10
    # A test-mode event or a webhook.test: delivered in its endpoint's test budget (slots, backlog, throttle),
    # never in front of live events (shared/webhooks/decisions.py).
    test_traffic: bool = False
    # Test mode only: the TTL policy deletes the event after this (shared/core/retention.py).
    delete_at: UtcDatetime | None = None
    # The retry sweep handed the event out (published it) for its due time and moved `next_attempt_at` on
    # to a backstop: a delivery treats it as due until an attempt is claimed (which clears this), and the
    # sweep looks at it again only at the backstop, should that publish be lost.
    handed_out: bool = False


class WebhookControlUsage(FirestoreModel):
    """`webhook_controls/{uid}`: the account's test sends, manual retries and recoveries in the hour from
    `window_start` (shared/webhooks/quotas.py caps them)."""

    collection: ClassVar[str] = "webhook_controls"

    window_start: UtcDatetime
    test_sends: NonNegativeInt = 0
    retries: NonNegativeInt = 0
    recoveries: NonNegativeInt = 0


class WebhookSlot(FirestoreModel):
    """`webhook_slots/{webhookId}-{n}`: one in-flight attempt to an endpoint, leased by create().

    An endpoint has a few slots (n = 0..MAX_IN_FLIGHT-1): the in-flight limit holds across instances. A
    slot whose lease has ended (its holder crashed) may be taken over with a precondition.
    """

    collection: ClassVar[str] = "webhook_slots"

    webhook_id: str
    event_id: str
    lease_until: UtcDatetime
    created_at: UtcDatetime


class WebhookRateBucket(FirestoreModel):
    """`webhook_rate/{webhookId}-{unixSecond}`: attempts started in that second (throttled endpoints only)."""

    collection: ClassVar[str] = "webhook_rate"

    count: NonNegativeInt = 0
    expires_at: UtcDatetime  # a TTL policy on this field deletes old buckets


class WebhookDelivery(FirestoreModel):
    """`webhook_deliveries/{attemptId}`: one HTTP attempt to deliver an event."""

    collection: ClassVar[str] = "webhook_deliveries"

    user_id: str
    webhook_id: str
    event_id: str
    event_type: WebhookEventType
    attempt: Annotated[int, Field(ge=1, strict=True)]
    status_code: StrictInt | None = None
    error: str | None = None
    duration_ms: NonNegativeInt
    next_attempt_at: UtcDatetime | None = None
    # The event's mode: test keys list test-mode attempts only. Attempts written before this field existed
    # count as live (hidden from test keys), the safe side.
    livemode: bool = True
    # shared/core/index_shards.py: spreads one customer's entries over ranges of its per-user indexes.
    user_range: Annotated[int, Field(ge=0, lt=USER_RANGES, strict=True)] = Field(
        default_factory=new_user_range
    )
    created_at: UtcDatetime
    # Test mode only: the TTL policy deletes the attempt after this (shared/core/retention.py).
    delete_at: UtcDatetime | None = None


class ProcessedEvent(FirestoreModel):
    """`processed_events/{key}`: the marker created in the same write as an event's effect (exactly once)."""

    collection: ClassVar[str] = "processed_events"

    source: str  # e.g. "stripe", "firestore-trigger"
    event_type: str
    created_at: UtcDatetime


class FoundingSlot(FirestoreModel):
    """`founding_slots/{number}`: claimed by create(), so each number 1..100 has exactly one owner."""

    collection: ClassVar[str] = "founding_slots"

    user_id: str
    created_at: UtcDatetime


class CounterShard(FirestoreModel):
    """`counter_shards/{shardId}`: increments of hot counters, folded into system/config periodically."""

    collection: ClassVar[str] = "counter_shards"

    total_users: StrictInt = 0
    total_jobs: StrictInt = 0
    founding_member_count: StrictInt = 0


class AdminGrant(FirestoreModel):
    """`admins/{uid}`: the server's record that a user is an admin. Security rules honour the `admin` claim
    only while this exists, so deleting it ends a demoted admin's old tokens at once (a token keeps its
    claims for up to an hour)."""

    collection: ClassVar[str] = "admins"

    granted_at: UtcDatetime
    email: str | None = None


class UsageDay(FirestoreModel):
    """`usage/{keyId}_{day}`: one key's usage on one UTC day, added to by the usage flush (one write per
    key and day per minute at most; docs/rate-limits.md)."""

    collection: ClassVar[str] = "usage"

    user_id: str = Field(min_length=1)
    key_id: str = Field(min_length=1)
    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")  # UTC, YYYY-MM-DD: sorts and ranges as text
    # The key's mode; usage flushed before it was recorded counts as live (hidden from test keys).
    livemode: bool = True
    requests: NonNegativeInt = 0
    rate_limited: NonNegativeInt = 0
    jobs_created: NonNegativeInt = 0
    credits_spent: NonNegativeInt = 0
    credits_refunded: NonNegativeInt = 0  # failed jobs' debits given back: shown spending is the difference
    updated_at: UtcDatetime | None = None


class UsageTotals(FirestoreModel):
    """`usage_totals/platform`: all keys' usage since the start, for admin stats (same flush writes)."""

    collection: ClassVar[str] = "usage_totals"

    requests: NonNegativeInt = 0
    rate_limited: NonNegativeInt = 0
    jobs_created: NonNegativeInt = 0
    credits_spent: NonNegativeInt = 0
    credits_refunded: NonNegativeInt = 0


ALL_MODELS: tuple[type[FirestoreModel], ...] = (
    ApiKey,
    WebhookEndpoint,
    PaymentMethod,
    SystemConfig,
    Account,
    Job,
    JobType,
    LedgerEntry,
    CreditGrant,
    AutoTopUp,
    Purchase,
    WebhookEvent,
    WebhookDelivery,
    WebhookSlot,
    WebhookRateBucket,
    WebhookControlUsage,
    ProcessedEvent,
    FoundingSlot,
    CounterShard,
    StripeCustomer,
    StripeCustomerClaim,
    DetachedPaymentMethod,
    UsageDay,
    UsageTotals,
    AdminGrant,
)
