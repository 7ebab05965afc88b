"""Every call of the API as data, shared by Client and AsyncClient: a builder answers a Call (which generated
operation, with what arguments, answering which model, within which timeout) or a Listing (a Call per page).
A new route is one builder here and one line in each client's resource (credits_client._resources)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from typing import Any, Generic, Protocol, TypeVar

import httpx

from credits_client._errors import ApiError, ResponseParseError
from credits_client.generated import Client as _GeneratedClient
from credits_client.generated.api.account import create_account, get_account
from credits_client.generated.api.api_keys import (
    create_api_key,
    list_api_keys,
    revoke_api_key,
    roll_api_key,
    update_api_key,
    whoami,
)
from credits_client.generated.api.credits_ import (
    get_auto_top_up,
    list_credit_grants,
    list_ledger_entries,
    set_auto_top_up,
)
from credits_client.generated.api.job_types import list_job_types
from credits_client.generated.api.jobs import cancel_job, create_job, get_job, list_jobs
from credits_client.generated.api.payment_methods import (
    add_payment_method,
    create_setup_intent,
    delete_payment_method,
    list_payment_methods,
    set_default_payment_method,
)
from credits_client.generated.api.purchases import create_purchase, get_purchase, list_credit_packages
from credits_client.generated.api.usage import get_usage
from credits_client.generated.api.webhook import (
    delete_webhook,
    get_webhook,
    list_webhook_deliveries,
    rotate_webhook_secret,
    send_test_webhook,
    set_webhook,
)
from credits_client.generated.models import (
    Account,
    ApiKey,
    ApiKeyPage,
    AutoTopUp,
    AutoTopUpInput,
    CreateJobRequest,
    CreateKeyBody,
    CreditGrant,
    CreditGrantPage,
    CreditPackage,
    CreditPackagePage,
    DeliveryAttempt,
    DeliveryAttemptPage,
    EmptyBody,
    Job,
    JobListItem,
    JobListItemPage,
    JobStatus,
    JobTypeListing,
    JobTypeListingPage,
    LedgerEntry,
    LedgerEntryPage,
    ListJobsExpandItem,
    NewApiKey,
    NewPurchase,
    PaymentMethod,
    PaymentMethodDeleted,
    PaymentMethodPage,
    Purchase,
    RegisterCard,
    RolledApiKey,
    RollKeyBody,
    SetupIntent,
    UpdateKeyBody,
    UsageDay,
    UsageReport,
    WebhookDeleted,
    WebhookEndpoint,
    WebhookEndpointInput,
    WebhookTestEvent,
    WhoAmI,
)
from credits_client.generated.types import UNSET, Unset

T = TypeVar("T")
Item = TypeVar("Item", covariant=True)

# The server's largest page (limit) in general, and when list items carry expanded fields.
MAX_PAGE_SIZE = 100
MAX_EXPANDED_PAGE_SIZE = 20
# Parses answers only: never sends a request, never raises for a status (ApiError is raised before).
_PARSER = _GeneratedClient(base_url="")


class Page(Protocol[Item]):
    @property
    def data(self) -> Sequence[Item]: ...
    @property
    def has_more(self) -> bool: ...
    @property
    def next_cursor(self) -> str | None: ...


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request of a generated operation (a module of credits_client.generated.api) and its answer."""

    operation: ModuleType
    returns: type[T]
    args: tuple[Any, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    timeout_s: float | None = None  # None: the client's default

    def request(self) -> dict[str, Any]:
        """httpx.Client.request's arguments."""
        request: dict[str, Any] = self.operation._get_kwargs(*self.args, **self.params)
        if self.timeout_s is not None:
            request["timeout"] = httpx.Timeout(self.timeout_s)
        return request

    def answer(self, response: httpx.Response) -> T:
        """The answer as `returns`; ApiError for an error answer, ResponseParseError for one that cannot be
        read. Error bodies are read here, not by the generated parser, so that codes added to the API later
        and non-JSON answers (a proxy's) still become ApiError."""
        if response.status_code >= 400:
            raise ApiError.from_response(response)
        try:
            parsed = self.operation._parse_response(client=_PARSER, response=response)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ResponseParseError.of(response, exc) from exc
        if not isinstance(parsed, self.returns):
            raise ResponseParseError.of(response, TypeError(f"not a {self.returns.__name__}"))
        return parsed


@dataclass(frozen=True)
class Listing(Generic[T]):
    """Every item of a list: `page(cursor)` is the Call of the page after `cursor` (None: the first)."""

    page: Callable[[str | None], Call[Page[T]]]


def new_idempotency_key() -> str:
    """One per logical call, reused by every retry of it (as Stripe's libraries do)."""
    return str(uuid.uuid4())


def _body(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


def _given(value: T | None) -> T | Unset:
    return UNSET if value is None else value


def _page_call(
    operation: ModuleType,
    returns: type[Page[T]],
    limit: int,
    starting_after: str | None,
    timeout_s: float | None,
) -> Call[Page[T]]:
    params = {"limit": limit, "starting_after": _given(starting_after)}
    return Call(operation, returns, params=params, timeout_s=timeout_s)


# Account and keys


def whoami_get(*, timeout_s: float | None = None) -> Call[WhoAmI]:
    """The key or user these credentials are."""
    return Call(whoami, WhoAmI, timeout_s=timeout_s)


def account_get(*, timeout_s: float | None = None) -> Call[Account]:
    return Call(get_account, Account, timeout_s=timeout_s)


def account_create(*, timeout_s: float | None = None) -> Call[Account]:
    return Call(create_account, Account, timeout_s=timeout_s)


def api_keys_create(
    *,
    name: str | None = None,
    environment: str = "test",
    rate_limit: int | None = None,
    timeout_s: float | None = None,
) -> Call[NewApiKey]:
    body = CreateKeyBody.from_dict(
        _body({"name": name, "environment": environment, "rate_limit": rate_limit})
    )
    return Call(create_api_key, NewApiKey, params={"body": body}, timeout_s=timeout_s)


def api_keys_list(
    *, limit: int = 10, starting_after: str | None = None, timeout_s: float | None = None
) -> Call[Page[ApiKey]]:
    return _page_call(list_api_keys, ApiKeyPage, limit, starting_after, timeout_s)


def api_keys_list_all(*, page_size: int = MAX_PAGE_SIZE, timeout_s: float | None = None) -> Listing[ApiKey]:
    return Listing(lambda cursor: api_keys_list(limit=page_size, starting_after=cursor, timeout_s=timeout_s))


def api_keys_revoke(key_id: str, *, timeout_s: float | None = None) -> Call[ApiKey]:
    return Call(revoke_api_key, ApiKey, (key_id,), timeout_s=timeout_s)


def api_keys_roll(
    key_id: str,
    *,
    expires_in: int | None = None,
    rate_limit: int | None = None,
    timeout_s: float | None = None,
) -> Call[RolledApiKey]:
    body = RollKeyBody.from_dict(_body({"expires_in": expires_in, "rate_limit": rate_limit}))
    return Call(roll_api_key, RolledApiKey, (key_id,), {"body": body}, timeout_s)


def api_keys_update(key_id: str, *, timeout_s: float | None = None, **fields: Any) -> Call[ApiKey]:
    """`name=...`, `rate_limit=...` (None: back to the default)."""
    return Call(update_api_key, ApiKey, (key_id,), {"body": UpdateKeyBody.from_dict(fields)}, timeout_s)


# Jobs


def jobs_create(
    type: str,
    input: Mapping[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    idempotency_key: str | None = None,
    timeout_s: float | None = None,
) -> Call[Job]:
    """Live keys pay the job's cost. Retried requests carry one Idempotency-Key: never two jobs. `run_at`
    (an aware datetime, at most 7 days ahead) delays the job; it is sent as unix seconds."""
    fields: dict[str, Any] = {"type": type, "input": dict(input or {})}
    if run_at is not None:
        if run_at.tzinfo is None:
            raise ValueError("run_at must be timezone-aware (e.g. datetime.now(UTC) + timedelta(hours=1)).")
        fields["run_at"] = int(run_at.timestamp())
    body = CreateJobRequest.from_dict(fields)
    params = {"body": body, "idempotency_key": idempotency_key or new_idempotency_key()}
    return Call(create_job, Job, params=params, timeout_s=timeout_s)


def jobs_get(job_id: str, *, timeout_s: float | None = None) -> Call[Job]:
    return Call(get_job, Job, (job_id,), timeout_s=timeout_s)


def jobs_cancel(job_id: str, *, timeout_s: float | None = None) -> Call[Job]:
    """A queued or running job becomes canceled (its credits come back); a finished one answers 409."""
    return Call(cancel_job, Job, (job_id,), {"body": EmptyBody()}, timeout_s)


def jobs_list(
    *,
    limit: int = 10,
    starting_after: str | None = None,
    status: JobStatus | str | None = None,
    expand: Sequence[str] = (),
    timeout_s: float | None = None,
) -> Call[Page[JobListItem]]:
    """Items leave out input and result unless expanded: `expand=["data.input", "data.result"]` (then
    limit is at most 20); get() always has both."""
    params: dict[str, Any] = {"limit": limit, "starting_after": _given(starting_after)}
    if status is not None:
        params["status"] = JobStatus(status)
    if expand:
        params["expand"] = [ListJobsExpandItem(name) for name in expand]
    return Call(list_jobs, JobListItemPage, params=params, timeout_s=timeout_s)


def jobs_list_all(
    *,
    page_size: int | None = None,
    status: JobStatus | str | None = None,
    expand: Sequence[str] = (),
    timeout_s: float | None = None,
) -> Listing[JobListItem]:
    """Every job, newest first, fetched a page at a time as the loop goes (20 a page when expanding,
    the server's largest then; else 100)."""
    size = page_size or (MAX_EXPANDED_PAGE_SIZE if expand else MAX_PAGE_SIZE)
    return Listing(
        lambda cursor: jobs_list(
            limit=size, starting_after=cursor, status=status, expand=expand, timeout_s=timeout_s
        )
    )


def job_types_list(
    *, limit: int = 10, starting_after: str | None = None, timeout_s: float | None = None
) -> Call[Page[JobTypeListing]]:
    """The job types this account may create, with their prices."""
    return _page_call(list_job_types, JobTypeListingPage, limit, starting_after, timeout_s)


def job_types_list_all(
    *, page_size: int = MAX_PAGE_SIZE, timeout_s: float | None = None
) -> Listing[JobTypeListing]:
    return Listing(lambda cursor: job_types_list(limit=page_size, starting_after=cursor, timeout_s=timeout_s))


# Credits and usage


def ledger_list(
    *, limit: int = 10, starting_after: str | None = None, timeout_s: float | None = None
) -> Call[Page[LedgerEntry]]:
    return _page_call(list_ledger_entries, LedgerEntryPage, limit, starting_after, timeout_s)


def ledger_list_all(
    *, page_size: int = MAX_PAGE_SIZE, timeout_s: float | None = None
) -> Listing[LedgerEntry]:
    return Listing(lambda cursor: ledger_list(limit=page_size, starting_after=cursor, timeout_s=timeout_s))


def credit_grants_list(
    *, limit: int = 10, starting_after: str | None = None, timeout_s: float | None = None
) -> Call[Page[CreditGrant]]:
    """The caller's credit grants, newest first, with what is left of each and when it expires."""
    return _page_call(list_credit_grants, CreditGrantPage, limit, starting_after, timeout_s)


def credit_grants_list_all(
    *, page_size: int = MAX_PAGE_SIZE, timeout_s: float | None = None
) -> Listing[CreditGrant]:
    return Listing(
        lambda cursor: credit_grants_list(limit=page_size, starting_after=cursor, timeout_s=timeout_s)
    )


def auto_top_up_get(*, timeout_s: float | None = None) -> Call[AutoTopUp]:
    """Auto top-up's settings and state (a signed-in user's): why it is off, this month's spend."""
    return Call(get_auto_top_up, AutoTopUp, timeout_s=timeout_s)


def auto_top_up_set(
    *,
    enabled: bool,
    threshold: int,
    package: str | None = None,
    monthly_limit_cents: int | None = None,
    low_balance_threshold: int | None = None,
    timeout_s: float | None = None,
) -> Call[AutoTopUp]:
    """Buy `package` when the balance falls below `threshold` (at most `monthly_limit_cents` a UTC month);
    `low_balance_threshold` sets the low-balance alert."""
    fields = {
        "enabled": enabled,
        "threshold": threshold,
        "package": package,
        "monthly_limit_cents": monthly_limit_cents,
        "low_balance_threshold": low_balance_threshold,
    }
    body = AutoTopUpInput.from_dict(_body(fields))
    return Call(set_auto_top_up, AutoTopUp, params={"body": body}, timeout_s=timeout_s)


def _usage_params(
    from_date: str | None,
    to_date: str | None,
    key_id: str | None,
    limit: int | None,
    starting_after: str | None,
) -> dict[str, Any]:
    return {
        "from_": _given(from_date),
        "to": _given(to_date),
        "key_id": _given(key_id),
        "limit": _given(limit),
        "starting_after": _given(starting_after),
    }


def usage_get(
    *,
    from_date: str | None = None,
    to_date: str | None = None,
    key_id: str | None = None,
    limit: int | None = None,
    starting_after: str | None = None,
    timeout_s: float | None = None,
) -> Call[UsageReport]:
    """One page of usage per key and UTC day (YYYY-MM-DD bounds; default the last 30 days); `totals` sums
    the page's rows, `next_cursor` continues."""
    params = _usage_params(from_date, to_date, key_id, limit, starting_after)
    return Call(get_usage, UsageReport, params=params, timeout_s=timeout_s)


def usage_list_all(
    *,
    from_date: str | None = None,
    to_date: str | None = None,
    key_id: str | None = None,
    page_size: int = MAX_PAGE_SIZE,
    timeout_s: float | None = None,
) -> Listing[UsageDay]:
    """Every row (key and day) of the period, a page at a time."""

    def page(cursor: str | None) -> Call[Page[UsageDay]]:
        params = _usage_params(from_date, to_date, key_id, page_size, cursor)
        return Call(get_usage, UsageReport, params=params, timeout_s=timeout_s)

    return Listing(page)


# Webhooks


def webhook_get(*, timeout_s: float | None = None) -> Call[WebhookEndpoint]:
    return Call(get_webhook, WebhookEndpoint, timeout_s=timeout_s)


def webhook_set(
    url: str, events: Sequence[str], *, enabled: bool | None = None, timeout_s: float | None = None
) -> Call[WebhookEndpoint]:
    body = WebhookEndpointInput.from_dict(_body({"url": url, "events": list(events), "enabled": enabled}))
    return Call(set_webhook, WebhookEndpoint, params={"body": body}, timeout_s=timeout_s)


def webhook_delete(*, timeout_s: float | None = None) -> Call[WebhookDeleted]:
    return Call(delete_webhook, WebhookDeleted, timeout_s=timeout_s)


def webhook_rotate_secret(*, timeout_s: float | None = None) -> Call[WebhookEndpoint]:
    return Call(rotate_webhook_secret, WebhookEndpoint, timeout_s=timeout_s)


def webhook_send_test(*, timeout_s: float | None = None) -> Call[WebhookTestEvent]:
    return Call(send_test_webhook, WebhookTestEvent, timeout_s=timeout_s)


def webhook_deliveries(
    *, limit: int = 20, starting_after: str | None = None, timeout_s: float | None = None
) -> Call[Page[DeliveryAttempt]]:
    return _page_call(list_webhook_deliveries, DeliveryAttemptPage, limit, starting_after, timeout_s)


def webhook_all_deliveries(
    *, page_size: int = MAX_PAGE_SIZE, timeout_s: float | None = None
) -> Listing[DeliveryAttempt]:
    return Listing(
        lambda cursor: webhook_deliveries(limit=page_size, starting_after=cursor, timeout_s=timeout_s)
    )


# Cards and purchases (a signed-in user's)


def payment_methods_create_setup_intent(*, timeout_s: float | None = None) -> Call[SetupIntent]:
    return Call(create_setup_intent, SetupIntent, timeout_s=timeout_s)


def payment_methods_add(setup_intent_id: str, *, timeout_s: float | None = None) -> Call[PaymentMethod]:
    body = RegisterCard.from_dict({"setup_intent_id": setup_intent_id})
    return Call(add_payment_method, PaymentMethod, params={"body": body}, timeout_s=timeout_s)


def payment_methods_list(
    *, limit: int = 10, starting_after: str | None = None, timeout_s: float | None = None
) -> Call[Page[PaymentMethod]]:
    return _page_call(list_payment_methods, PaymentMethodPage, limit, starting_after, timeout_s)


def payment_methods_list_all(
    *, page_size: int = MAX_PAGE_SIZE, timeout_s: float | None = None
) -> Listing[PaymentMethod]:
    return Listing(
        lambda cursor: payment_methods_list(limit=page_size, starting_after=cursor, timeout_s=timeout_s)
    )


def payment_methods_set_default(
    payment_method_id: str, *, timeout_s: float | None = None
) -> Call[PaymentMethod]:
    return Call(set_default_payment_method, PaymentMethod, (payment_method_id,), timeout_s=timeout_s)


def payment_methods_delete(
    payment_method_id: str, *, timeout_s: float | None = None
) -> Call[PaymentMethodDeleted]:
    return Call(delete_payment_method, PaymentMethodDeleted, (payment_method_id,), timeout_s=timeout_s)


def credit_packages_list_all(*, timeout_s: float | None = None) -> Listing[CreditPackage]:
    return Listing(lambda cursor: _page_call(list_credit_packages, CreditPackagePage, 100, cursor, timeout_s))


def purchases_create(
    package: str,
    *,
    payment_method_id: str | None = None,
    idempotency_key: str | None = None,
    timeout_s: float | None = None,
) -> Call[Purchase]:
    """Charges the card once, whatever the retries: they all carry one Idempotency-Key."""
    body = NewPurchase.from_dict(_body({"package": package, "payment_method_id": payment_method_id}))
    params = {"body": body, "idempotency_key": idempotency_key or new_idempotency_key()}
    return Call(create_purchase, Purchase, params=params, timeout_s=timeout_s)


def purchases_get(purchase_id: str, *, timeout_s: float | None = None) -> Call[Purchase]:
    return Call(get_purchase, Purchase, (purchase_id,), timeout_s=timeout_s)
