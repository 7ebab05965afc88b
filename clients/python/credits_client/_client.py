"""Client and AsyncClient: the settings (arguments, else CREDITS_API_KEY and CREDITS_BASE_URL), the httpx
client with its retrying transport, and how one Call or Listing (credits_client._operations) is run. The
resources they carry are in credits_client._resources."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import ModuleType, TracebackType
from typing import Any, TypeVar

import httpx

from credits_client import _resources as resources
from credits_client._errors import ApiConnectionError, ConfigurationError
from credits_client._http import (
    AsyncRetryingTransport,
    LastResponses,
    ResponseInfo,
    RetryingTransport,
    RetryPolicy,
)
from credits_client._operations import Call, Listing, whoami_get
from credits_client._version import __version__
from credits_client.generated.models import WhoAmI
from credits_client.webhooks import Webhooks

API_KEY_VARIABLE = "CREDITS_API_KEY"
BASE_URL_VARIABLE = "CREDITS_BASE_URL"
DEFAULT_TIMEOUT_S = 30.0
USER_AGENT = f"credits-client-python/{__version__}"

T = TypeVar("T")


class _Settings:
    """What both clients are made of; each argument left out is read from its environment variable."""

    def __init__(self, api_key: str | None, base_url: str | None, id_token: str | None) -> None:
        credential = api_key or id_token or os.environ.get(API_KEY_VARIABLE)
        base = base_url or os.environ.get(BASE_URL_VARIABLE)
        if not base:
            raise ConfigurationError(
                f"No base URL: pass base_url= or set {BASE_URL_VARIABLE} "
                "(the API's address, e.g. http://127.0.0.1:5001/demo-platform/us-central1/api for make dev)."
            )
        if not credential:
            raise ConfigurationError(
                f"No credentials: pass api_key= (sk_live_... or sk_test_...) or set {API_KEY_VARIABLE}; "
                "id_token= for a signed-in user's routes."
            )
        self.credential = credential
        self.base_url = base.rstrip("/")

    def httpx_args(self, timeout_s: float) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "headers": {"Authorization": f"Bearer {self.credential}", "User-Agent": USER_AGENT},
            "timeout": httpx.Timeout(timeout_s),
        }


class Client:
    """`Client()` with CREDITS_API_KEY and CREDITS_BASE_URL set, or `Client(api_key=..., base_url=...)`;
    `id_token=` instead for the signed-in user's routes (API keys, purchases, cards). Each resource method
    answers a typed model or raises ApiError; `timeout_s` (seconds per attempt) is the client's default and
    any method's own argument."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        id_token: str | None = None,
        max_retries: int = 3,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        settings = _Settings(api_key, base_url, id_token)
        self._credential = settings.credential
        self._responses = LastResponses()
        retrying = RetryingTransport(transport or httpx.HTTPTransport(), RetryPolicy(max_retries), sleep)
        self.http = httpx.Client(
            **settings.httpx_args(timeout_s),
            transport=retrying,
            event_hooks={"response": [self._responses.record]},
        )
        self.account = resources.Account(self)
        self.api_keys = resources.ApiKeys(self)
        self.jobs = resources.Jobs(self)
        self.job_types = resources.JobTypes(self)
        self.ledger = resources.Ledger(self)
        self.credit_grants = resources.CreditGrants(self)
        self.auto_top_up = resources.AutoTopUp(self)
        self.usage = resources.Usage(self)
        self.webhook_endpoint = resources.WebhookEndpoints(self)
        self.payment_methods = resources.PaymentMethods(self)
        self.credit_packages = resources.CreditPackages(self)
        self.purchases = resources.Purchases(self)
        self.webhooks = Webhooks()

    @property
    def last_response(self) -> ResponseInfo | None:
        """Status, Request-Id, RateLimit fields and Idempotent-Replayed of this thread's last call."""
        return self._responses.last

    def whoami(self, *, timeout_s: float | None = None) -> WhoAmI:
        return self.run(whoami_get(timeout_s=timeout_s))

    def run(self, call: Call[T]) -> T:
        try:
            response = self.http.request(**call.request())
        except httpx.TransportError as exc:
            raise ApiConnectionError.of(exc) from exc
        return call.answer(response)

    def iterate(self, listing: Listing[T]) -> Iterator[T]:
        """Every item, page after page, following `next_cursor`."""
        cursor: str | None = None
        while True:
            page = self.run(listing.page(cursor))
            yield from page.data
            if not page.has_more or page.next_cursor is None:
                return
            cursor = page.next_cursor

    def call(
        self,
        operation: ModuleType,
        returns: type[T],
        *args: Any,
        timeout_s: float | None = None,
        **params: Any,
    ) -> T:
        """Any generated operation (a module of credits_client.generated.api), with the same retries and
        errors: `client.call(get_job, Job, "job_1")`."""
        return self.run(Call(operation, returns, args, params, timeout_s))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class AsyncClient:
    """Client's twin for asyncio: the same settings, resources and arguments, every method awaitable and
    every `list_all` an async iterator. `async with AsyncClient() as client: ...`"""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        id_token: str | None = None,
        max_retries: int = 3,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        settings = _Settings(api_key, base_url, id_token)
        self._credential = settings.credential
        self._responses = LastResponses()
        retrying = AsyncRetryingTransport(
            transport or httpx.AsyncHTTPTransport(), RetryPolicy(max_retries), sleep
        )
        self.http = httpx.AsyncClient(
            **settings.httpx_args(timeout_s),
            transport=retrying,
            event_hooks={"response": [self._responses.arecord]},
        )
        self.account = resources.AsyncAccount(self)
        self.api_keys = resources.AsyncApiKeys(self)
        self.jobs = resources.AsyncJobs(self)
        self.job_types = resources.AsyncJobTypes(self)
        self.ledger = resources.AsyncLedger(self)
        self.credit_grants = resources.AsyncCreditGrants(self)
        self.auto_top_up = resources.AsyncAutoTopUp(self)
        self.usage = resources.AsyncUsage(self)
        self.webhook_endpoint = resources.AsyncWebhookEndpoints(self)
        self.payment_methods = resources.AsyncPaymentMethods(self)
        self.credit_packages = resources.AsyncCreditPackages(self)
        self.purchases = resources.AsyncPurchases(self)
        self.webhooks = Webhooks()

    @property
    def last_response(self) -> ResponseInfo | None:
        """Status, Request-Id, RateLimit fields and Idempotent-Replayed of this task's last call."""
        return self._responses.last

    async def whoami(self, *, timeout_s: float | None = None) -> WhoAmI:
        return await self.run(whoami_get(timeout_s=timeout_s))

    async def run(self, call: Call[T]) -> T:
        try:
            response = await self.http.request(**call.request())
        except httpx.TransportError as exc:
            raise ApiConnectionError.of(exc) from exc
        return call.answer(response)

    async def iterate(self, listing: Listing[T]) -> AsyncIterator[T]:
        """Every item, page after page, following `next_cursor`."""
        cursor: str | None = None
        while True:
            page = await self.run(listing.page(cursor))
            for item in page.data:
                yield item
            if not page.has_more or page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def call(
        self,
        operation: ModuleType,
        returns: type[T],
        *args: Any,
        timeout_s: float | None = None,
        **params: Any,
    ) -> T:
        """Any generated operation (a module of credits_client.generated.api), with the same retries and
        errors: `await client.call(get_job, Job, "job_1")`."""
        return await self.run(Call(operation, returns, args, params, timeout_s))

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()
