"""Benchmark: Firestore reads/writes/deletes, Pub/Sub publishes and function invocations per operation.

Counted at the client inside the functions host (PLATFORM_COUNT_RPCS=1, localdev/rpc_counts.py): every
Firestore RPC and every publish the platform's own code makes while serving the operation, triggers and
Pub/Sub handlers included. Set-up writes made by this script are not counted. Each scenario resets the
counts, runs, waits for its end state (e.g. the webhook received), then polls until the counts stop
moving (the asynchronous tail: counters, triggers). Prints one row per scenario and the list-price cost of
1 M of each.

    .venv/bin/python -m bench.cost
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from bench.common import bench_stack
from localdev.rpc_counts import COUNT_SWITCH

# List prices in USD, checked 2026-11-25 against stored copies of the price pages (sources and their status:
# docs/capacity.md, "Sources" item 19). Free tiers ignored.
# - Firestore Standard edition, nam5 multi-region (the deploy plan's default location): NOT verified for nam5
#   today (the per-location table is not in the stored page); equal to the multi-region prices of an older
#   copy of the Firestore pricing page.
# - Pub/Sub throughput: verified, $40 per TiB, at least 1,000 bytes per publish, push or pull request.
# - Cloud Run functions (gen2) are billed as Cloud Run services, Tier 1 region, CPU only during requests:
#   $0.000024 per vCPU-second verified; per GiB-second and per million requests found only in third-party
#   quotes of the Cloud Run pricing page.
PRICES_READ_ON = "2026-11-25 (stored copies of the price pages, docs/capacity.md; some unverified)"
FIRESTORE_READ_PER_100K = 0.06
FIRESTORE_WRITE_PER_100K = 0.18
FIRESTORE_DELETE_PER_100K = 0.02
PUBSUB_PER_TIB = 40.0
# Billed per request, not per message: each publish here is counted as its own request (an upper bound, the
# client may batch several into one) and each push delivers one message, so once published, once delivered.
PUBSUB_MIN_BYTES = 1000
FUNCTIONS_PER_MILLION_INVOCATIONS = 0.40
FUNCTIONS_VCPU_SECOND = 0.000024
FUNCTIONS_GIB_SECOND = 0.0000025
# Compute per invocation is an assumption, not a measurement: 50 ms of 1 vCPU and 512 MiB, shared by
# nothing (concurrency makes it cheaper).
ASSUMED_INVOCATION_S = 0.05
ASSUMED_INVOCATION_GIB = 0.5

QUIET_FOR_S = 1.5
SCENARIO_LIMIT_S = 60.0


@dataclass(frozen=True)
class Row:
    name: str
    counts: dict[str, int]

    def get(self, key: str) -> int:
        """Totals leave out the counter fold (background threads): it runs at most once per second per
        instance whatever the traffic, so it is shown apart (`fold` column), not charged per operation."""
        if ":" in key:
            return self.counts.get(key, 0)
        return self.counts.get(key, 0) - self.background(key)

    def background(self, key: str) -> int:
        # The local fold: the host's timer threads publish its ticks, the fold_counters function runs it.
        background = ("thread ", "fold_counters:")
        return sum(v for k, v in self.counts.items() if k.startswith(background) and k.endswith(":" + key))

    def minus(self, other: Row, name: str) -> Row:
        keys = set(self.counts) | set(other.counts)
        return Row(name, {k: self.counts.get(k, 0) - other.counts.get(k, 0) for k in keys})

    def cost_per_million(self) -> tuple[float, float, float]:
        firestore = (
            self.get("firestore_reads") * FIRESTORE_READ_PER_100K
            + self.get("firestore_writes") * FIRESTORE_WRITE_PER_100K
            + self.get("firestore_deletes") * FIRESTORE_DELETE_PER_100K
        ) * 10
        pubsub = self.get("pubsub_publishes") * 2 * PUBSUB_MIN_BYTES * 1_000_000 / 2**40 * PUBSUB_PER_TIB
        per_invocation = FUNCTIONS_PER_MILLION_INVOCATIONS / 1_000_000 + ASSUMED_INVOCATION_S * (
            FUNCTIONS_VCPU_SECOND + ASSUMED_INVOCATION_GIB * FUNCTIONS_GIB_SECOND
        )
        functions = self.get("invocations") * per_invocation * 1_000_000
        return firestore, pubsub, functions


class Counts:
    def __init__(self, host_url: str) -> None:
        self.url = host_url + "/_host/counts"

    def reset(self) -> None:
        requests.post(self.url, timeout=10).raise_for_status()

    def read(self) -> dict[str, int]:
        counts: dict[str, int] = requests.get(self.url, timeout=10).json()
        return counts

    def settled(self) -> dict[str, int]:
        """The counts once they stopped moving for QUIET_FOR_S (bounded by SCENARIO_LIMIT_S)."""
        deadline = time.monotonic() + SCENARIO_LIMIT_S
        last, since = self.read(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.read()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= QUIET_FOR_S:
                break
        return last


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + SCENARIO_LIMIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench/cost: {what} did not happen within {SCENARIO_LIMIT_S:.0f} s")
        time.sleep(0.02)


def measure(counts: Counts, name: str, action: Callable[[], Callable[[], bool] | None]) -> Row:
    counts.reset()
    done = action()
    if done is not None:
        wait_for(done, name)
    return Row(name, counts.settled())


def delivered_or_swept(event_id: str) -> bool:
    """Whether the event was delivered; when its retry is due, run the scheduled sweep's pass first."""
    from shared.models import WebhookEvent, WebhookEventStatus, utc_now
    from shared.webhooks.events import event_ref, sweep_due_events

    event = WebhookEvent.from_firestore(event_ref(event_id).get().to_dict())
    if event.status is WebhookEventStatus.DELIVERED:
        return True
    due = event.next_attempt_at is not None and event.next_attempt_at <= utc_now()
    if event.status is WebhookEventStatus.PENDING and event.attempts > 0 and due:
        sweep_due_events()
    return False


