"""bench/abuse: an anonymous flood of random API keys held to the per-address limit (issue 26).

Every fresh random key with a valid checksum is unknown to the instance, so each one used to cost a
Firestore query on `key_hash`. The flood below sends such keys from one client address as fast as
--threads callers can for --seconds, once against a host with the limiter on and once against a host with
it off (RATE_LIMITS_ENABLED=false: what the platform did before the per-address limit), and prints side by
side: requests sent, answered 401 (looked up) and 429 (refused) per second against the limit, and the
Firestore reads the host made (counted at the client: localdev/rpc_counts.py), per refused request and per
request. A second address's requests during the flood show it is untouched.

Second part (issue 31): the memory and time of listing 100 of the largest jobs one tenant can now create
(input and result of MAX_JSON_VALUES values each, the most the caps allow), beside 100 small jobs, both
read as the list reads them now (a projection without input and result) and as whole documents (what lists
did before): tracemalloc's peak and the wall time of reading and rendering the page, in this process.

Run: .venv/bin/python -m bench.abuse [--seconds 10] [--threads 16] [--part flood|listing|all]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import requests
from google.cloud.firestore import FieldFilter

from bench.common import bench_stack
from bench.ratelimit import start_host
from shared.core.clients import firestore_client
from shared.core.firestore_values import MAX_JSON_VALUES
from shared.core.index_shards import index_shard
from shared.core.pagination import PageParams, list_page
from shared.core.principals import KeyPrincipal
from shared.jobs.resource import job_list_item
from shared.jobs.service import job_ref, jobs_query, new_job_id
from shared.keys.format import generate_api_key
from shared.keys.limits import ANONYMOUS_RATE_LIMIT
from shared.models import Job, JobStatus, KeyEnvironment, utc_now

FLOODER = "198.51.100.7"
BYSTANDER = "203.0.113.9"


def flood(url: str, seconds: float, threads: int) -> dict[int, int]:
    counts: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        session = requests.Session()
        while time.monotonic() < deadline:
            headers = {"Authorization": f"Bearer {generate_api_key('live')}", "X-Forwarded-For": FLOODER}
            status = session.get(url, headers=headers, timeout=10).status_code
            with lock:
                counts[status] = counts.get(status, 0) + 1

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(worker) for _ in range(threads)]:
            future.result()
    return counts


def reads(host_url: str) -> int:
    return int(requests.get(f"{host_url}/_host/counts", timeout=10).json().get("api:firestore_reads", 0))


def measure(host_url: str, project: str, seconds: float, threads: int) -> dict[str, float]:
    url = f"{host_url}/{project}/us-central1/api/v1/whoami"
    requests.post(f"{host_url}/_host/counts", timeout=10)  # reset
    counts = flood(url, seconds, threads)
    total_reads = reads(host_url)
    bystander = requests.get(
        url,
        headers={"Authorization": f"Bearer {generate_api_key('live')}", "X-Forwarded-For": BYSTANDER},
        timeout=10,
    )
    sent = sum(counts.values())
    refused = counts.get(429, 0)
    return {
        "sent/s": sent / seconds,
        "looked up (401)/s": counts.get(401, 0) / seconds,
        "refused (429)/s": refused / seconds,
        "other statuses": sum(c for s, c in counts.items() if s not in (401, 429)),
        "Firestore reads": total_reads,
        "reads per request": total_reads / max(sent, 1),
        # Reads beyond one per looked-up key, spread over the refused requests.
        "reads per refused request": max(0, total_reads - counts.get(401, 0)) / refused
        if refused
        else float("nan"),
        "other address answered": bystander.status_code,
    }


LISTED = 100


def largest_input() -> dict[str, Any]:
    """The most JSON values an input may hold (the object itself and MAX_JSON_VALUES - 1 in it)."""
    return {"a": [{}] * (MAX_JSON_VALUES - 2)}


def store_jobs(user_id: str, job_input: dict[str, Any], count: int) -> None:
    """`count` completed jobs of `user_id` whose input and result are `job_input` (as echo leaves them)."""
    db = firestore_client()
    now = utc_now()
    batch = db.batch()
    for number in range(count):
        job_id = new_job_id()
        job = Job(
            user_id=user_id,
            key_id="key_bench",
            type="echo",
            status=JobStatus.COMPLETED,
            input=job_input,
            result=job_input,
            livemode=True,
            index_shard=index_shard(job_id),
            created_at=now - timedelta(milliseconds=number),
            finished_at=now,
        )
        batch.set(job_ref(job_id), job.to_firestore())
        if number % 10 == 9:
            batch.commit()
            batch = db.batch()
    batch.commit()


def list_once(user_id: str, projected: bool) -> tuple[float, float]:
    """(peak MiB, seconds) of reading and rendering one page of LISTED jobs."""
    principal = KeyPrincipal(user_id=user_id, key_id="key_bench", environment=KeyEnvironment.LIVE)
    query = jobs_query(principal, None)
    if not projected:  # what lists read before: whole documents
        query = (
            firestore_client()
            .collection(Job.collection)
            .where(filter=FieldFilter("user_id", "==", user_id))
            .where(filter=FieldFilter("livemode", "==", True))
            .order_by("created_at", direction="DESCENDING")
        )
    tracemalloc.start()
    started = time.perf_counter()
    page = list_page(
        query,
        PageParams(LISTED, None),
        lambda _job_id: None,
        lambda snapshot: job_list_item(snapshot.id, Job.from_firestore(snapshot.to_dict())),
    )
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(page["data"]) == LISTED
    return peak / 2**20, elapsed


def listing() -> None:
    store_jobs("bench-small", {"n": 1}, LISTED)
    store_jobs("bench-largest", largest_input(), LISTED)
    list_once("bench-small", True)  # warms the client up
    rows = {
        "small jobs, projection (now)": list_once("bench-small", True),
        "small jobs, whole documents": list_once("bench-small", False),
        "largest jobs, projection (now)": list_once("bench-largest", True),
        "largest jobs, whole documents": list_once("bench-largest", False),
    }
    size = len(json.dumps(largest_input(), separators=(",", ":")))
    print(
        f"\nlisting {LISTED} jobs (GET /v1/jobs?limit={LISTED}'s read and render, in-process); the largest: "
        f"input and result of {MAX_JSON_VALUES} JSON values each ({size} bytes of JSON each)"
    )
    print(f"{'page':<34}{'peak MiB':>10}{'seconds':>10}")
    for name, (mib, seconds) in rows.items():
        print(f"{name:<34}{mib:>10.2f}{seconds:>10.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--part", choices=("flood", "listing", "all"), default="all")
    args = parser.parse_args()
    with bench_stack() as platform:
        if args.part != "flood":
            listing()
        if args.part == "listing":
            return
        limited, limited_url = start_host(platform.log_dir, PLATFORM_COUNT_RPCS="1")
        unlimited, unlimited_url = start_host(
            platform.log_dir, PLATFORM_COUNT_RPCS="1", RATE_LIMITS_ENABLED="false"
        )
        try:
            on = measure(limited_url, platform.project, args.seconds, args.threads)
            off = measure(unlimited_url, platform.project, args.seconds, args.threads)
        finally:
            limited.stop()
            unlimited.stop()
    print(
        f"anonymous flood of random checksum-valid keys from one address, {args.threads} callers, "
        f"{args.seconds:.0f} s each (limit: {ANONYMOUS_RATE_LIMIT}/s per address, burst {ANONYMOUS_RATE_LIMIT})"
    )
    print(f"{'figure':<28}{'limit on':>14}{'before (limit off)':>22}")
    for name in on:
        print(f"{name:<28}{on[name]:>14.2f}{off[name]:>22.2f}")


if __name__ == "__main__":
    main()
