"""The fault suite: processes of the supervised stack are killed (SIGKILL, the whole process group) while the
platform works, and nothing is lost or applied twice (docs/reliability.md lists each fault and its promise).

Each test plays what `make dev`'s scheduler and the production schedules do (the requeue sweep, the webhook
retry sweep, the reconciliation) in its polling loop, so recovery takes seconds instead of their
intervals, and ends with the same checks: every job terminal, every `job.completed` delivered at least once
with a valid Standard Webhooks signature and recorded as delivered, counters exact, money exact, and no
request answered 5xx. A second tenant works beside the first throughout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
import requests
import stripe
from google.cloud.firestore_v1.base_query import FieldFilter

from localdev.supervisor import Supervisor
from shared.core.clients import firestore_client, project_scope
from shared.counters.reconcile import check_counters
from shared.counters.service import read_totals
from shared.jobs.lifecycle import TERMINAL_STATUSES
from shared.jobs.sweep import sweep_jobs
from shared.models import Job, JobStatus, WebhookEventStatus
from shared.webhooks.events import job_event_id, sweep_due_events
from shared.webhooks.reconcile import create_missing_job_events
from tests.conftest import Project
from tests.support.platform import ApiClient, create_account, create_api_key
from tests.support.purchases import assert_ledger_explains, balance, customer_of, ledger
from tests.support.stripe_flows import add_card
from tests.support.waiting import eventually
from tests.support.webhook_receiver import Scripted, WebhookReceiver
from tests.support.webhooks import setup_endpoint, stored_event, verify

HOST = "functions-host"
# A delivery cut off mid-send keeps its lease (send timeout + margin, ~75 s) before it is sent again.
RECOVERY_TIMEOUT_S = 150.0


class Client:
    """A client that obeys the platform: a request that got no answer (the host was down) is sent again
    with the same Idempotency-Key, as is one answered with Retry-After. Every answer is kept."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.answers: list[tuple[float, int]] = []  # (when, status)

    def send(
        self, method: str, path: str, token: str, idempotency_key: str, **kwargs: Any
    ) -> requests.Response:
        deadline = time.monotonic() + RECOVERY_TIMEOUT_S
        while True:
            try:
                response = self.api.request(
                    method, path, token=token, headers={"Idempotency-Key": idempotency_key}, **kwargs
                )
            except requests.ConnectionError:
                response = None
            if response is not None:
                self.answers.append((time.monotonic(), response.status_code))
                if "Retry-After" not in response.headers:
                    return response
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {path} did not get a final answer")
            wait = float(response.headers["Retry-After"]) if response is not None else 0.2
            time.sleep(min(wait, 2.0))  # the client's back-off, as the answer (or its absence) asks

    def errors_after(self, moment: float) -> list[int]:
        """The 5xx answers given after `moment` (a restart finished)."""
        return [status for at, status in self.answers if at >= moment and status >= 500]


def kill_and_wait(supervisor: Supervisor, name: str, down_s: float = 0.0) -> float:
    """Kill `name`, wait until the supervisor has it answering again; returns that moment."""
    restarts = supervisor.restarts(name)
    supervisor.kill(name, down_s)
    supervisor.wait_restarted(name, restarts + 1)
    return time.monotonic()


