"""bench/auth: the cost of API key authentication.

Prints: Firestore reads per request (cold and warm); writes to one hot key's document per minute under
sustained load; authenticated requests per second with the per-instance cache versus a naive
lookup-and-write-every-request path, in the same run (goal: >= 10x); import time of the `api` module
(goal: < 300 ms, with every network connection refused during the import).

Run: .venv/bin/python -m bench.auth [--seconds 5] [--sustain 65]
"""

from __future__ import annotations

import argparse
import contextvars
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests
from google.cloud.firestore_v1.base_query import FieldFilter

from bench.common import bench_stack
from shared.core.clients import firestore_client
from shared.keys.auth import KeyCache, authenticate_api_key
from shared.keys.format import hash_api_key, parse_api_key
from shared.models import ApiKey, utc_now

THREADS = 8


def naive_authenticate(token: str) -> str:
    """What the cache replaces: one query and one write on every request."""
    parsed = parse_api_key(token)
    assert parsed is not None
    collection = firestore_client().collection(ApiKey.collection)
    [snapshot] = list(
        collection.where(filter=FieldFilter("key_hash", "==", hash_api_key(parsed.key))).limit(1).stream()
    )
    snapshot.reference.update({"last_used_at": utc_now()})
    return str(snapshot.id)


def throughput(call: Callable[[], object], seconds: float, threads: int = THREADS) -> float:
    stop = time.monotonic() + seconds
    counts = [0] * threads

    def worker(i: int) -> None:
        while time.monotonic() < stop:
            call()
            counts[i] += 1

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(contextvars.copy_context().run, worker, i) for i in range(threads)]:
            future.result()
    return sum(counts) / seconds


def import_time_ms(runs: int = 5, preload: str = "") -> tuple[float, bool]:
    """Median wall time of `import functions.api` in a fresh interpreter, every connection refused.
    `preload` is imported first (untimed): the runtime has functions_framework loaded before our module."""
    code = (
        "import socket, time\n"
        "def refuse(*a, **k): raise OSError('network at import')\n"
        "socket.socket.connect = refuse; socket.create_connection = refuse\n"
        + (f"import {preload}\n" if preload else "")
        + "t = time.perf_counter(); import functions.api; print((time.perf_counter() - t) * 1000)\n"
    )
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            return float("nan"), False
        samples.append(float(out.stdout.strip()))
    return statistics.median(samples), True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each throughput run")
    parser.add_argument("--sustain", type=float, default=65.0, help="length of the hot-key write run")
    args = parser.parse_args()

    with bench_stack() as platform:
        stack, project = platform.stack, platform.project
        from tests.support.platform import create_account, create_api_key

        create_account("bench-user")
        # The highest rate limit (docs/rate-limits.md): this measures authentication, not refusals.
        key_id, token = create_api_key("bench-user", rate_limit=1000)

        cache = KeyCache()
        authenticate_api_key(token, cache)
        cold_reads = cache.reads
        before = cache.reads
        for _ in range(1000):
            authenticate_api_key(token, cache)
        warm_reads = (cache.reads - before) / 1000
        print(
            f"reads per request: cold {cold_reads}, warm {warm_reads:.4f} (1000 requests within the window)"
        )

        cached_rps = throughput(lambda: authenticate_api_key(token, cache), args.seconds)
        _, naive_token = create_api_key("bench-user")
        naive_rps = throughput(lambda: naive_authenticate(naive_token), args.seconds)
        print(
            f"authenticated requests/s ({THREADS} threads, in process): cached {cached_rps:,.0f}, "
            f"naive lookup+write {naive_rps:,.0f}, ratio {cached_rps / naive_rps:,.1f}x (goal >= 10x)"
        )

        url = f"{stack.host_url}/{project}/us-central1/api/v1/whoami"
        session = requests.Session()
        headers = {"Authorization": f"Bearer {token}"}
        http_rps = throughput(
            lambda: session.get(url, headers=headers, timeout=10).raise_for_status(), args.seconds
        )
        print(f"GET /v1/whoami through the local functions host: {http_rps:,.0f} requests/s")

        ref = firestore_client().collection(ApiKey.collection).document(key_id)
        update_times = {ref.get().update_time}
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(0.2):
                update_times.add(ref.get().update_time)

        watcher = threading.Thread(target=contextvars.copy_context().run, args=(watch,))
        watcher.start()
        sent = throughput(lambda: session.get(url, headers=headers, timeout=10), args.sustain) * args.sustain
        stop.set()
        watcher.join()
        writes = len(update_times) - 1
        print(
            f"hot key under sustained load: {sent:,.0f} requests in {args.sustain:.0f} s, "
            f"{writes} writes to its document ({writes / (args.sustain / 60):.2f} per minute)"
        )

    median_ms, offline = import_time_ms()
    print(
        f"import time of functions.api: {median_ms:.0f} ms median of 5 (goal < 300 ms); "
        f"network refused during import: {'ok' if offline else 'FAILED'}"
    )


if __name__ == "__main__":
    main()
