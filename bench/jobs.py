"""Job dispatch figures on the local platform (run: .venv/bin/python -m bench.jobs).

Side by side with the floor of the same run, a trivial function (GET /v1/health through the functions
host, no database):
1. created -> worker called: POST /v1/jobs until a no-op worker (a local HTTP server) receives the signed
   dispatch (the API's debit batch, on_job_created, Pub/Sub push to run_job, the attempt's start, the POST
   through send_to_worker). Beside it, the hop's own cost: one POST to the same worker made directly with
   the guarded sender (what run_job did before the job sender existed) and through send_to_worker (what it
   does now), interleaved in the same run.
2. created -> completed: the job's own `created_at` to `finished_at` with that no-op worker (the answer
   applied, in the same clock).
3. jobs/s per dispatching instance: run_job's work (start the attempt, sign, POST, apply the answer) called
   in-process on queued jobs, one at a time and 8 at once (run_job serves many at once per instance).
4. flow control: jobs/s through a type at max_concurrency 4 whose worker works 1 s (expect ~4/s, never
   above; the most in flight at the worker is shown), and the wait (created -> worker called) of a second
   customer's jobs behind another customer's 200-job backlog of the same type.
5. Firestore reads per job (counted at the client inside the functions host, localdev/rpc_counts.py) and
   the sweeps' idle reads per minute (a pass over an empty jobs collection, times the passes per minute).
Starts its own emulators and functions host; bounded (a few minutes).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import requests

from bench.common import bench_stack
from localdev.rpc_counts import COUNT_SWITCH

SAMPLES = 40
DISPATCHES = 80  # below the live key's in-flight cap (100): the bulk jobs wait queued
CONCURRENCY = 8
CAPPED_JOBS = 24
BACKLOG = 200
SECOND_CUSTOMER_JOBS = 20


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


# An unauthenticated route counts against the per-address limit (20/s, docs/rate-limits.md) that the bench's
# own job creations share: the floor's calls keep under it.
FLOOR_INTERVAL_S = 0.1


def _paced(call: Callable[[], object]) -> float:
    elapsed_ms = _timed(call)
    time.sleep(max(FLOOR_INTERVAL_S - elapsed_ms / 1000, 0))  # a request rate, not a wait for a server
    return elapsed_ms


def main() -> int:
    import os

    from shared.core.clients import current_project, project_scope
    from shared.jobs.service import job_ref
    from shared.models import Job
    from shared.workers.dispatch import dispatch_job
    from shared.workers.job_types import JobTypeInput, put_job_type
    from tests.support.job_workers import account_with_credits, answer
    from tests.support.jobs import due_now, held
    from tests.support.platform import create_api_key
    from tests.support.waiting import eventually
    from tests.support.webhook_receiver import WebhookReceiver

    os.environ[COUNT_SWITCH] = "1"  # the functions host started below counts its Firestore operations
    with bench_stack() as platform, WebhookReceiver(answer({})) as worker:
        api = f"{platform.stack.host_url}/{platform.project}/us-central1/api"
        for name in ("noop", "bulk"):
            put_job_type(
                name, JobTypeInput.model_validate({"worker_url": worker.url(), "pricing": {"credits": 1}})
            )
        account_with_credits("bench", 10 * (SAMPLES + DISPATCHES))
        _, key = create_api_key("bench", "live")
        headers = {"Authorization": f"Bearer {key}"}
        session = requests.Session()

        floor = [_paced(lambda: session.get(f"{api}/v1/health", timeout=10)) for _ in range(SAMPLES)]
        direct, relayed = _hop_figures(worker.url())

        called: list[float] = []
        completed: list[float] = []
        for n in range(SAMPLES):
            before = len(worker.received())
            sent = time.time()
            response = session.post(f"{api}/v1/jobs", json={"type": "noop"}, headers=headers, timeout=30)
            if response.status_code != 201:
                raise SystemExit(f"POST /v1/jobs answered {response.status_code}: {response.text}")
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

        # Held (run_at) so the functions host leaves them alone, then due: part 3 dispatches them itself.
        bulk = [
            session.post(f"{api}/v1/jobs", json=held("bulk"), headers=headers, timeout=30).json()["job_id"]
            for _ in range(DISPATCHES)
        ]
        for job_id in bulk:
            due_now(job_id)
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
        counts_url = f"{platform.stack.host_url}/_host/counts"
        flow = _flow_figures(api, counts_url)
        idle_reads_per_pass = _sweep_idle_reads()

    print("Job dispatch on the local platform (emulators, functions host; one run)")
    print(_row("floor: trivial function (GET /v1/health)", floor))
    print(_row("job created -> worker called", called))
    print(_row("one POST to the worker, direct (before)", direct))
    print(_row("one POST via send_to_worker (now)", relayed))
    print(_row("job created -> completed (no-op worker)", completed))
    print(f"  jobs/s per dispatching instance              {one_at_a_time:7.1f} one at a time")
    print(f"                                               {concurrent:7.1f} with {CONCURRENCY} at once")
    print(f"  (median floor {statistics.median(floor):.1f} ms: the host's own cost of one function call)")
    print("Flow control (same run)")
    print(
        f"  type at max_concurrency 4, 1 s work            {flow.capped_rate:7.2f} jobs/s"
        f"   (most in flight at the worker: {flow.capped_max_in_flight}; expected ~4/s, never above)"
    )
    print(_row("second customer behind a 200-job backlog", flow.second_wait_ms))
    print(f"  Firestore reads per job (no-op worker)       {flow.reads_per_job:7.1f}")
    print(
        f"  sweeps' idle reads per minute                {idle_reads_per_pass * PASSES_PER_MINUTE:7.0f}"
        f"   ({idle_reads_per_pass} per pass x {PASSES_PER_MINUTE} passes)"
    )
    return 0


def _hop_figures(worker_url: str) -> tuple[list[float], list[float]]:
    """One POST of a small signed-size body to the worker, made directly with the guarded sender and
    through send_to_worker, alternately (the same load on both)."""
    from shared.models import utc_now
    from shared.outbound.relay import relayed_post
    from shared.outbound.sender import guarded_post
    from shared.workers.dispatch import SENDER_FUNCTION, send_policy
    from shared.workers.job_types import function_url

    policy = send_policy(10)
    sender = function_url(SENDER_FUNCTION)
    body = b'{"job_id":"job_bench","input":{}}'
    direct: list[float] = []
    relayed: list[float] = []
    for _ in range(SAMPLES):
        direct.append(_timed(lambda: guarded_post(worker_url, body, {}, policy, utc_now())))
        relayed.append(_timed(lambda: relayed_post(sender, worker_url, body, {}, policy)))
    return direct, relayed


@dataclass(frozen=True)
class FlowFigures:
    capped_rate: float
    capped_max_in_flight: int
    second_wait_ms: list[float]
    reads_per_job: float


def _post_all(session: requests.Session, api: str, keys: list[str], job_type: str, count: int) -> list[str]:
    def post(n: int) -> str:
        headers = {"Authorization": f"Bearer {keys[n % len(keys)]}"}
        response = session.post(f"{api}/v1/jobs", json={"type": job_type, "input": {"n": n}}, headers=headers)
        assert response.status_code == 201, response.text
        job_id: str = response.json()["job_id"]
        return job_id

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(post, range(count)))


def _flow_figures(api: str, counts_url: str) -> FlowFigures:
    from shared.workers.job_types import JobTypeInput, put_job_type
    from tests.support.job_workers import account_with_credits, answer
    from tests.support.jobs import stored_jobs
    from tests.support.platform import create_api_key
    from tests.support.waiting import eventually
    from tests.support.webhook_receiver import WebhookReceiver

    account_with_credits("big", 10 * BACKLOG)
    account_with_credits("small", 10 * SECOND_CUSTOMER_JOBS)
    big_keys = [create_api_key("big", "live")[1] for _ in range(3)]  # 100 jobs in flight per key
    small_key = create_api_key("small", "live")[1]
    session = requests.Session()

    def settings(url: str, **more: object) -> JobTypeInput:
        return JobTypeInput.model_validate({"worker_url": url, "pricing": {"credits": 1}, **more})

    # Both types are made here, not through the API, whose catalogue of types is cached (CACHE_SECONDS):
    # jobs are posted once it offers them.
    with (
        WebhookReceiver(answer({}, delay_s=1.0)) as slow,
        WebhookReceiver(answer({}, delay_s=0.05)) as quick,
    ):
        put_job_type("capped", settings(slow.url(), max_concurrency=4))
        put_job_type("shared", settings(quick.url(), max_concurrency=4))

        def offered() -> bool:
            answer = session.get(f"{api}/v1/job_types", headers={"Authorization": f"Bearer {small_key}"})
            return answer.ok and {"capped", "shared"} <= {t["type"] for t in answer.json()["data"]}

        eventually(offered, timeout=60, message="the API offers the new types")
        ids = _post_all(session, api, big_keys, "capped", CAPPED_JOBS)

        def all_done() -> bool:
            jobs = stored_jobs("big")
            return all(jobs[j].finished_at is not None for j in ids)

        eventually(all_done, timeout=120, message="capped jobs")
        arrivals = sorted(r.at for r in slow.received())
        capped_rate = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0.0
        capped_max = slow.max_in_flight

        requests.post(counts_url, timeout=10)
        backlog = _post_all(session, api, big_keys, "shared", BACKLOG)
        waits: list[float] = []
        headers = {"Authorization": f"Bearer {small_key}"}
        for _ in range(SECOND_CUSTOMER_JOBS):
            before = len(quick.received())
            sent = time.time()
            response = session.post(f"{api}/v1/jobs", json={"type": "shared"}, headers=headers, timeout=30)
            assert response.status_code == 201, response.text
            job_id = response.json()["job_id"]

            def called(job_id: str = job_id, before: int = before) -> float | None:
                for request in quick.received()[before:]:
                    if job_id.encode() in request.body:
                        return request.at
                return None

            waits.append((eventually(called, timeout=120, message="second customer's job") - sent) * 1000)

        def backlog_done() -> bool:
            jobs = stored_jobs("big")
            return all(jobs[j].finished_at is not None for j in backlog)

        eventually(backlog_done, timeout=300, message="backlog")
        counts = requests.get(counts_url, timeout=10).json()
    reads = sum(
        v for k, v in counts.items() if k.endswith(":firestore_reads") and not k.startswith("thread ")
    )
    return FlowFigures(capped_rate, capped_max, waits, reads / (BACKLOG + SECOND_CUSTOMER_JOBS))


PASSES_PER_MINUTE = 22  # shared/jobs/sweep.py: a pass every 2.5 s for 55 s of each minute


def _sweep_idle_reads() -> int:
    """Reads of one sweep pass with nothing due (in this process, counted at the client)."""
    from localdev import rpc_counts
    from shared.jobs.sweep import sweep_jobs
    from shared.models import utc_now

    rpc_counts.install()
    sweep_jobs(now=utc_now() - timedelta(days=3650))  # nothing is due ten years ago: an idle pass
    before = rpc_counts.snapshot()
    sweep_jobs(now=utc_now() - timedelta(days=3650))
    after = rpc_counts.snapshot()
    return after.get("firestore_reads", 0) - before.get("firestore_reads", 0)


if __name__ == "__main__":
    raise SystemExit(main())