def run(host_url: str, project: str) -> list[Row]:
    from shared.workers.job_types import JobTypeInput, put_job_type
    from tests.support.job_workers import UNCALLED_WORKER_URL
    from tests.support.platform import ApiClient, create_account, create_api_key
    from tests.support.tokens import id_token
    from tests.support.webhook_receiver import Scripted, WebhookReceiver
    from tests.support.webhooks import make_event, setup_endpoint

    api = ApiClient(f"{host_url}/{project}/us-central1/api", project)
    counts = Counts(host_url)
    rows: list[Row] = []
    # Before the first job: the functions host reads the job types at most every 10 s.
    put_job_type(
        "bench_hold",
        JobTypeInput.model_validate({"worker_url": UNCALLED_WORKER_URL, "pricing": {"credits": 1}}),
    )

    def signup() -> None:
        reply = api.request("POST", "/v1/account", token=id_token(project, "bench_signup", email="a@b.test"))
        assert reply.status_code == 201, reply.text

    rows.append(measure(counts, "sign-up (POST /v1/account)", signup))

    # A second customer present throughout, as in the tests.
    for user in ("bench_user", "bench_other"):
        create_account(user, credits=1_000)
    counts.settled()
    _, live_key = create_api_key("bench_user", "live")
    _, test_key = create_api_key("bench_user", "test")

    def whoami() -> None:
        reply = api.request("GET", "/v1/whoami", token=live_key)
        assert reply.status_code == 200, reply.text

    rows.append(measure(counts, "authenticated request, cold key cache", whoami))
    rows.append(measure(counts, "authenticated request, warm", whoami))

    with WebhookReceiver() as receiver:
        setup_endpoint("bench_user", receiver.url("/hook"))
        counts.settled()

        def job(key: str) -> Callable[[], bool]:
            reply = api.request("POST", "/v1/jobs", token=key, json={"type": "echo", "input": {"n": 1}})
            assert reply.status_code in (200, 201, 202), reply.text
            job_id = reply.json()["job_id"]
            return lambda: any(
                json.loads(r.body)["data"]["object"].get("job_id") == job_id for r in receiver.received()
            )

        # The first delivery to an endpoint in ENDPOINT_TOUCH_INTERVAL (5 s) also refreshes the endpoint's
        # `last_triggered_at`; under steady traffic that write is shared by every delivery of those 5 s.
        rows.append(measure(counts, "live job, first to its endpoint in 5 s", lambda: job(live_key)))
        rows.append(measure(counts, "live job, created to webhook delivered", lambda: job(live_key)))
        rows.append(measure(counts, "test job, created to webhook delivered", lambda: job(test_key)))

        # A retry: one event delivered at once, one whose first attempt fails (500) and whose retry
        # succeeds; the retry's cost is the difference. The retry is scheduled in Firestore and brought
        # back by the minutely sweep; the bench runs the sweep's pass in-process once the retry is due
        # (not counted: one pass serves every due event of every customer, amortized to almost nothing).
        def event(fail_first: bool) -> Callable[[], bool]:
            if fail_first:
                receiver.respond(Scripted(status=500))
            event_id = make_event("bench_user", publish=True)
            return lambda: delivered_or_swept(event_id)

        first = measure(counts, "webhook event, delivered at the first attempt", lambda: event(False))
        failed_once = measure(counts, "webhook event, one failure then delivered", lambda: event(True))
        rows += [first, failed_once, failed_once.minus(first, "webhook retry (the difference)")]

    rows += debits(api, counts)
    rows.append(purchase(api, counts, host_url, project))
    return rows


