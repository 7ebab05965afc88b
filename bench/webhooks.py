"""Webhook delivery figures on the local platform (run: .venv/bin/python -m bench.webhooks).

1. Deliveries per second per instance: the delivery function's work (read event and endpoint, claim the
   attempt, sign, POST to a local receiver, record the attempt) called in-process, one at a time as a
   function instance with concurrency 1 runs it, and with 8 concurrent requests.
2. Job-completed-to-received latency: a job document's status is set to `completed`; the time until the
   receiver has the signed webhook, through the Firestore trigger, Pub/Sub push and `deliver_webhook`.
Starts its own emulators and functions host; bounded in time (about a minute).
The first latency sample includes the functions host's first import of the delivery code (cold start).
"""

from __future__ import annotations

import contextvars
import io
import os
import secrets
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stdout

from bench.common import bench_stack

DELIVERIES = 200
CONCURRENCY = 8
LATENCY_JOBS = 25
LATENCY_TIME_LIMIT_S = 60


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bench_delivery_rate(user_id: str) -> None:
    from shared.webhooks.delivery import DEFAULT_TIMEOUT_S, deliver_event
    from shared.webhooks.sender import SendPolicy
    from tests.support.webhooks import make_event

    policy = SendPolicy(timeout_s=DEFAULT_TIMEOUT_S, allow_loopback=True, require_https=False)
    for label, workers in (("1 at a time", 1), (f"{CONCURRENCY} concurrent", CONCURRENCY)):
        event_ids = [make_event(user_id) for _ in range(DELIVERIES)]
        started = time.perf_counter()
        # Each task carries a copy of this thread's context (the project scope) into its worker thread.
        tasks = [(contextvars.copy_context(), event_id) for event_id in event_ids]
        # The per-attempt log lines go to stdout; keep them out of the figures.
        with redirect_stdout(io.StringIO()), ThreadPoolExecutor(max_workers=workers) as pool:
            reports = list(pool.map(lambda task: task[0].run(deliver_event, task[1], policy), tasks))
        elapsed = time.perf_counter() - started
        delivered = sum(1 for r in reports if r is not None and r.result.status_code == 200)
        print(
            f"deliveries per second per instance ({label}): {delivered / elapsed:7.1f}"
            f"   ({delivered}/{DELIVERIES} delivered in {elapsed:.2f} s)"
        )


def bench_latency(user_id: str, receiver: object) -> None:
    import json

    from shared.core.clients import firestore_client
    from shared.models import Job, JobStatus, utc_now

    jobs = firestore_client().collection(Job.collection)
    latencies: list[float] = []
    deadline = time.monotonic() + LATENCY_TIME_LIMIT_S
    for _ in range(LATENCY_JOBS):
        job_id = "job_" + secrets.token_hex(8)
        job = Job(user_id=user_id, key_id="key_bench", type="echo", livemode=True, created_at=utc_now())
        jobs.document(job_id).set(job.to_firestore())
        started = time.time()
        jobs.document(job_id).update(
            {"status": JobStatus.COMPLETED.value, "result": {}, "finished_at": utc_now()}
        )
        while time.monotonic() < deadline:
            arrived = [
                r.at
                for r in receiver.received()  # type: ignore[attr-defined]
                if json.loads(r.body)["data"]["object"].get("job_id") == job_id
            ]
            if arrived:
                latencies.append(arrived[0] - started)
                break
            time.sleep(0.005)
        else:
            print("latency: time limit reached", file=sys.stderr)
            break
    if latencies:
        ms = [x * 1000 for x in latencies]
        print(
            f"job completed -> webhook received ({len(ms)} jobs, one at a time): "
            f"p50 {statistics.median(ms):.0f} ms, p90 {_percentile(ms, 0.9):.0f} ms, max {max(ms):.0f} ms"
        )


def main() -> None:
    from tests.support.webhook_receiver import WebhookReceiver
    from tests.support.webhooks import setup_endpoint

    with bench_stack() as platform, WebhookReceiver() as receiver:
        setup_endpoint("bench_rate", receiver.url("/rate"))
        setup_endpoint("bench_latency", receiver.url("/latency"))
        print(f"local platform, {os.cpu_count()} cores; logs in {platform.log_dir}")
        bench_delivery_rate("bench_rate")
        bench_latency("bench_latency", receiver)


if __name__ == "__main__":
    main()
