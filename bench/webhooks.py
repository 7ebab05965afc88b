"""Webhook delivery figures on the local platform (run: .venv/bin/python -m bench.webhooks).

1. Deliveries per instance: the delivery function's work called in-process (this process is the
   instance), one at a time and with 8 concurrent requests spread over 16 endpoints, for new events as
   `deliver_webhook` gets them and for retries and hand-outs (`deliver_webhook_slow`). For each: the rate,
   the instance CPU, the Firestore documents read, written and deleted per delivery (counted at this
   process's client, localdev/rpc_counts.py) and the $ per million deliveries (bench/cost's list prices).
   The rate is bound by the Firestore emulator sharing this machine's cores; the cost is what production
   pays.
2. Healthy-endpoint latency while another endpoint hangs: 60 events queued for an endpoint that holds
   every request past the timeout, then events for a healthy endpoint one at a time; publish -> received,
   through Pub/Sub push and `deliver_webhook` on the functions host.
3. Live webhook latency on one endpoint without and with a flood of 200 test-mode events published to the
   same endpoint at once (test traffic has its own budget per endpoint: docs/webhooks.md).
4. Job-completed-to-received latency: a job document's status is set to `completed`; the time until the
   receiver has the signed webhook, through the Firestore trigger, Pub/Sub push and `deliver_webhook`.
Starts its own emulators and functions host; bounded in time (about two minutes). Prints the figures next
to BASELINE, measured by this script before the delivery shortcuts were removed.
"""

from __future__ import annotations

import contextvars
import functools
import io
import os
import secrets
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from typing import Any

from bench.common import bench_stack

DELIVERIES = 400
CONCURRENCY = 8
RATE_ENDPOINTS = 16
HUNG_EVENTS = 60
HEALTHY_SAMPLES = 40
LATENCY_JOBS = 25
LATENCY_TIME_LIMIT_S = 60
FLOOD_EVENTS = 200
FLOOD_SAMPLES = 30
FLOOD_RECEIVER_DELAY_S = 0.1
# Measured by this script on commit 109a747, before the delivery shortcuts were removed (the event copy in
# the message, endpoint copies, shared commits and reads: issue 24); 2 cores, load average about 26.
BASELINE: dict[str, float | None] = {
    "new_8.rate": 156.16,
    "new_8.cpu_ms": 2.03,
    "new_8.reads": 0.28,
    "new_8.writes": 4.04,
    "new_8.deletes": 1.0,
    "new_8.dollars": 8.16,
    "new_1.rate": 102.61,
    "new_1.cpu_ms": 3.1,
    "new_1.reads": 0.34,
    "new_1.writes": 4.04,
    "new_1.deletes": 1.0,
    "new_1.dollars": 8.22,
    "retry_8.rate": 78.58,
    "retry_8.cpu_ms": 3.05,
    "retry_8.reads": 2.08,
    "retry_8.writes": 4.04,
    "retry_8.deletes": 1.0,
    "retry_8.dollars": 9.27,
    "hung_p99": 228.22,
}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class DeliveryFigures:
    rate: float  # deliveries per second
    cpu_ms: float  # instance CPU per delivery
    reads: float  # Firestore documents read per delivery
    writes: float  # documents written (deletes apart)
    deletes: float
    publishes: float

    def dollars_per_million(self) -> float:
        """bench/cost's method: Firestore documents and Pub/Sub at list prices, the instance CPU measured
        here, and the function's invocation fee, for a million deliveries."""
        from bench.cost import (
            FIRESTORE_DELETE_PER_100K,
            FIRESTORE_READ_PER_100K,
            FIRESTORE_WRITE_PER_100K,
            FUNCTIONS_PER_MILLION_INVOCATIONS,
            FUNCTIONS_VCPU_SECOND,
            PUBSUB_MIN_BYTES,
            PUBSUB_PER_TIB,
        )

        firestore = 10 * (
            self.reads * FIRESTORE_READ_PER_100K
            + self.writes * FIRESTORE_WRITE_PER_100K
            + self.deletes * FIRESTORE_DELETE_PER_100K
        )
        # The event's own message (published once, pushed once) and any publish the delivery makes.
        messages = 2 * (1 + self.publishes)
        pubsub = messages * PUBSUB_MIN_BYTES * 1_000_000 / 2**40 * PUBSUB_PER_TIB
        cpu = self.cpu_ms / 1000 * FUNCTIONS_VCPU_SECOND * 1_000_000
        return firestore + pubsub + cpu + FUNCTIONS_PER_MILLION_INVOCATIONS

    def line(self) -> str:
        return (
            f"{self.rate:6.1f}/s, CPU {self.cpu_ms:.2f} ms, documents read {self.reads:.2f},"
            f" written {self.writes:.2f}, deleted {self.deletes:.2f}, ${self.dollars_per_million():.2f} per M"
        )


