"""Job dispatch figures on the local platform (run: .venv/bin/python -m bench.jobs).

Side by side with the floor of the same run, a trivial function (GET /v1/health through the functions
host, no database):
1. created -> worker called: POST /v1/jobs until a no-op worker (a local HTTP server) receives the signed
   dispatch (the API's debit batch, on_job_created, Pub/Sub push to run_job, the attempt's start, the POST).
2. created -> completed: the job's own `created_at` to `finished_at` with that no-op worker (the answer
   applied, in the same clock).
3. jobs/s per dispatching instance: run_job's work (start the attempt, sign, POST, apply the answer) called
   in-process on queued jobs, one at a time and 8 at once (run_job serves many at once per instance).
Starts its own emulators and functions host; bounded (about a minute).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests

from bench.common import bench_stack

SAMPLES = 40
DISPATCHES = 80  # below the live key's in-flight cap (100): the bulk jobs wait queued
CONCURRENCY = 8


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _row(label: str, values_ms: list[float]) -> str:
    return (
        f"  {label:<44} p50 {_percentile(values_ms, 0.5):7.1f} ms   p99 {_percentile(values_ms, 0.99):7.1f} ms"
        f"   (n={len(values_ms)})"
    )


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def main() -> int:
    from shared.core.clients import current_project, project_scope
    from shared.jobs.service import job_ref
    from shared.models import Job
    from shared.workers.dispatch import dispatch_job
    from shared.workers.job_types import JobTypeInput, put_job_type
    from tests.support.job_workers import account_with_credits, answer
    from tests.support.jobs import set_job_costs
    from tests.support.platform import create_api_key
    from tests.support.waiting import eventually
    from tests.support.webhook_receiver import WebhookReceiver

    with bench_stack() as platform, WebhookReceiver(answer({})) as worker:
        api = f"{platform.stack.host_url}/{platform.project}/us-central1/api"
        set_job_costs({"echo": 1, "bulk": 1})  # "bulk" is legacy (no worker) until part 3 registers it
        put_job_type(
            "noop", JobTypeInput.model_validate({"worker_url": worker.url(), "pricing": {"credits": 1}})
        )
        account_with_credits("bench", 10 * (SAMPLES + DISPATCHES))
        _, key = create_api_key("bench", "live")
        headers = {"Authorization": f"Bearer {key}"}
        session = requests.Session()

        floor = [_timed(lambda: session.get(f"{api}/v1/health", timeout=10)) for _ in range(SAMPLES)]

        called: list[float] = []
        completed: list[float] = []
        for n in range(SAMPLES):
            before = len(worker.received())
            sent = time.time()
            response = session.post(f"{api}/v1/jobs", json={"type": "noop"}, headers=headers, timeout=30)
            job_id = response.json()["job_id"]

            def arrived(before: int = before) -> bool:
                return len(worker.received()) > before

            eventually(arrived, message="worker called")
            called.append((worker.received()[before].at - sent) * 1000)

            def finished(job_id: str = job_id) -> Job | None:
                job = Job.from_firestore(job_ref(job_id).get().to_dict())
                return job if job.finished_at is not None else None

            job = eventually(finished, message=f"job {n} completed")
            assert job.finished_at is not None
            completed.append((job.finished_at - job.created_at).total_seconds() * 1000)

        bulk = [
            session.post(f"{api}/v1/jobs", json={"type": "bulk"}, headers=headers, timeout=30).json()[
                "job_id"
            ]
            for _ in range(DISPATCHES)
        ]
        put_job_type(
            "bulk", JobTypeInput.model_validate({"worker_url": worker.url(), "pricing": {"credits": 1}})
        )
        half = DISPATCHES // 2
        started = time.perf_counter()
        for job_id in bulk[:half]:
            dispatch_job(job_id)
        one_at_a_time = half / (time.perf_counter() - started)
        project = current_project()

        def dispatch_in_scope(job_id: str) -> None:
            with project_scope(project):
                dispatch_job(job_id)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            list(pool.map(dispatch_in_scope, bulk[half:]))
        concurrent = (DISPATCHES - half) / (time.perf_counter() - started)

    print("Job dispatch on the local platform (emulators, functions host; one run)")
    print(_row("floor: trivial function (GET /v1/health)", floor))
    print(_row("job created -> worker called", called))
    print(_row("job created -> completed (no-op worker)", completed))
    print(f"  jobs/s per dispatching instance              {one_at_a_time:7.1f} one at a time")
    print(f"                                               {concurrent:7.1f} with {CONCURRENCY} at once")
    print(f"  (median floor {statistics.median(floor):.1f} ms: the host's own cost of one function call)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
