"""The resources of Client and AsyncClient: each method is a builder of credits_client._operations run by the
client (`sync(...)` answers the model, `asynchronous(...)` an awaitable of it; `*_pages` iterate a
Listing). Both families have the same methods with the same arguments, and every method takes `timeout_s`."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from credits_client import _operations as ops
from credits_client._described import TERMINAL_JOB_STATUSES
from credits_client._operations import Call, Listing
from credits_client.generated.models import Job

if TYPE_CHECKING:
    from credits_client._client import AsyncClient, Client

T = TypeVar("T")
P = ParamSpec("P")
M = TypeVar("M", bound=Callable[..., object])


class SyncResource:
    def __init__(self, client: Client) -> None:
        self._client = client


class AsyncResource:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client


def _like(method: M, builder: Callable[..., object]) -> M:
    """The method as help() and editors show it: the builder's name, documentation and arguments."""
    signature = inspect.signature(builder)
    this = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    method.__name__ = method.__qualname__ = getattr(builder, "__name__", "method")
    method.__doc__ = builder.__doc__
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[this, *signature.parameters.values()], return_annotation=inspect.Signature.empty
    )
    return method


def sync(builder: Callable[P, Call[T]]) -> Callable[Concatenate[SyncResource, P], T]:
    def method(self: SyncResource, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._client.run(builder(*args, **kwargs))

    return _like(method, builder)


def asynchronous(builder: Callable[P, Call[T]]) -> Callable[Concatenate[AsyncResource, P], Awaitable[T]]:
    async def method(self: AsyncResource, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._client.run(builder(*args, **kwargs))

    return _like(method, builder)


def sync_pages(builder: Callable[P, Listing[T]]) -> Callable[Concatenate[SyncResource, P], Iterator[T]]:
    def method(self: SyncResource, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        return self._client.iterate(builder(*args, **kwargs))

    return _like(method, builder)


def async_pages(
    builder: Callable[P, Listing[T]],
) -> Callable[Concatenate[AsyncResource, P], AsyncIterator[T]]:
    def method(self: AsyncResource, /, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        return self._client.iterate(builder(*args, **kwargs))

    return _like(method, builder)


def _still_running(job_id: str, job: Job, timeout_s: float) -> TimeoutError:
    return TimeoutError(f"Job {job_id} is still {job.status} after {timeout_s} s.")


class Account(SyncResource):
    get = sync(ops.account_get)
    create = sync(ops.account_create)


class AsyncAccount(AsyncResource):
    get = asynchronous(ops.account_get)
    create = asynchronous(ops.account_create)


class ApiKeys(SyncResource):
    """The signed-in user's keys (an id_token client)."""

    create = sync(ops.api_keys_create)
    list = sync(ops.api_keys_list)
    list_all = sync_pages(ops.api_keys_list_all)
    revoke = sync(ops.api_keys_revoke)
    roll = sync(ops.api_keys_roll)
    update = sync(ops.api_keys_update)


class AsyncApiKeys(AsyncResource):
    """The signed-in user's keys (an id_token client)."""

    create = asynchronous(ops.api_keys_create)
    list = asynchronous(ops.api_keys_list)
    list_all = async_pages(ops.api_keys_list_all)
    revoke = asynchronous(ops.api_keys_revoke)
    roll = asynchronous(ops.api_keys_roll)
    update = asynchronous(ops.api_keys_update)


class Jobs(SyncResource):
    create = sync(ops.jobs_create)
    get = sync(ops.jobs_get)
    cancel = sync(ops.jobs_cancel)
    list = sync(ops.jobs_list)
    list_all = sync_pages(ops.jobs_list_all)

    def wait(self, job_id: str, *, timeout_s: float = 60.0, interval_s: float = 0.5) -> Job:
        """Poll until the job reaches a terminal status (completed, failed, canceled: the description's
        `x-terminal`); TimeoutError after timeout_s."""
        deadline = time.monotonic() + timeout_s
        while True:
            job = self._client.run(ops.jobs_get(job_id))
            if job.status in TERMINAL_JOB_STATUSES:
                return job
            if time.monotonic() >= deadline:
                raise _still_running(job_id, job, timeout_s)
            time.sleep(interval_s)


class AsyncJobs(AsyncResource):
    create = asynchronous(ops.jobs_create)
    get = asynchronous(ops.jobs_get)
    cancel = asynchronous(ops.jobs_cancel)
    list = asynchronous(ops.jobs_list)
    list_all = async_pages(ops.jobs_list_all)

    async def wait(self, job_id: str, *, timeout_s: float = 60.0, interval_s: float = 0.5) -> Job:
        """Poll until the job reaches a terminal status (completed, failed, canceled: the description's
        `x-terminal`); TimeoutError after timeout_s."""
        deadline = time.monotonic() + timeout_s
        while True:
            job = await self._client.run(ops.jobs_get(job_id))
            if job.status in TERMINAL_JOB_STATUSES:
                return job
            if time.monotonic() >= deadline:
                raise _still_running(job_id, job, timeout_s)
            await asyncio.sleep(interval_s)


class JobTypes(SyncResource):
    list = sync(ops.job_types_list)
    list_all = sync_pages(ops.job_types_list_all)


class AsyncJobTypes(AsyncResource):
    list = asynchronous(ops.job_types_list)
    list_all = async_pages(ops.job_types_list_all)


class Ledger(SyncResource):
    list = sync(ops.ledger_list)
    list_all = sync_pages(ops.ledger_list_all)


class AsyncLedger(AsyncResource):
    list = asynchronous(ops.ledger_list)
    list_all = async_pages(ops.ledger_list_all)


class CreditGrants(SyncResource):
    list = sync(ops.credit_grants_list)
    list_all = sync_pages(ops.credit_grants_list_all)


class AsyncCreditGrants(AsyncResource):
    list = asynchronous(ops.credit_grants_list)
    list_all = async_pages(ops.credit_grants_list_all)


class AutoTopUp(SyncResource):
    """A signed-in user's (an id_token client)."""

    get = sync(ops.auto_top_up_get)
    set = sync(ops.auto_top_up_set)


class AsyncAutoTopUp(AsyncResource):
    """A signed-in user's (an id_token client)."""

    get = asynchronous(ops.auto_top_up_get)
    set = asynchronous(ops.auto_top_up_set)


class Usage(SyncResource):
    get = sync(ops.usage_get)
    list_all = sync_pages(ops.usage_list_all)


class AsyncUsage(AsyncResource):
    get = asynchronous(ops.usage_get)
    list_all = async_pages(ops.usage_list_all)


class WebhookEndpoints(SyncResource):
    """The caller's webhook endpoint (one per account)."""

    get = sync(ops.webhook_get)
    set = sync(ops.webhook_set)
    delete = sync(ops.webhook_delete)
    rotate_secret = sync(ops.webhook_rotate_secret)
    send_test = sync(ops.webhook_send_test)
    deliveries = sync(ops.webhook_deliveries)
    all_deliveries = sync_pages(ops.webhook_all_deliveries)


class AsyncWebhookEndpoints(AsyncResource):
    """The caller's webhook endpoint (one per account)."""

    get = asynchronous(ops.webhook_get)
    set = asynchronous(ops.webhook_set)
    delete = asynchronous(ops.webhook_delete)
    rotate_secret = asynchronous(ops.webhook_rotate_secret)
    send_test = asynchronous(ops.webhook_send_test)
    deliveries = asynchronous(ops.webhook_deliveries)
    all_deliveries = async_pages(ops.webhook_all_deliveries)


class PaymentMethods(SyncResource):
    create_setup_intent = sync(ops.payment_methods_create_setup_intent)
    add = sync(ops.payment_methods_add)
    list = sync(ops.payment_methods_list)
    list_all = sync_pages(ops.payment_methods_list_all)
    set_default = sync(ops.payment_methods_set_default)
    delete = sync(ops.payment_methods_delete)


class AsyncPaymentMethods(AsyncResource):
    create_setup_intent = asynchronous(ops.payment_methods_create_setup_intent)
    add = asynchronous(ops.payment_methods_add)
    list = asynchronous(ops.payment_methods_list)
    list_all = async_pages(ops.payment_methods_list_all)
    set_default = asynchronous(ops.payment_methods_set_default)
    delete = asynchronous(ops.payment_methods_delete)


class CreditPackages(SyncResource):
    list_all = sync_pages(ops.credit_packages_list_all)


class AsyncCreditPackages(AsyncResource):
    list_all = async_pages(ops.credit_packages_list_all)


class Purchases(SyncResource):
    create = sync(ops.purchases_create)
    get = sync(ops.purchases_get)


class AsyncPurchases(AsyncResource):
    create = asynchronous(ops.purchases_create)
    get = asynchronous(ops.purchases_get)
