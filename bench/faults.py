"""bench/faults: processes killed under load, time to recover and events lost (goal: 0).

One supervised stack (localdev/stack.py); each fault is a SIGKILL of a child's process group:
- functions host, mid-delivery: --jobs echo jobs with a webhook endpoint that holds each answer 0.5 s; the
  host is killed while deliveries are under way. Printed side by side: what triggers and retries alone
  leave behind (jobs never run, finished jobs without their event: the trigger calls the Firestore
  emulator sent while the host was down are lost) and the same after the sweeps and the reconciliation
  (goal 0), with the time from the kill to the host answering and to every event delivered;
- Redis, down 5 s: requests served during the outage (fail open), 5xx answers (goal 0), time to recover;
- localstripe, mid-purchase: time from the kill to the purchase answered, Stripe and ledger disagreeing
  (goal 0).

Run: .venv/bin/python -m bench.faults [--jobs 30]
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

import requests
import stripe
from google.cloud.firestore_v1.base_query import FieldFilter

from bench.common import BenchPlatform, bench_stack
from shared.core.clients import firestore_client
from shared.jobs.lifecycle import TERMINAL_STATUSES
from shared.jobs.sweep import sweep_jobs
from shared.models import Job, WebhookEventStatus
from shared.webhooks.events import job_event_id, sweep_due_events
from shared.webhooks.reconcile import create_missing_job_events
from tests.support.platform import ApiClient, create_account, create_api_key
from tests.support.purchases import balance, customer_of
from tests.support.stripe_events import stripe_test_client
from tests.support.stripe_flows import add_card
from tests.support.webhook_receiver import Scripted, WebhookReceiver
from tests.support.webhooks import setup_endpoint

HOST = "functions-host"
SETTLE_S = 20.0  # what the triggers and their retries alone achieve in this long
RECOVERY_LIMIT_S = 180.0


def send(api: ApiClient, method: str, path: str, token: str, key: str, **kwargs: object) -> int:
    """The request again (same Idempotency-Key) until it gets an answer without Retry-After."""
    deadline = time.monotonic() + RECOVERY_LIMIT_S
    while time.monotonic() < deadline:
        try:
            reply = api.request(method, path, token=token, headers={"Idempotency-Key": key}, **kwargs)  # type: ignore[arg-type]
        except requests.ConnectionError:
            time.sleep(0.2)  # no answer: the host is being restarted
            continue
        if "Retry-After" not in reply.headers:
            return reply.status_code
        time.sleep(min(float(reply.headers["Retry-After"]), 2.0))
    return 0


def job_outcomes(user_id: str) -> tuple[int, int]:
    """(jobs not finished, finished jobs whose event is not delivered)."""
    db = firestore_client()
    unfinished = undelivered = 0
    for snapshot in (
        db.collection(Job.collection).where(filter=FieldFilter("user_id", "==", user_id)).stream()
    ):
        job = Job.from_firestore(snapshot.to_dict())
        if job.status not in TERMINAL_STATUSES:
            unfinished += 1
            continue
        event = db.collection("webhook_events").document(job_event_id(snapshot.id, job.status)).get()
        if not event.exists or (event.to_dict() or {}).get("status") != WebhookEventStatus.DELIVERED.value:
            undelivered += 1
    return unfinished, undelivered


def host_mid_delivery(platform: BenchPlatform, api: ApiClient, jobs: int) -> None:
    supervisor = platform.supervisor
    create_account("bench-host", credits=jobs)
    _, key = create_api_key("bench-host", "live")
    with WebhookReceiver(Scripted(delay_s=0.5)) as receiver:
        setup_endpoint("bench-host", receiver.url())
        for n in range(jobs // 2):
            send(api, "POST", "/v1/jobs", key, f"job-{n}", json={"type": "echo"})
        while not receiver.received():
            time.sleep(0.05)  # polling for the first delivery to be under way
        killed = time.monotonic()
        restarts = supervisor.restarts(HOST)
        supervisor.kill(HOST)
        for n in range(jobs // 2, jobs):  # submissions go on through the restart
            send(api, "POST", "/v1/jobs", key, f"job-{n}", json={"type": "echo"})
        supervisor.wait_restarted(HOST, restarts + 1)
        answering = supervisor.last_recovery_s(HOST)
        time.sleep(SETTLE_S)  # the triggers' and retries' own chance, before any sweep
        without = job_outcomes("bench-host")
        recovered_at = None
        while time.monotonic() - killed < RECOVERY_LIMIT_S:
            sweep_jobs()
            sweep_due_events()
            create_missing_job_events(grace=timedelta(seconds=0))
            if job_outcomes("bench-host") == (0, 0):
                recovered_at = time.monotonic()
                break
            time.sleep(1.0)  # the sweeps' cadence in this bench
        with_sweeps = job_outcomes("bench-host")
    print(f"functions host killed mid-delivery ({jobs} jobs, a webhook each)")
    print(f"  host answering again after:          {answering:.1f} s")
    print("                                       triggers+retries only   + sweeps and reconciliation")
    print(f"  jobs never run:                      {without[0]:<23} {with_sweeps[0]}")
    print(f"  finished jobs, event not delivered:  {without[1]:<23} {with_sweeps[1]}   (goal 0)")
    took = f"{recovered_at - killed:.1f} s" if recovered_at else f"not within {RECOVERY_LIMIT_S:.0f} s"
    print(f"  kill -> every event delivered:       {took} (a delivery cut off mid-send waits out its lease)")


def redis_outage(platform: BenchPlatform, api: ApiClient) -> None:
    supervisor = platform.supervisor
    create_account("bench-redis", credits=0)
    _, key = create_api_key("bench-redis", "live")
    restarts = supervisor.restarts("redis")
    supervisor.kill("redis", down_s=5.0)
    statuses: list[int] = []
    while supervisor.restarts("redis") == restarts:
        statuses.append(api.request("GET", "/v1/jobs", token=key).status_code)
    after = [api.request("GET", "/v1/jobs", token=key).status_code for _ in range(20)]
    print("Redis killed, down 5 s")
    print(
        f"  requests during the outage:          {len(statuses)}, served {statuses.count(200)} (fails open)"
    )
    print(f"  5xx during and after:                {sum(s >= 500 for s in statuses + after)}   (goal 0)")
    print(f"  Redis answering again after:         {supervisor.last_recovery_s('redis'):.1f} s")


def localstripe_mid_purchase(platform: BenchPlatform, api: ApiClient) -> None:
    supervisor = platform.supervisor
    client: stripe.StripeClient = stripe_test_client(platform.stack.stripe_api_base)
    create_account("bench-buyer")
    token = api.user_token("bench-buyer")
    add_card(api, token, client)
    killed = time.monotonic()
    supervisor.kill("localstripe")
    status = send(api, "POST", "/v1/purchases", token, "buy-1", json={"package": "starter"})
    answered = time.monotonic() - killed
    customer = customer_of("bench-buyer")
    paid = [
        i
        for i in client.v1.payment_intents.list().auto_paging_iter()
        if i.customer == customer and i.status == "succeeded"
    ]
    print("localstripe killed mid-purchase")
    print(f"  localstripe answering again after:   {supervisor.last_recovery_s('localstripe') or 0:.1f} s")
    print(f"  kill -> purchase answered:           {answered:.1f} s (status {status})")
    print(
        f"  credits vs payments mismatch:        {abs(balance('bench-buyer') - 120 * len(paid))}   (goal 0)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=30)
    args = parser.parse_args()
    with bench_stack() as platform:
        from localdev.stack import STRIPE_WEBHOOK_SECRET
        from localdev.stripe_setup import register_localstripe_webhook, stripe_webhook_url

        register_localstripe_webhook(
            platform.stack.stripe_api_base,
            stripe_webhook_url(platform.stack.host_url, platform.project),
            STRIPE_WEBHOOK_SECRET,
        )
        api = ApiClient(f"{platform.stack.host_url}/{platform.project}/us-central1/api", platform.project)
        host_mid_delivery(platform, api, args.jobs)
        redis_outage(platform, api)
        localstripe_mid_purchase(platform, api)
        print(f"logs: {platform.log_dir}")


if __name__ == "__main__":
    main()