def in_project(project: Project, action: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with project_scope(project.id):
            return action()

    return run


def sweeps() -> None:
    """What the schedules do (make dev: every 15-30 s; production: every 1-5 minutes)."""
    sweep_jobs()
    sweep_due_events()
    create_missing_job_events(grace=timedelta(seconds=0))


def jobs_of(user_id: str) -> dict[str, Job]:
    query = firestore_client().collection(Job.collection).where(filter=FieldFilter("user_id", "==", user_id))
    return {s.id: Job.from_firestore(s.to_dict()) for s in query.stream()}


def all_terminal(user_id: str) -> bool:
    sweeps()
    return all(job.status in TERMINAL_STATUSES for job in jobs_of(user_id).values())


def all_delivered(user_ids: list[str]) -> bool:
    sweeps()
    for user_id in user_ids:
        for job_id, job in jobs_of(user_id).items():
            if job.status is not JobStatus.COMPLETED:
                return False
            event = (
                firestore_client()
                .collection("webhook_events")
                .document(job_event_id(job_id, job.status))
                .get()
            )
            if not event.exists or stored_event(event.id).status is not WebhookEventStatus.DELIVERED:
                return False
    return True


def assert_counters_exact() -> None:
    """The reconciliation's counters check repairs what lost triggers left behind; then the shards hold
    exactly the documents there are."""
    users = firestore_client().collection("users").count().get()[0][0].value
    jobs = firestore_client().collection("jobs").count().get()[0][0].value

    def exact() -> bool:
        check_counters(settle_s=0.5)
        totals = read_totals()
        return (totals.total_users, totals.total_jobs) == (users, jobs)

    eventually(exact, timeout=60, message="counters exact")


def assert_every_completed_job_arrived_signed(
    receiver: WebhookReceiver, path: str, secret: str, job_ids: list[str]
) -> None:
    arrived = {verify(secret, request)["id"] for request in receiver.received() if request.path == path}
    expected = {job_event_id(job_id, JobStatus.COMPLETED) for job_id in job_ids}
    assert expected <= arrived, f"never delivered: {expected - arrived}"
    # The other tenant's events never reach this endpoint.
    assert arrived <= expected


def test_host_killed_mid_delivery_and_mid_job_loses_nothing(
    project: Project, api: ApiClient, supervisor: Supervisor
) -> None:
    client = Client(api)
    # Each delivery is held 1 s at the receiver: the kill lands while some are being sent.
    with WebhookReceiver(Scripted(delay_s=1.0)) as receiver:
        tenants = {"alice": 12, "bob": 4}
        keys, secrets = {}, {}
        for user_id in tenants:
            create_account(user_id, credits=100)
            keys[user_id] = create_api_key(user_id, "live")[1]
            secrets[user_id] = setup_endpoint(user_id, receiver.url(f"/{user_id}"))

        def submit(user_id: str, n: int) -> None:
            reply = client.send(
                "POST", "/v1/jobs", keys[user_id], f"job-{n}", json={"type": "echo", "input": {"n": n}}
            )
            assert reply.status_code in (200, 201), reply.text

        with ThreadPoolExecutor(max_workers=4) as pool:
            submitted = [
                pool.submit(in_project(project, partial(submit, u, n)))
                for u, count in tenants.items()
                for n in range(count)
            ]
            eventually(lambda: receiver.received(), message="a delivery under way")
            kill_and_wait(supervisor, HOST)  # mid-delivery (and mid-job: submissions keep coming)
            for done in submitted:
                done.result()
        # More jobs after the restart, and the host killed again while they run.
        with ThreadPoolExecutor(max_workers=4) as pool:
            later = [pool.submit(in_project(project, partial(submit, "alice", n))) for n in range(100, 104)]
            restarted = kill_and_wait(supervisor, HOST)
            for done in later:
                done.result()
        tenants["alice"] += 4

        eventually(
            lambda: all_delivered(list(tenants)),
            timeout=RECOVERY_TIMEOUT_S,
            message="every job completed and its event delivered",
        )
        for user_id, count in tenants.items():
            jobs = jobs_of(user_id)
            assert len(jobs) == count  # retried submissions made no second job
            assert_every_completed_job_arrived_signed(receiver, f"/{user_id}", secrets[user_id], list(jobs))
            # Money: one debit per job, none twice, and the balance is what the ledger says.
            debits = ledger(user_id)
            assert sorted(entry["reference"] for entry in debits) == sorted(jobs)
            assert [entry["amount"] for entry in debits] == [-1] * count
            assert balance(user_id) == 100 - count == debits[-1]["balance_after"]
    assert_counters_exact()
    assert client.errors_after(restarted) == []


def test_redis_killed_requests_pass_and_limits_come_back(
    project: Project, api: ApiClient, supervisor: Supervisor
) -> None:
    client = Client(api)
    create_account("alice", credits=100)
    create_account("bob", credits=100)
    _, alice = create_api_key("alice", "live", rate_limit=3)
    _, bob = create_api_key("bob", "live")
    restarts = supervisor.restarts("redis")
    supervisor.kill("redis", down_s=5.0)
    # While Redis is down the limiter fails open: every request is served, none refused, none a 5xx.
    answers = [api.request("GET", "/v1/jobs", token=alice).status_code for _ in range(8)]
    answers.append(client.send("POST", "/v1/jobs", bob, "during-outage", json={"type": "echo"}).status_code)
    assert answers == [200] * 8 + [201]
    supervisor.wait_restarted("redis", restarts + 1)
    restarted = time.monotonic()
    # Back: the limit applies again (3 a second: a burst of 8 is refused in part).
    eventually(
        lambda: 429 in [api.request("GET", "/v1/jobs", token=alice).status_code for _ in range(8)],
        message="the limiter works again",
    )
    # The outage was logged once (with the count of requests let through), not once per request.
    host_log = supervisor.process(HOST).log_path
    assert host_log is not None
    assert 1 <= host_log.read_text(errors="replace").count('"fault": "rate_limiter_open"') <= 2
    eventually(lambda: all_terminal("bob"), timeout=60, message="bob's job ran")
    assert balance("bob") == 99 and balance("alice") == 100
    assert_counters_exact()
    assert client.errors_after(restarted) == []


@pytest.mark.usefixtures("localstripe_webhook")
def test_localstripe_killed_mid_purchase_money_is_exact(
    project: Project, api: ApiClient, client: stripe.StripeClient, supervisor: Supervisor
) -> None:
    buyer = Client(api)
    create_account("alice")
    create_account("bob")
    token = api.user_token("alice")
    add_card(api, token, client)
    before = supervisor.restarts("localstripe")
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(
            in_project(
                project,
                lambda: buyer.send("POST", "/v1/purchases", token, "buy-1", json={"package": "starter"}),
            )
        )
        supervisor.kill("localstripe")  # while the purchase is on its way to Stripe
        supervisor.wait_restarted("localstripe", before + 1)
        restarted = time.monotonic()
        bought = first.result()
    assert bought.status_code in (200, 201), bought.text
    after_restart = buyer.send("POST", "/v1/purchases", token, "buy-2", json={"package": "starter"})
    assert after_restart.status_code == 201, after_restart.text
    purchases = [bought.json(), after_restart.json()]
    assert [p["status"] for p in purchases] == ["succeeded", "succeeded"]
    # Stripe (localstripe kept its data across the restart) and the ledger agree: each payment once.
    customer = customer_of("alice")
    paid = [
        intent
        for intent in client.v1.payment_intents.list().auto_paging_iter()
        if intent.customer == customer and intent.status == "succeeded"
    ]
    assert sorted(intent.id for intent in paid) == sorted(p["payment_intent_id"] for p in purchases)
    eventually(lambda: balance("alice") == 240, message="both purchases credited")
    assert_ledger_explains("alice")
    assert balance("bob") == 0
    assert buyer.errors_after(restarted) == []


def test_host_killed_holding_credit_leases_charges_nothing_twice(
    project: Project, api: ApiClient, supervisor: Supervisor
) -> None:
    """A busy customer's burst is admitted from credit leases (docs/credits.md); the host holding them is
    killed mid-burst. After recovery every job is terminal, the dead leases are settled by the sweep exactly
    once, credits == the ledger, and the balance is what was there less what the jobs reserved."""
    from shared.credits.lease_store import sweep_leases
    from shared.credits.leases import LEASE_TTL, SWEEP_GRACE
    from shared.models import Account, utc_now

    start_credits = 10_000
    burst = 160
    create_account("busy", credits=start_credits)
    create_account("quiet", credits=100)
    keys = [create_api_key("busy", "live")[1] for _ in range(4)]  # four keys' in-flight caps
    _, quiet_key = create_api_key("quiet", "live")
    client = Client(api)

    def submit(n: int) -> str:
        reply = client.send(
            "POST", "/v1/jobs", keys[n % len(keys)], f"busy-{n}", json={"type": "echo", "input": {"n": n}}
        )
        assert reply.status_code in (200, 201), reply.text
        return str(reply.json()["job_id"])

    with ThreadPoolExecutor(max_workers=12) as pool:
        submitted = [pool.submit(in_project(project, partial(submit, n))) for n in range(burst)]
        eventually(
            lambda: sum(1 for job in jobs_of("busy").values() if job.lease_id) >= 20,
            message="jobs admitted from a lease",
        )
        restarted = kill_and_wait(supervisor, HOST)  # the leases' holder dies mid-burst
        job_ids = [done.result() for done in submitted]
    quiet = client.send("POST", "/v1/jobs", quiet_key, "quiet-1", json={"type": "echo", "input": {}})
    assert quiet.status_code in (200, 201), quiet.text

    eventually(lambda: all_terminal("busy"), timeout=RECOVERY_TIMEOUT_S, message="every job terminal")
    jobs = jobs_of("busy")
    assert sorted(jobs) == sorted(set(job_ids)), "a retried submission made a second job"

    def account(user_id: str) -> Account:
        return Account.from_firestore(
            firestore_client().collection("users").document(user_id).get().to_dict()
        )

    # The restarted host settles its own leases once idle; what is left is the dead host's, which the sweep
    # settles once their expiry and grace have passed (played here by the sweep's clock).
    def leases_settled() -> bool:
        # Every submission has returned, so no lease admits any more: the sweep may run ahead of the clock.
        sweep_leases(utc_now() + LEASE_TTL + SWEEP_GRACE)
        return not account("busy").leases

    eventually(leases_settled, timeout=60, message="every lease settled")
    assert sweep_leases(utc_now() + LEASE_TTL + SWEEP_GRACE) == 0, "a dead lease settled twice"
    busy = account("busy")
    entries = ledger("busy")
    assert busy.held == 0
    assert busy.credits == start_credits + sum(int(e["amount"]) for e in entries)
    kept = sum(job.held_credits for job in jobs.values() if not job.refunded)
    assert busy.credits == start_credits - kept, "nothing minted or lost"
    debits = [e["reference"] for e in entries if e["type"] == "job_debit"]
    assert len(debits) == len(set(debits)), "a lease or a job charged twice"
    assert account("quiet").credits == 99
    assert not client.errors_after(restarted)
