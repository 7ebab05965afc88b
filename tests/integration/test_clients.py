"""The customers' clients against the real local platform (functions host, emulators, redis): the Python
client here, the TypeScript one under Node (clients/typescript/test/integration.ts, driven from here). Each
creates a key, runs a job to completion, pages through 250 jobs (expanded too, at the page size the server
allows), lists job types, meets a 402, a 409 cancel and a 429 as typed errors, retries a POST through a proxy
that drops its answer without making a second job, and verifies a delivered webhook; the Python AsyncClient
does the same things awaited; a second customer's jobs are present and never seen. The READMEs' quickstarts run
as written with only CREDITS_API_KEY and CREDITS_BASE_URL set."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from credits_client import (
    AsyncClient,
    Client,
    InsufficientCreditsError,
    InvalidRequestError,
    RateLimitedError,
)
from credits_client.models import JobListItemInput, JobListItemResult, JobStatus

from shared.core.clients import firestore_client
from shared.models import Job, utc_now
from shared.models import JobStatus as StoredStatus
from tests.conftest import Project
from tests.support.dropping_proxy import DroppingProxy
from tests.support.jobs import stored_jobs
from tests.support.platform import ApiClient, create_account, create_api_key
from tests.support.waiting import eventually
from tests.support.webhook_receiver import WebhookReceiver

TYPESCRIPT = Path(__file__).resolve().parents[2] / "clients" / "typescript"
PAGED_JOBS = 250


def seed_jobs(user_id: str, key_id: str, count: int, livemode: bool = False) -> set[str]:
    """Finished jobs written straight to Firestore (as the API would have stored them), newest last."""
    ids: set[str] = set()
    start = utc_now() - timedelta(hours=1)
    batch = firestore_client().batch()
    for n in range(count):
        job_id = "job_" + secrets.token_hex(12)
        job = Job(
            user_id=user_id,
            key_id=key_id,
            type="echo",
            status=StoredStatus.COMPLETED,
            input={"n": n},
            result={"n": n},
            livemode=livemode,
            created_at=start + timedelta(seconds=n),
        )
        batch.set(firestore_client().collection(Job.collection).document(job_id), job.to_firestore())
        ids.add(job_id)
    batch.commit()
    return ids


def platform(project: Project, api: ApiClient) -> dict[str, Any]:
    """Two customers: alice (credits, 250 test-mode jobs) and bob (no credits, a few jobs of his own)."""
    create_account("alice", credits=10)
    create_account("bob", credits=0)
    test_key_id, test_key = create_api_key("alice", "test")
    bob_key_id, bob_key = create_api_key("bob", "live")
    seed_jobs("bob", bob_key_id, 5, livemode=True)
    return {
        "base_url": project.function_url("api"),
        "id_token": api.user_token("alice"),
        "paged_key": test_key,
        "paged_ids": seed_jobs("alice", test_key_id, PAGED_JOBS),
        "poor_key": bob_key,
    }


def jobs_path(project: Project) -> str:
    return f"POST /{project.id}/us-central1/api/v1/jobs"


def test_python_client(project: Project, api: ApiClient, receiver: WebhookReceiver) -> None:
    setup = platform(project, api)
    base_url = setup["base_url"]
    signed_in = Client(id_token=setup["id_token"], base_url=base_url)

    # A key, created as its owner would.
    new_key = signed_in.api_keys.create(name="sdk", environment="live")
    assert new_key.key.startswith("sk_live_")
    client = Client(api_key=new_key.key, base_url=base_url)

    # A job, run to completion; the response's RateLimit fields.
    created = client.jobs.create(type="echo", input={"hello": "world"})
    assert created.status is JobStatus.QUEUED
    info = client.last_response
    assert info is not None and info.status == 201 and info.request_id and info.request_id.startswith("req_")
    assert info.rate_limit is not None and info.rate_limit.name == "key" and info.rate_limit.limit == 100
    done = client.jobs.wait(created.job_id)
    assert done.status is JobStatus.COMPLETED and done.result is not None and done.result["hello"] == "world"

    # 250 jobs, page after page; bob's are not among them.
    paged = Client(api_key=setup["paged_key"], base_url=base_url)
    listed = [job.job_id for job in paged.jobs.list_all()]
    assert len(listed) == PAGED_JOBS and set(listed) == setup["paged_ids"]
    assert [job.job_id for job in paged.jobs.list_all(page_size=7)] == listed  # newest first, same order
    expanded = list(paged.jobs.list_all(expand=["data.result", "data.input"]))
    assert [job.job_id for job in expanded] == listed
    pairs = [
        (job.result["n"], job.input_["n"])
        for job in expanded
        if isinstance(job.result, JobListItemResult) and isinstance(job.input_, JobListItemInput)
    ]
    assert len(pairs) == PAGED_JOBS and all(result == given for result, given in pairs)

    # The caller's grants (each with what is left of it) and the signed-in user's auto top-up, off at first.
    assert all(grant.remaining <= grant.amount for grant in client.credit_grants.list_all())
    assert signed_in.auto_top_up.get().enabled is False

    # The job types this account may create; a finished job cannot be canceled (409, its state named).
    assert "echo" in {listing.type_ for listing in client.job_types.list_all()}
    with pytest.raises(InvalidRequestError) as finished:
        client.jobs.cancel(done.job_id)
    assert finished.value.status == 409 and finished.value.request_id

    # 402 as a typed error.
    with pytest.raises(InsufficientCreditsError) as poor:
        Client(api_key=setup["poor_key"], base_url=base_url).jobs.create(type="echo", input={})
    assert (poor.value.status, poor.value.code) == (402, "insufficient_credits")
    assert poor.value.request_id and poor.value.request_id.startswith("req_")

    # 429 as a typed error (no retries), and a retrying client that waits as told.
    slow_key = signed_in.api_keys.create(name="slow", environment="test", rate_limit=1).key
    impatient = Client(api_key=slow_key, base_url=base_url, max_retries=0)
    with pytest.raises(RateLimitedError) as limited:
        for _ in range(10):
            impatient.whoami()
    assert limited.value.status == 429 and limited.value.code == "rate_limited"
    assert limited.value.retry_after_s is not None and limited.value.retry_after_s >= 1
    assert limited.value.rate_limit is not None and limited.value.rate_limit.remaining == 0
    patient = Client(api_key=slow_key, base_url=base_url)
    assert patient.whoami().key_id

    # A POST whose answer is lost is sent again with the same Idempotency-Key: one job, not two.
    before = set(stored_jobs("alice"))
    with DroppingProxy(project.stack.host_url, jobs_path(project)) as proxy:
        through = Client(api_key=new_key.key, base_url=proxy.url + f"/{project.id}/us-central1/api")
        retried = through.jobs.create(type="echo", input={"retry": True})
        info = through.last_response
        assert proxy.dropped() == 1
    assert info is not None and info.attempts == 2 and info.idempotent_replayed
    assert set(stored_jobs("alice")) - before == {retried.job_id}

    # A delivered webhook, verified.
    endpoint = signed_in.webhook_endpoint.set(url=receiver.url(), events=["job.completed"])
    assert isinstance(endpoint.secret, str)
    hooked = client.jobs.create(type="echo", input={"hook": 1})
    client.jobs.wait(hooked.job_id)
    request = eventually(
        lambda: next((r for r in receiver.received() if hooked.job_id.encode() in r.body), None),
        timeout=30,
        message="job.completed delivered",
    )
    event = client.webhooks.verify(request.headers, request.body, endpoint.secret)
    assert event.type == "job.completed" and event.job is not None and event.job.job_id == hooked.job_id


def test_typescript_client_under_node(project: Project, api: ApiClient, typescript_tests: None) -> None:
    setup = platform(project, api)
    before = set(stored_jobs("alice"))
    with DroppingProxy(project.stack.host_url, jobs_path(project)) as proxy:
        env = {
            **os.environ,
            "CREDITS_BASE_URL": setup["base_url"],
            "CREDITS_PROXIED_BASE_URL": proxy.url + f"/{project.id}/us-central1/api",
            "CREDITS_ID_TOKEN": setup["id_token"],
            "CREDITS_PAGED_KEY": setup["paged_key"],
            "CREDITS_PAGED_IDS": json.dumps(sorted(setup["paged_ids"])),
            "CREDITS_POOR_KEY": setup["poor_key"],
        }
        result = subprocess.run(
            ["node", "--test", "build-test/test/integration.js"],
            cwd=TYPESCRIPT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
        assert proxy.dropped() == 1
    assert "# fail 0" in result.stdout
    # Node's jobs: the one run to completion, the finished one it failed to cancel, the one through the proxy
    # (once), the webhook's.
    made = set(stored_jobs("alice")) - before
    assert len(made) == 4, result.stdout[-3000:]


@pytest.fixture
def typescript_tests() -> None:
    """The TypeScript tests compiled (tsc) into clients/typescript/build-test."""
    compiled = subprocess.run(
        ["node_modules/.bin/tsc", "-p", "tsconfig.test.json"], cwd=TYPESCRIPT, capture_output=True, text=True
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


def readme_blocks(client: str, language: str) -> list[str]:
    readme = (TYPESCRIPT.parent / client / "README.md").read_text()
    return readme.split("## Quickstart", 1)[1].split("## What it does", 1)[0].split(f"```{language}\n")[1:]


def quickstart_env(project: Project, key: str) -> dict[str, str]:
    """Only the two variables the READMEs name (and PATH, to find the interpreter)."""
    return {
        "PATH": os.environ["PATH"],
        "CREDITS_API_KEY": key,
        "CREDITS_BASE_URL": project.function_url("api"),
    }


def test_readme_quickstarts_run_with_only_the_two_variables(project: Project) -> None:
    create_account("alice", credits=0)
    _, key = create_api_key("alice", "test")
    env = quickstart_env(project, key)
    sync_block, async_block = (block.split("```", 1)[0] for block in readme_blocks("python", "python")[:2])
    for code, expected in ((sync_block, "completed world ['job_"), (async_block, "completed ['job_")):
        ran = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
        )
        assert ran.returncode == 0, ran.stderr[-3000:]
        assert ran.stdout.startswith(expected), ran.stdout
    typescript = readme_blocks("typescript", "ts")[0].split("```", 1)[0]
    script = TYPESCRIPT / "build-test" / "quickstart.mjs"
    script.parent.mkdir(exist_ok=True)
    script.write_text(typescript.replace('from "credits-client"', 'from "../dist/index.js"'))
    ran = subprocess.run(["node", str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr[-3000:]
    first, *listed = ran.stdout.splitlines()
    assert (
        first.startswith("completed world req_") and listed and all(" completed" in line for line in listed)
    )


def test_python_async_client(project: Project, api: ApiClient, receiver: WebhookReceiver) -> None:
    setup = platform(project, api)
    base_url = setup["base_url"]

    async def scenario() -> str:
        async with AsyncClient(id_token=setup["id_token"], base_url=base_url) as signed_in:
            new_key = await signed_in.api_keys.create(name="async", environment="live")
            endpoint = await signed_in.webhook_endpoint.set(url=receiver.url(), events=["job.completed"])
        async with (
            AsyncClient(api_key=new_key.key, base_url=base_url) as client,
            AsyncClient(api_key=setup["paged_key"], base_url=base_url) as paged,
        ):
            listing = asyncio.create_task(_ids(paged))  # pages while the job runs
            created = await client.jobs.create(type="echo", input={"hello": "async"})
            assert created.status is JobStatus.QUEUED
            info = client.last_response  # this task's last call (a gathered call runs in a task of its own)
            assert info is not None and info.status == 201 and info.request_id
            done = await client.jobs.wait(created.job_id)
            assert done.status is JobStatus.COMPLETED and done.result is not None
            assert done.result["hello"] == "async"
            listed = await listing
            assert len(listed) == PAGED_JOBS and set(listed) == setup["paged_ids"]
            assert "echo" in {listing.type_ async for listing in client.job_types.list_all()}
            with pytest.raises(InsufficientCreditsError) as poor:
                await AsyncClient(api_key=setup["poor_key"], base_url=base_url).jobs.create(type="echo")
            assert poor.value.request_id and poor.value.request_id.startswith("req_")
            with DroppingProxy(project.stack.host_url, jobs_path(project)) as proxy:
                async with AsyncClient(
                    api_key=new_key.key, base_url=proxy.url + f"/{project.id}/us-central1/api"
                ) as through:
                    retried = await through.jobs.create(type="echo", input={"retry": "async"})
                    retried_info = through.last_response
                assert proxy.dropped() == 1
            assert (
                retried_info is not None and retried_info.attempts == 2 and retried_info.idempotent_replayed
            )
            request = await asyncio.to_thread(
                eventually,
                lambda: next((r for r in receiver.received() if done.job_id.encode() in r.body), None),
                timeout=30,
                message="job.completed delivered",
            )
            assert isinstance(endpoint.secret, str)
            event = client.webhooks.verify(request.headers, request.body, endpoint.secret)
            assert event.job is not None and event.job.job_id == done.job_id
            return retried.job_id

    before = set(stored_jobs("alice"))
    retried_id = asyncio.run(scenario())
    made = set(stored_jobs("alice")) - before
    assert retried_id in made and len(made) == 2  # the one run to completion, the retried one once


async def _ids(client: AsyncClient) -> list[str]:
    return [job.job_id async for job in client.jobs.list_all()]
