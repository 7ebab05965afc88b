"""AsyncClient against a scripted HTTP server on 127.0.0.1: the same resources and arguments as Client,
awaited (`async with`, awaitable methods, `async for` over list_all), the same retries and errors, its own
last response per task, and a cancelled call that stops at once."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from credits_client import ApiError, AsyncClient, Client, InsufficientCreditsError, ResponseParseError
from credits_client.models import Job, JobStatus

from tests.support.webhook_receiver import Scripted, WebhookReceiver
from tests.unit.test_python_client import JOB, error_reply, json_reply


@pytest.fixture
def server() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


async def no_wait(seconds: float) -> None:
    return None


def public_methods(resource: object) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(getattr(resource, name))
        for name in dir(resource)
        if not name.startswith("_") and callable(getattr(resource, name))
    }


def test_the_same_resources_and_arguments_as_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITS_API_KEY", "sk_test_x")
    monkeypatch.setenv("CREDITS_BASE_URL", "http://127.0.0.1:9/api")
    sync_client, async_client = Client(), AsyncClient()
    names = [name for name, value in vars(sync_client).items() if not name.startswith("_") and name != "http"]
    assert {"jobs", "job_types", "usage", "account", "webhooks"} <= set(names)
    for name in names:
        synchronous, asynchronous = (
            public_methods(getattr(sync_client, name)),
            public_methods(getattr(async_client, name)),
        )
        assert synchronous.keys() == asynchronous.keys(), name
        for method, signature in synchronous.items():
            assert list(signature.parameters.values()) == list(asynchronous[method].parameters.values()), (
                method
            )
    assert "timeout_s" in inspect.signature(sync_client.jobs.create).parameters


def test_async_with_awaitable_methods_and_async_for(server: WebhookReceiver) -> None:
    server.respond(
        json_reply(201, JOB, **{"Idempotent-Replayed": "true"}),
        json_reply(200, {**JOB, "status": "running"}),
        json_reply(200, {**JOB, "status": "canceled"}),
        json_reply(200, {"data": [{**JOB, "job_id": "job_a"}], "has_more": True, "next_cursor": "job_a"}),
        json_reply(200, {"data": [{**JOB, "job_id": "job_b"}], "has_more": False, "next_cursor": None}),
    )

    async def scenario() -> tuple[Job, Job, list[str], Any]:
        async with AsyncClient(api_key="sk_test_x", base_url=server.url("/api"), sleep=no_wait) as client:
            created = await client.jobs.create(type="echo", input={"a": 1})
            info = client.last_response
            waited = await client.jobs.wait(created.job_id, interval_s=0.01)
            ids = [job.job_id async for job in client.jobs.list_all(expand=["data.result"])]
            return created, waited, ids, info

    created, waited, ids, info = asyncio.run(scenario())
    assert isinstance(created, Job) and created.status is JobStatus.QUEUED
    assert info is not None and info.request_id == "req_1" and info.idempotent_replayed
    assert waited.status is JobStatus.CANCELED
    assert ids == ["job_a", "job_b"]
    paths = [request.path for request in server.received()]
    assert paths[3:] == [
        "/api/v1/jobs?limit=20&expand%5B%5D=data.result",
        "/api/v1/jobs?limit=20&starting_after=job_a&expand%5B%5D=data.result",
    ]


def test_the_same_retries_and_errors(server: WebhookReceiver) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    server.respond(
        error_reply(503, "service_unavailable", **{"Retry-After": "2"}),
        json_reply(201, JOB),
        error_reply(402, "insufficient_credits"),
        error_reply(429, "rate_limited", **{"Retry-After": "1"}),
        json_reply(200, {"job_id": 1}),
    )

    async def scenario() -> None:
        async with AsyncClient(api_key="sk_test_x", base_url=server.url("/api"), sleep=record) as client:
            await client.jobs.create(type="echo")
            with pytest.raises(InsufficientCreditsError) as poor:
                await client.jobs.create(type="echo")
            assert poor.value.request_id == "req_1"
            with pytest.raises(ApiError) as refused:
                await client.api_keys.create(name="k")  # a POST without a key: not sent again
            assert refused.value.status == 429
            with pytest.raises(ResponseParseError):
                await client.jobs.get("job_1")

    asyncio.run(scenario())
    first, second = server.received()[:2]
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert waits == [2.0] and len(server.received()) == 5


def test_each_task_has_its_own_last_response(server: WebhookReceiver) -> None:
    server.respond(
        json_reply(200, JOB, **{"Request-Id": "req_a", "Idempotent-Replayed": "true"}),
        json_reply(200, JOB, **{"Request-Id": "req_b"}),
    )

    async def scenario() -> list[str | None]:
        async with AsyncClient(api_key="sk_test_x", base_url=server.url("/api"), sleep=no_wait) as client:

            async def get() -> str | None:
                await client.jobs.get("job_1")
                await asyncio.sleep(0.05)  # the other task's answer arrives meanwhile
                info = client.last_response
                return None if info is None else info.request_id

            return list(await asyncio.gather(get(), get()))

    assert sorted(id_ or "" for id_ in asyncio.run(scenario())) == ["req_a", "req_b"]


def test_a_cancelled_call_stops_and_is_not_retried(server: WebhookReceiver) -> None:
    slow = Scripted(200, {"Content-Type": "application/json"}, body=b"{}", delay_s=2.0)
    server.respond(slow, slow, slow)

    async def scenario() -> None:
        async with AsyncClient(api_key="sk_test_x", base_url=server.url("/api"), sleep=no_wait) as client:
            call = asyncio.ensure_future(client.jobs.get("job_1"))
            await asyncio.sleep(0.2)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call

    asyncio.run(scenario())
    assert len(server.received()) == 1
