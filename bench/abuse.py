"""bench/abuse: an anonymous flood of random API keys held to the per-address limit (issue 26).

Every fresh random key with a valid checksum is unknown to the instance, so each one used to cost a
Firestore query on `key_hash`. The flood below sends such keys from one client address as fast as
--threads callers can for --seconds, once against a host with the limiter on and once against a host with
it off (RATE_LIMITS_ENABLED=false: what the platform did before the per-address limit), and prints side by
side: requests sent, answered 401 (looked up) and 429 (refused) per second against the limit, and the
Firestore reads the host made (counted at the client: localdev/rpc_counts.py), per refused request and per
request. A second address's requests during the flood show it is untouched.

Run: .venv/bin/python -m bench.abuse [--seconds 10] [--threads 16]
"""

from __future__ import annotations

import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from bench.common import bench_stack
from bench.ratelimit import start_host
from shared.keys.format import generate_api_key
from shared.keys.limits import ANONYMOUS_RATE_LIMIT

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    with bench_stack() as platform:
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