def _run_deliveries(workers: int, calls: Sequence[Callable[[], Any]]) -> DeliveryFigures:
    """Run `calls` (each a delivery, as the function makes it) on `workers` threads; the rate, the CPU and
    the Firestore documents per delivery (counted at this process's client: localdev/rpc_counts.py)."""
    from localdev import rpc_counts

    rpc_counts.install()
    rpc_counts.reset()
    started, cpu_started = time.perf_counter(), time.process_time()
    # Each task carries a copy of this thread's context (the project scope) into its worker thread.
    tasks = [(contextvars.copy_context(), call) for call in calls]
    # The per-attempt log lines go to stdout; keep them out of the figures.
    with redirect_stdout(io.StringIO()), ThreadPoolExecutor(max_workers=workers) as pool:
        reports = list(pool.map(lambda t: t[0].run(t[1]), tasks))
    elapsed = time.perf_counter() - started
    # This process is the instance: the emulators and the receiver run in their own processes, as
    # Firestore and customers' servers run elsewhere in production.
    cpu_ms = (time.process_time() - cpu_started) * 1000 / len(calls)
    counts = rpc_counts.snapshot()
    delivered = sum(1 for r in reports if r is not None and r.result.status_code == 200)
    if delivered < len(calls):
        print(f"  ({len(calls) - delivered} of {len(calls)} not delivered at once)", file=sys.stderr)
    n = len(calls)
    return DeliveryFigures(
        rate=delivered / elapsed,
        cpu_ms=cpu_ms,
        reads=counts.get("firestore_reads", 0) / n,
        writes=counts.get("firestore_writes", 0) / n,
        deletes=counts.get("firestore_deletes", 0) / n,
        publishes=counts.get("pubsub_publishes", 0) / n,
    )


def bench_delivery_rate(users: list[str]) -> dict[str, DeliveryFigures]:
    """New events as `deliver_webhook` gets them, one at a time and 8 concurrent; then retries and
    hand-outs (`deliver_webhook_slow`), 8 concurrent."""
    from shared.core.pubsub_events import PubSubMessage
    from shared.outbound.sender import SendPolicy
    from shared.webhooks.decisions import Lane
    from shared.webhooks.delivery import DEFAULT_TIMEOUT_S, deliver_event, handle_deliver_webhook
    from shared.webhooks.events import event_message
    from tests.support.webhooks import make_event

    policy = SendPolicy(timeout_s=DEFAULT_TIMEOUT_S, allow_loopback=True, require_https=False)
    figures: dict[str, DeliveryFigures] = {}
    for key, workers in (("new_1", 1), ("new_8", CONCURRENCY)):
        # The events wait in the subscription (created first): the instance is behind.
        events = [(make_event(users[i % len(users)]), users[i % len(users)]) for i in range(DELIVERIES)]
        # The message `create_event` publishes for a new event.
        messages = [PubSubMessage(e, event_message(e, user), {"event_id": e}, None) for e, user in events]
        figures[key] = _run_deliveries(
            workers, [functools.partial(handle_deliver_webhook, m) for m in messages]
        )
    events = [(make_event(users[i % len(users)]), users[i % len(users)]) for i in range(DELIVERIES)]
    reads = [functools.partial(deliver_event, e, policy, Lane.SLOW, u) for e, u in events]
    figures["retry_8"] = _run_deliveries(CONCURRENCY, reads)
    return figures


def _wait_for(receiver: object, event_id: str, deadline: float) -> float | None:
    while time.monotonic() < deadline:
        for request in receiver.received():  # type: ignore[attr-defined]
            if request.headers.get("webhook-id") == event_id:
                return float(request.at)
        time.sleep(0.005)
    return None


def _latencies_ms(user: str, receiver: object, samples: int, what: str) -> list[float]:
    """Live events for `user`, one at a time: publish -> received, in ms (fewer at the time limit)."""
    from tests.support.webhooks import make_event

    latencies: list[float] = []
    deadline = time.monotonic() + LATENCY_TIME_LIMIT_S
    for _ in range(samples):
        started = time.time()
        arrived = _wait_for(receiver, make_event(user, publish=True), deadline)
        if arrived is None:
            print(f"{what}: time limit reached", file=sys.stderr)
            break
        latencies.append((arrived - started) * 1000)
    return latencies


def bench_isolation(hung_user: str, healthy_user: str, healthy: object) -> float | None:
    """A healthy endpoint's publish -> received p99 (ms) while another endpoint hangs with events queued."""
    from tests.support.webhooks import make_event

    for _ in range(HUNG_EVENTS):
        make_event(hung_user, publish=True)
    ms = _latencies_ms(healthy_user, healthy, HEALTHY_SAMPLES, "isolation")
    if not ms:
        return None
    print(
        f"healthy endpoint while another hangs ({HUNG_EVENTS} events queued for it, {len(ms)} samples):"
        f" p50 {statistics.median(ms):.0f} ms, p99 {_percentile(ms, 0.99):.0f} ms, max {max(ms):.0f} ms"
    )
    return _percentile(ms, 0.99)


