"""The hand-written layer over the generated operations (credits_client.generated): one Client, a resource
object per part of the API, errors raised as ApiError, retries, pagination."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any, Protocol, TypeVar

import httpx

from credits_client._errors import ApiConnectionError, ApiError
from credits_client._http import LastResponses, ResponseInfo, RetryingTransport, RetryPolicy
from credits_client.generated import AuthenticatedClient
from credits_client.generated.api.account import create_account, get_account
from credits_client.generated.api.api_keys import (
    create_api_key,
    list_api_keys,
    revoke_api_key,
    roll_api_key,
    update_api_key,
    whoami,
)
from credits_client.generated.api.credits_ import list_ledger_entries
from credits_client.generated.api.jobs import create_job, get_job, list_jobs
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
    CreateJobRequest,
    CreateKeyBody,
    CreditPackage,
    CreditPackagePage,
    DeliveryAttempt,
    DeliveryAttemptPage,
    Job,
    JobPage,
    JobStatus,
    LedgerEntry,
    LedgerEntryPage,
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
    UsageReport,
    WebhookDeleted,
    WebhookEndpoint,
    WebhookEndpointInput,
    WebhookTestEvent,
    WhoAmI,
)
from credits_client.generated.types import UNSET
from credits_client.webhooks import Webhooks

DEFAULT_BASE_URL = "http://127.0.0.1:5001/demo-platform/us-central1/api"
USER_AGENT = "credits-client-python/1.0.0"
FINISHED = (JobStatus.COMPLETED, JobStatus.FAILED)

T = TypeVar("T")
Item = TypeVar("Item", covariant=True)


class Page(Protocol[Item]):
    @property
    def data(self) -> Sequence[Item]: ...
    @property
    def has_more(self) -> bool: ...
    @property
    def next_cursor(self) -> str | None: ...


def new_idempotency_key() -> str:
    """One per logical call, reused by every retry of it (as Stripe's libraries do)."""
    return str(uuid.uuid4())


def paginate(fetch_page: Callable[[str | None], Page[T]]) -> Iterator[T]:
    """Every item of a list, page after page, following `next_cursor`."""
    cursor: str | None = None
    while True:
        page = fetch_page(cursor)
        yield from page.data
        if not page.has_more or page.next_cursor is None:
            return
        cursor = page.next_cursor


def _body(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


class Client:
    """`Client(api_key="sk_test_...", base_url=...)`; `id_token=` instead for the signed-in user's routes
    (API keys, purchases, cards). Each resource method answers a typed model or raises ApiError."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        *,
        id_token: str | None = None,
        max_retries: int = 3,
        timeout_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        token = api_key or id_token
        if not token:
            raise ValueError("Client needs an api_key (sk_live_... or sk_test_...) or an id_token.")
        self._responses = LastResponses()
        self._transport = RetryingTransport(
            transport or httpx.HTTPTransport(), RetryPolicy(max_retries=max_retries), sleep
        )
        self.api = AuthenticatedClient(
            base_url=base_url.rstrip("/"),
            token=token,
            timeout=httpx.Timeout(timeout_s),
            headers={"User-Agent": USER_AGENT},
            httpx_args={"transport": self._transport, "event_hooks": {"response": [self._responses.record]}},
        )
        self.account = AccountResource(self)
        self.api_keys = ApiKeys(self)
        self.jobs = Jobs(self)
        self.ledger = Ledger(self)
        self.usage = Usage(self)
        self.webhook_endpoint = WebhookEndpoints(self)
        self.payment_methods = PaymentMethods(self)
        self.credit_packages = CreditPackages(self)
        self.purchases = Purchases(self)
        self.webhooks = Webhooks()

    @property
    def last_response(self) -> ResponseInfo | None:
        """Status, Request-Id, RateLimit fields and Idempotent-Replayed of this thread's last call."""
        return self._responses.last

    def whoami(self) -> WhoAmI:
        return self.call(whoami, WhoAmI)

    def call(self, operation: ModuleType, returns: type[T], *args: Any, **params: Any) -> T:
        """Run one generated operation (credits_client.generated.api.*): its answer as `returns`, or
        ApiError. Error bodies are read here, not by the generated parser, so that codes added to the API
        later and non-JSON answers (a proxy's) still become ApiError."""
        request = operation._get_kwargs(*args, **params)
        try:
            response = self.api.get_httpx_client().request(**request)
        except httpx.TransportError as exc:
            raise ApiConnectionError(exc) from exc
        if response.status_code >= 400:
            raise ApiError.from_response(response)
        parsed = operation._parse_response(client=self.api, response=response)
        if not isinstance(parsed, returns):
            raise ApiError(response.status_code, "unexpected_response", f"Not a {returns.__name__}.")
        return parsed

    def close(self) -> None:
        self.api.get_httpx_client().close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class _Resource:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._call = client.call


class AccountResource(_Resource):
    def get(self) -> Account:
        return self._call(get_account, Account)

    def create(self) -> Account:
        return self._call(create_account, Account)


class ApiKeys(_Resource):
    """The signed-in user's keys (an id_token client)."""

    def create(
        self, *, name: str | None = None, environment: str = "test", rate_limit: int | None = None
    ) -> NewApiKey:
        body = CreateKeyBody.from_dict(
            _body({"name": name, "environment": environment, "rate_limit": rate_limit})
        )
        return self._call(create_api_key, NewApiKey, body=body)

    def list(self, *, limit: int = 10, starting_after: str | None = None) -> ApiKeyPage:
        return self._call(list_api_keys, ApiKeyPage, limit=limit, starting_after=starting_after or UNSET)

    def list_all(self, *, page_size: int = 100) -> Iterator[ApiKey]:
        return paginate(lambda cursor: self.list(limit=page_size, starting_after=cursor))

    def revoke(self, key_id: str) -> ApiKey:
        return self._call(revoke_api_key, ApiKey, key_id)

    def roll(
        self, key_id: str, *, expires_in: int | None = None, rate_limit: int | None = None
    ) -> RolledApiKey:
        body = RollKeyBody.from_dict(_body({"expires_in": expires_in, "rate_limit": rate_limit}))
        return self._call(roll_api_key, RolledApiKey, key_id, body=body)

    def update(self, key_id: str, **fields: Any) -> ApiKey:
        """`name=...`, `rate_limit=...` (None: back to the default)."""
        return self._call(update_api_key, ApiKey, key_id, body=UpdateKeyBody.from_dict(fields))


class Jobs(_Resource):
    def create(
        self, type: str, input: Mapping[str, Any] | None = None, *, idempotency_key: str | None = None
    ) -> Job:
        """Live keys pay the job's cost. Retried requests carry one Idempotency-Key: never two jobs."""
        body = CreateJobRequest.from_dict({"type": type, "input": dict(input or {})})
        key = idempotency_key or new_idempotency_key()
        return self._call(create_job, Job, body=body, idempotency_key=key)

    def get(self, job_id: str) -> Job:
        return self._call(get_job, Job, job_id)

    def list(
        self,
        *,
        limit: int = 10,
        starting_after: str | None = None,
        status: JobStatus | str | None = None,
        **filters: Any,
    ) -> JobPage:
        return self._call(
            list_jobs,
            JobPage,
            limit=limit,
            starting_after=starting_after or UNSET,
            status=JobStatus(status) if status is not None else UNSET,
            **filters,
        )

    def list_all(self, *, page_size: int = 100, **filters: Any) -> Iterator[Job]:
        """Every job, newest first, fetched a page at a time as the loop goes."""
        return paginate(lambda cursor: self.list(limit=page_size, starting_after=cursor, **filters))

    def wait(self, job_id: str, *, timeout_s: float = 60.0, interval_s: float = 0.5) -> Job:
        """Poll until the job is completed or failed; TimeoutError after timeout_s."""
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.get(job_id)
            if job.status in FINISHED:
                return job
            if time.monotonic() >= deadline:
                raise TimeoutError(f"Job {job_id} is still {job.status.value} after {timeout_s} s.")
            time.sleep(interval_s)


class Ledger(_Resource):
    def list(self, *, limit: int = 10, starting_after: str | None = None) -> LedgerEntryPage:
        return self._call(
            list_ledger_entries, LedgerEntryPage, limit=limit, starting_after=starting_after or UNSET
        )

    def list_all(self, *, page_size: int = 100) -> Iterator[LedgerEntry]:
        return paginate(lambda cursor: self.list(limit=page_size, starting_after=cursor))


class Usage(_Resource):
    def get(
        self, *, from_date: str | None = None, to_date: str | None = None, key_id: str | None = None
    ) -> UsageReport:
        """Per key and UTC day (YYYY-MM-DD bounds; default the last 30 days)."""
        return self._call(
            get_usage, UsageReport, from_=from_date or UNSET, to=to_date or UNSET, key_id=key_id or UNSET
        )


class WebhookEndpoints(_Resource):
    """The caller's webhook endpoint (one per account)."""

    def get(self) -> WebhookEndpoint:
        return self._call(get_webhook, WebhookEndpoint)

    def set(self, url: str, events: list[str], *, enabled: bool | None = None) -> WebhookEndpoint:
        body = WebhookEndpointInput.from_dict(_body({"url": url, "events": events, "enabled": enabled}))
        return self._call(set_webhook, WebhookEndpoint, body=body)

    def delete(self) -> WebhookDeleted:
        return self._call(delete_webhook, WebhookDeleted)

    def rotate_secret(self) -> WebhookEndpoint:
        return self._call(rotate_webhook_secret, WebhookEndpoint)

    def send_test(self) -> WebhookTestEvent:
        return self._call(send_test_webhook, WebhookTestEvent)

    def deliveries(self, *, limit: int = 20, starting_after: str | None = None) -> DeliveryAttemptPage:
        return self._call(
            list_webhook_deliveries, DeliveryAttemptPage, limit=limit, starting_after=starting_after or UNSET
        )

    def all_deliveries(self, *, page_size: int = 100) -> Iterator[DeliveryAttempt]:
        return paginate(lambda cursor: self.deliveries(limit=page_size, starting_after=cursor))


class PaymentMethods(_Resource):
    def create_setup_intent(self) -> SetupIntent:
        return self._call(create_setup_intent, SetupIntent)

    def add(self, setup_intent_id: str) -> PaymentMethod:
        body = RegisterCard.from_dict({"setup_intent_id": setup_intent_id})
        return self._call(add_payment_method, PaymentMethod, body=body)

    def list(self, *, limit: int = 10, starting_after: str | None = None) -> PaymentMethodPage:
        return self._call(
            list_payment_methods, PaymentMethodPage, limit=limit, starting_after=starting_after or UNSET
        )

    def list_all(self, *, page_size: int = 100) -> Iterator[PaymentMethod]:
        return paginate(lambda cursor: self.list(limit=page_size, starting_after=cursor))

    def set_default(self, payment_method_id: str) -> PaymentMethod:
        return self._call(set_default_payment_method, PaymentMethod, payment_method_id)

    def delete(self, payment_method_id: str) -> PaymentMethodDeleted:
        return self._call(delete_payment_method, PaymentMethodDeleted, payment_method_id)


class CreditPackages(_Resource):
    def list(self) -> list[CreditPackage]:
        return list(paginate(lambda cursor: self._page(cursor)))

    def _page(self, cursor: str | None) -> CreditPackagePage:
        return self._call(list_credit_packages, CreditPackagePage, limit=100, starting_after=cursor or UNSET)


class Purchases(_Resource):
    def create(
        self, package: str, *, payment_method_id: str | None = None, idempotency_key: str | None = None
    ) -> Purchase:
        """Charges the card once, whatever the retries: they all carry one Idempotency-Key."""
        body = NewPurchase.from_dict(_body({"package": package, "payment_method_id": payment_method_id}))
        key = idempotency_key or new_idempotency_key()
        return self._call(create_purchase, Purchase, body=body, idempotency_key=key)

    def get(self, purchase_id: str) -> Purchase:
        return self._call(get_purchase, Purchase, purchase_id)
