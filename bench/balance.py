"""Benchmark: one busy customer's balance document, today's per-job path beside the lease path, one run.

Both phases create JOBS live echo jobs (1 credit each) for one customer from THREADS threads through the
platform's own job service in this process (no HTTP: the API's rate limits are not what is measured), while
the local stack's functions host runs the rest of the pipeline (dispatch, the echo worker, completion,
webhook-less). A second customer creates a few jobs beside it. Firestore operations are counted at the
client (localdev/rpc_counts.py) in this process, where every write to the balance document is made (job
creation, lease opening, settlement); the host's counts add the pipeline's writes.

Printed per phase: writes to users/{uid} per 1,000 jobs, the most writes to one document in any second,
lost races (preconditions lost) per balance write, the most creates in one per-user index range in any
second, creation and whole-pipeline jobs/s on this machine.

    .venv/bin/python -m bench.balance
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from bench.common import bench_stack
from localdev import rpc_counts

JOBS = int(os.environ.get("BENCH_BALANCE_JOBS", "600"))
THREADS = 16
START_CREDITS = 1_000_000
PIPELINE_LIMIT_S = 300.0


@dataclass(frozen=True)
class Phase:
    name: str
    balance_writes: int
    max_doc_writes_per_s: int
    lost_races: int
    max_range_writes_per_s: int
    create_per_s: float
    pipeline_per_s: float
    host_writes: int

    def per_thousand(self) -> float:
        return self.balance_writes * 1000 / JOBS


def _completed(user_id: str) -> int:
    from google.cloud.firestore import FieldFilter

    from shared.core.clients import firestore_client
    from shared.models import Job

    query: Any = (
        firestore_client()
        .collection(Job.collection)
        .where(filter=FieldFilter("user_id", "==", user_id))
        .where(filter=FieldFilter("status", "==", "completed"))
        .count()
    )
    return int(query.get()[0][0].value)


def run_phase(name: str, user_id: str, key_id: str, host_url: str, leases_on: bool) -> Phase:
    from shared.core.clients import current_project, firestore_client, project_scope
    from shared.core.errors import ApiError
    from shared.core.principals import KeyPrincipal
    from shared.credits.lease_book import lease_book
    from shared.jobs.service import CreateJobRequest, create_job
    from shared.models import AccountLimits, KeyEnvironment, utc_now
    from tests.support.platform import create_account

    create_account(user_id, credits=START_CREDITS)
    # The busy customer's account cap raised (as an operator would); one key per thread (each key's cap).
    firestore_client().collection(AccountLimits.collection).document(user_id).set(
        AccountLimits(jobs_in_flight=100_000, updated_at=utc_now()).to_firestore()
    )
    book = lease_book()
    book.min_rate = 20.0 if leases_on else math.inf
    principals = [
        KeyPrincipal(user_id=user_id, key_id=f"{key_id}_{n}", environment=KeyEnvironment.LIVE)
        for n in range(THREADS)
    ]
    host_counts = host_url + "/_host/counts"
    requests.post(host_counts, timeout=10).raise_for_status()
    rpc_counts.reset()

    project = current_project()

    def one(n: int) -> None:
        with project_scope(project):  # the pool's threads do not inherit the project's scope
            while True:
                try:
                    create_job(principals[n % THREADS], CreateJobRequest(type="echo", input={"n": n}), None)
                    return
                except ApiError as exc:
                    if "Retry-After" not in exc.headers:
                        raise
                    time.sleep(0.2)  # a cap or a lost race: the client retries, as the API asks

    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, range(JOBS)))
    created = time.monotonic()
    book.settle_due(everything=True)
    deadline = time.monotonic() + PIPELINE_LIMIT_S
    while _completed(user_id) < JOBS and time.monotonic() < deadline:
        time.sleep(0.2)
    finished = time.monotonic()
    book.settle_due(everything=True)
    local = rpc_counts.snapshot()
    host = requests.get(host_counts, timeout=10).json()
    balance = local.get(f"doc_writes:users/{user_id}", 0) + host.get(f"doc_writes:users/{user_id}", 0)
    return Phase(
        name=name,
        balance_writes=balance,
        max_doc_writes_per_s=max(
            local.get("max_doc_writes_per_s:users", 0), host.get("max_doc_writes_per_s:users", 0)
        ),
        lost_races=local.get("firestore_lost_races", 0) + host.get("firestore_lost_races", 0),
        max_range_writes_per_s=max(
            (v for k, v in local.items() if k.startswith("max_range_writes_per_s:")), default=0
        ),
        create_per_s=JOBS / (created - started),
        pipeline_per_s=_completed(user_id) / (finished - started),
        host_writes=int(host.get("firestore_writes", 0)),
    )


def main() -> None:
    os.environ[rpc_counts.COUNT_SWITCH] = "1"  # the functions host started below counts its operations
    rpc_counts.install()
    with bench_stack() as platform:
        from tests.support.platform import create_account

        create_account("bench_other", credits=100)
        today = run_phase("today (per job)", "bench_today", "key_today", platform.stack.host_url, False)
        leased = run_phase("lease path", "bench_leased", "key_leased", platform.stack.host_url, True)
    print(f"bench/balance: {JOBS} live jobs of one customer, {THREADS} threads, one run (baseline first)")
    header = f"{'':34}{today.name:>18}{leased.name:>18}"
    print(header)
    rows = [
        ("users/{uid} writes per 1,000 jobs", f"{today.per_thousand():.1f}", f"{leased.per_thousand():.1f}"),
        ("most writes to one doc in 1 s", today.max_doc_writes_per_s, leased.max_doc_writes_per_s),
        (
            "lost races per balance write",
            f"{today.lost_races / max(today.balance_writes, 1):.2f}",
            f"{leased.lost_races / max(leased.balance_writes, 1):.2f}",
        ),
        ("most creates per index range in 1 s", today.max_range_writes_per_s, leased.max_range_writes_per_s),
        ("jobs created per second", f"{today.create_per_s:.0f}", f"{leased.create_per_s:.0f}"),
        (
            "jobs completed per second (pipeline)",
            f"{today.pipeline_per_s:.0f}",
            f"{leased.pipeline_per_s:.0f}",
        ),
    ]
    for label, before, after in rows:
        print(f"{label:34}{before!s:>18}{after!s:>18}")
    ratio = today.balance_writes / max(leased.balance_writes, 1)
    print(f"balance writes: {ratio:.0f}x fewer with leases (goal: <= 10 per 1,000 jobs, at least 100x)")
    print(f"logs: {platform.log_dir}")


if __name__ == "__main__":
    main()