def bench_test_flood(user: str, receiver: object) -> tuple[float | None, float | None]:
    """Live webhook p99 on one endpoint without, then with, a flood of test-mode events to the same
    endpoint (issue 26, item 8): test traffic has its own slots and backlog per endpoint."""
    from tests.support.webhooks import make_event

    def p99() -> float | None:
        ms = _latencies_ms(user, receiver, FLOOD_SAMPLES, "test flood")
        return _percentile(ms, 0.99) if len(ms) == FLOOD_SAMPLES else None

    quiet = p99()
    for _ in range(FLOOD_EVENTS):
        make_event(user, publish=True, livemode=False)
    flooded = p99()
    print(
        f"live webhook p99 on one endpoint: {quiet or 0:.0f} ms alone, {flooded or 0:.0f} ms with"
        f" {FLOOD_EVENTS} test-mode events published to the same endpoint at once (receiver answers in"
        f" {FLOOD_RECEIVER_DELAY_S * 1000:.0f} ms)"
    )
    return quiet, flooded


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
            f"p50 {statistics.median(ms):.0f} ms, p99 {_percentile(ms, 0.99):.0f} ms, max {max(ms):.0f} ms"
            " (the first sample includes the host's cold start)"
        )


def _serve_fast_receiver(port_out: Any) -> None:
    """A receiver in its own process: answering must not compete with the senders for this one's GIL."""
    from tests.support.webhook_receiver import WebhookReceiver

    with WebhookReceiver() as receiver:
        port_out.put(receiver.port)
        threading.Event().wait()


@contextmanager
def fast_receiver() -> Iterator[str]:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    port_out = context.Queue()
    process = context.Process(target=_serve_fast_receiver, args=(port_out,), daemon=True)
    process.start()
    try:
        yield f"http://127.0.0.1:{port_out.get(timeout=60)}"
    finally:
        process.terminate()
        process.join(timeout=10)


def _table(
    figures: dict[str, DeliveryFigures], hung_p99: float | None, flood: tuple[float | None, float | None]
) -> None:
    rows: list[tuple[str, str, float | None]] = []
    for key, label in (
        ("new_8", f"new events, {CONCURRENCY} concurrent"),
        ("new_1", "new events, 1 at a time"),
        ("retry_8", f"retries and hand-outs, {CONCURRENCY} concurrent"),
    ):
        f = figures[key]
        rows += [
            (f"{label}: deliveries/s", f"{key}.rate", f.rate),
            (f"{label}: instance CPU ms per delivery", f"{key}.cpu_ms", f.cpu_ms),
            (f"{label}: documents read per delivery", f"{key}.reads", f.reads),
            (f"{label}: documents written per delivery", f"{key}.writes", f.writes),
            (f"{label}: documents deleted per delivery", f"{key}.deletes", f.deletes),
            (f"{label}: $ per million deliveries", f"{key}.dollars", f.dollars_per_million()),
        ]
    rows.append(("healthy endpoint p99 ms while another hangs (goal < 1000)", "hung_p99", hung_p99))
    rows.append(("live webhook p99 ms, no test traffic", "live_p99", flood[0]))
    rows.append(
        (f"live webhook p99 ms, {FLOOD_EVENTS} test events to the same endpoint", "flood_p99", flood[1])
    )
    print(f"{'figure':72} {'before':>9} {'now':>9}")
    for label, key, value in rows:
        before = BASELINE.get(key)
        print(
            f"{label:72} {'-' if before is None else f'{before:.2f}':>9}"
            f" {'-' if value is None else f'{value:.2f}':>9}"
        )
    print("measured now, for BASELINE:", {key: None if v is None else round(v, 2) for _, key, v in rows})


def main() -> None:
    from tests.support.webhook_receiver import Scripted, WebhookReceiver
    from tests.support.webhooks import setup_endpoint

    with (
        bench_stack() as platform,
        WebhookReceiver() as receiver,
        WebhookReceiver() as healthy,
        WebhookReceiver(default=Scripted(delay_s=120)) as hanging,
        WebhookReceiver(default=Scripted(delay_s=FLOOD_RECEIVER_DELAY_S)) as flooded,
        fast_receiver() as fast_url,
    ):
        rate_users = [f"bench_rate_{n}" for n in range(RATE_ENDPOINTS)]
        for user in rate_users:
            setup_endpoint(user, f"{fast_url}/{user}")
        setup_endpoint("bench_latency", receiver.url("/latency"))
        setup_endpoint("bench_healthy", healthy.url())
        setup_endpoint("bench_hung", hanging.url())
        setup_endpoint("bench_flooded", flooded.url())
        print(f"local platform, {os.cpu_count()} cores; logs in {platform.log_dir}")
        bench_latency("bench_latency", receiver)
        figures = bench_delivery_rate(rate_users)
        hung_p99 = bench_isolation("bench_hung", "bench_healthy", healthy)
        flood = bench_test_flood("bench_flooded", flooded)
        _table(figures, hung_p99, flood)


if __name__ == "__main__":
    main()
