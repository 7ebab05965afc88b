"""Webhook delivery figures on the local platform (run: .venv/bin/python -m bench.webhooks).

1. Deliveries per second per instance: the delivery function's work called in-process, one at a time as
   a function instance with concurrency 1 runs it, and with 8 concurrent requests (spread over 16
   endpoints: isolation lets one endpoint hold few attempts in flight). New events come as
   `deliver_webhook` gets them: the message carries the event, so with a recent copy of the endpoint the
   attempt is two Firestore calls (hold a slot and claim; record and release), shared between concurrent
   attempts (docs/webhooks.md, "Firestore calls per delivery"). Then the path that reads the event first
   (retries, backlog hand-outs, the sweep), with 8 concurrent.
2. Healthy-endpoint latency while another endpoint hangs: 60 events queued for an endpoint that holds
   every request past the timeout, then events for a healthy endpoint one at a time; publish -> received,
   through Pub/Sub push and `deliver_webhook` on the functions host.
3. Job-completed-to-received latency: a job document's status is set to `completed`; the time until the
   receiver has the signed webhook, through the Firestore trigger, Pub/Sub push and `deliver_webhook`.
Starts its own emulators and functions host; bounded in time (about two minutes). Figures are printed
next to the ones quoted in issue #15 before isolation (BASELINE).
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
from typing import Any

from bench.common import bench_stack

DELIVERIES = 400
CONCURRENCY = 8
RATE_ENDPOINTS = 16
HUNG_EVENTS = 60
HEALTHY_SAMPLES = 40
LATENCY_JOBS = 25
LATENCY_TIME_LIMIT_S = 60
BASELINE = {
    "rate_8": "110/s",
    "healthy_while_hung": "> 90 s (a healthy webhook.test waited behind retries to the hung endpoint)",
}


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _run_deliveries(label: str, workers: int, calls: Sequence[Callable[[], Any]], note: str = "") -> None:
    """Run `calls` (each a delivery, as the function makes it) on `workers` threads; print rate and CPU."""
    from shared.core.shared_commits import shared_commits
    from shared.core.shared_reads import shared_reads

    commits_before, reads_before = shared_commits().commits, shared_reads().calls
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
    delivered = sum(1 for r in reports if r is not None and r.result.status_code == 200)
    commits = (shared_commits().commits - commits_before) / len(calls)
    reads = (shared_reads().calls - reads_before) / len(calls)
    print(
        f"deliveries per second per instance ({label}): {delivered / elapsed:7.1f}"
        f"   ({delivered}/{len(calls)} delivered in {elapsed:.2f} s){note}"
    )
    print(
        f"  instance CPU per delivery: {cpu_ms:.2f} ms -> at most {1000 / cpu_ms:.0f} deliveries/s per vCPU once"
        f" Firestore is not on the same cores; per delivery {commits:.2f} commits (2 unshared)"
        f" and {reads:.2f} reads of event and endpoint (1 unshared, 0 with the message's copy)"
    )


def bench_delivery_rate(users: list[str]) -> None:
    """New events, as `deliver_webhook` gets them (the message carries the event), then the path that reads
    the event (retries, backlog hand-outs, the sweep: `deliver_webhook_slow`)."""
    from shared.webhooks.backlog import Lane
    from shared.webhooks.delivery import DEFAULT_TIMEOUT_S, deliver_event, handle_deliver_webhook
    from shared.webhooks.sender import SendPolicy
    from tests.support.published_events import published_message, published_of
    from tests.support.webhooks import make_event

    policy = SendPolicy(timeout_s=DEFAULT_TIMEOUT_S, allow_loopback=True, require_https=False)
    for label, workers in (("1 at a time", 1), (f"{CONCURRENCY} concurrent", CONCURRENCY)):
        # The events wait in the subscription (created first): the instance is behind, which is when its
        # rate matters, and a copy of each endpoint read since the events were written can be used.
        events = [(make_event(users[i % len(users)]), users[i % len(users)]) for i in range(DELIVERIES)]
        # The message `create_event` publishes for a new event: its id, its user and the event as written.
        messages = [published_message(e, user, published_of(e)) for e, user in events]
        new_events = [functools.partial(handle_deliver_webhook, m) for m in messages]
        goal = f"   [before: {BASELINE['rate_8']}; goal >= 300]" if workers > 1 else ""
        _run_deliveries(f"new events, {label}", workers, new_events, goal)
    events = [(make_event(users[i % len(users)]), users[i % len(users)]) for i in range(DELIVERIES)]
    reads = [functools.partial(deliver_event, e, policy, Lane.SLOW, u) for e, u in events]
    _run_deliveries(f"read path: retries and hand-outs, {CONCURRENCY} concurrent", CONCURRENCY, reads)


def _wait_for(receiver: object, event_id: str, deadline: float) -> float | None:
    while time.monotonic() < deadline:
        for request in receiver.received():  # type: ignore[attr-defined]
            if request.headers.get("webhook-id") == event_id:
                return float(request.at)
        time.sleep(0.005)
    return None


def bench_isolation(hung_user: str, healthy_user: str, healthy: object) -> None:
    from tests.support.webhooks import make_event

    for _ in range(HUNG_EVENTS):
        make_event(hung_user, publish=True)
    latencies: list[float] = []
    deadline = time.monotonic() + LATENCY_TIME_LIMIT_S
    for _ in range(HEALTHY_SAMPLES):
        started = time.time()
        arrived = _wait_for(healthy, make_event(healthy_user, publish=True), deadline)
        if arrived is None:
            print("isolation: time limit reached", file=sys.stderr)
            break
        latencies.append(arrived - started)
    if latencies:
        ms = [x * 1000 for x in latencies]
        print(
            f"healthy endpoint while another hangs ({HUNG_EVENTS} events queued for it, {len(ms)} samples): "
            f"p50 {statistics.median(ms):.0f} ms, p99 {_percentile(ms, 0.99):.0f} ms, max {max(ms):.0f} ms"
            f"   [before: {BASELINE['healthy_while_hung']}; goal p99 < 1 s]"
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


def main() -> None:
    from tests.support.webhook_receiver import Scripted, WebhookReceiver
    from tests.support.webhooks import setup_endpoint

    with (
        bench_stack() as platform,
        WebhookReceiver() as receiver,
        WebhookReceiver() as healthy,
        WebhookReceiver(default=Scripted(delay_s=120)) as hanging,
        fast_receiver() as fast_url,
    ):
        rate_users = [f"bench_rate_{n}" for n in range(RATE_ENDPOINTS)]
        for user in rate_users:
            setup_endpoint(user, f"{fast_url}/{user}")
        setup_endpoint("bench_latency", receiver.url("/latency"))
        setup_endpoint("bench_healthy", healthy.url())
        setup_endpoint("bench_hung", hanging.url())
        print(f"local platform, {os.cpu_count()} cores; logs in {platform.log_dir}")
        bench_latency("bench_latency", receiver)
        bench_delivery_rate(rate_users)
        bench_isolation("bench_hung", "bench_healthy", healthy)


if __name__ == "__main__":
    main()