def debits(api: object, counts: Counts) -> list[Row]:
    """A job's debit (POST /v1/jobs of a job held by its run_at: the debit and nothing after) on an
    account with 1 and with 10 active grants: still one write to the balance document (docs/credits.md)."""
    from shared.credits.granting import add_grant
    from shared.credits.ledger import derived_id
    from shared.models import CreditGrant, GrantCategory, GrantSource, LedgerEntryType, utc_now
    from tests.support.jobs import held
    from tests.support.platform import ApiClient, create_account, create_api_key

    assert isinstance(api, ApiClient)
    rows = []
    for grants in (1, 10):
        user = f"bench_grants_{grants}"
        create_account(user)
        now = utc_now()
        for n in range(grants):
            grant_id = derived_id("grt", "bench", user, str(n))
            add_grant(
                grant_id,
                CreditGrant(
                    user_id=user,
                    category=GrantCategory.PROMOTIONAL if n % 2 else GrantCategory.PAID,
                    name=f"bench {n}",
                    amount=100,
                    remaining=100,
                    priority=50 + n,
                    effective_at=now,
                    source=GrantSource.ADMIN,
                    created_at=now,
                ),
                LedgerEntryType.GRANT,
            )
        _, key = create_api_key(user, "live")
        counts.settled()

        def job(key: str = key) -> None:
            reply = api.request("POST", "/v1/jobs", token=key, json=held("bench_hold"))
            assert reply.status_code == 201, reply.text

        rows.append(measure(counts, f"job debit, {grants} active grant{'s' if grants > 1 else ''}", job))
    return rows


def purchase(api: object, counts: Counts, host_url: str, project: str) -> Row:
    """POST /v1/purchases with a saved card, until the credits are granted and Stripe's events (sent by
    localstripe to stripe_webhook) are handled. Card set-up is not counted."""
    from localdev.stack import STRIPE_WEBHOOK_SECRET
    from localdev.stripe_setup import register_localstripe_webhook, stripe_webhook_url
    from shared.core.clients import firestore_client
    from tests.support.platform import ApiClient
    from tests.support.stripe_events import stripe_test_client
    from tests.support.stripe_flows import add_card

    assert isinstance(api, ApiClient)
    stripe_api = os.environ["STRIPE_API_BASE"]
    register_localstripe_webhook(stripe_api, stripe_webhook_url(host_url, project), STRIPE_WEBHOOK_SECRET)
    token = api.user_token("bench_user")
    add_card(api, token, stripe_test_client(stripe_api))
    counts.settled()

    def credits() -> int:
        data = firestore_client().collection("users").document("bench_user").get().to_dict() or {}
        return int(data["credits"])

    before = credits()

    def buy() -> Callable[[], bool]:
        reply = api.request("POST", "/v1/purchases", token=token, json={"package": "starter"})
        assert reply.status_code == 201, reply.text
        return lambda: credits() > before

    return measure(counts, "purchase, API call to credits granted", buy)


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'operation':46} {'reads':>5} {'writes':>6} {'balance':>7} {'deletes':>7} {'publishes':>9}"
        f" {'invocations':>11} {'fold':>7}"
        f" | $ per 1 M: {'Firestore':>9} {'Pub/Sub':>7} {'Functions':>9} {'total':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        firestore, pubsub, functions = row.cost_per_million()
        print(
            f"{row.name:46} {row.get('firestore_reads'):5} {row.get('firestore_writes'):6}"
            f" {row.get('writes_to_users'):7}"
            f" {row.get('firestore_deletes'):7} {row.get('pubsub_publishes'):9} {row.get('invocations'):11}"
            f" {row.background('firestore_reads'):>3}/{row.background('firestore_writes'):<3}"
            f" | {'':11}{firestore:9.2f} {pubsub:7.2f} {functions:9.2f} {firestore + pubsub + functions:8.2f}"
        )
    print(
        f"prices: list prices read {PRICES_READ_ON}; functions compute assumed {ASSUMED_INVOCATION_S * 1000:.0f} ms"
    )
    print("by function (invocations: reads/writes/deletes/publishes):")
    for row in rows:
        names = sorted({k.split(":", 1)[0] for k in row.counts if ":firestore_" in k or ":pubsub" in k})
        detail = [
            f"{f} x{row.get('invocations:' + f)}: {row.get(f + ':firestore_reads')}/"
            f"{row.get(f + ':firestore_writes')}/{row.get(f + ':firestore_deletes')}/"
            f"{row.get(f + ':pubsub_publishes')}"
            for f in names
        ]
        print(f"  {row.name}: {'; '.join(detail)}")


def main() -> None:
    os.environ[COUNT_SWITCH] = "1"  # the functions host started below counts its operations
    with bench_stack() as platform:
        rows = run(platform.stack.host_url, platform.project)
    print_table(rows)
    print(f"logs: {platform.log_dir}")


if __name__ == "__main__":
    main()
