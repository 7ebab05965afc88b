"""bench/ratelimit: the shared rate limiter and usage metering.

Prints:
- accepted requests/s against the key's limit, one key driven past its limit through two functions-host
  processes for --seconds (goal: within 20% of the limit);
- the limiter's overhead on an authenticated request: latency and throughput of GET /v1/whoami on a host
  with the limiter on versus one started with RATE_LIMITS_ENABLED=false, same run, alternating rounds
  (goal: < 5%);
- Firestore writes per 1,000 key-authenticated requests (usage flush commits and last_used_at writes).

Run: .venv/bin/python -m bench.ratelimit [--seconds 10] [--limit 50] [--rounds 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from google.cloud.firestore_v1.base_query import FieldFilter

from bench.common import bench_stack
from localdev.emulators import ManagedProcess, free_port, functions_host
from shared.core.clients import firestore_client
from shared.keys.limits import PENDING_FLUSH_SECONDS
from shared.keys.usage import flush_usage
from shared.models import ApiKey, ProcessedEvent

THREADS_PER_HOST = 4


def start_host(log_dir: object, **env: str) -> tuple[ManagedProcess, str]:
    port = free_port()
    process = functions_host(port, {**os.environ, **env}, log_dir)  # type: ignore[arg-type]
    process.start()
    return process, f"http://127.0.0.1:{port}"


def drive(urls: list[str], key: str, seconds: float) -> dict[int, int]:
    counts: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(url: str) -> None:
        session = requests.Session()
        while time.monotonic() < deadline:
            status = session.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=10).status_code
            with lock:
                counts[status] = counts.get(status, 0) + 1

    with ThreadPoolExecutor(len(urls) * THREADS_PER_HOST) as pool:
        for future in [pool.submit(worker, url) for url in urls for _ in range(THREADS_PER_HOST)]:
            future.result()
    return counts


def latencies(url: str, key: str, count: int) -> list[float]:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {key}"}
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.get(url, headers=headers, timeout=10)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    with bench_stack() as platform:
        from tests.support.platform import create_account, create_api_key

        stack, project = platform.stack, platform.project
        path = f"/{project}/us-central1/api/v1/whoami"
        second, second_url = start_host(platform.log_dir)
        unlimited, unlimited_url = start_host(platform.log_dir, RATE_LIMITS_ENABLED="false")
        try:
            create_account("bench-user")
            _key_id, key = create_api_key("bench-user", "live", rate_limit=args.limit)

            counts = drive([stack.host_url + path, second_url + path], key, args.seconds)
            accepted = counts.get(200, 0) / args.seconds
            print(
                f"one key, limit {args.limit}/s, two host processes, {args.seconds:.0f} s: "
                f"accepted {accepted:.1f}/s ({accepted / args.limit:.0%} of the limit; "
                f"{counts.get(429, 0)} refused with 429; other statuses: "
                f"{ {s: c for s, c in counts.items() if s not in (200, 429)} })"
            )

            _fast_id, fast = create_api_key("bench-user", "live", rate_limit=1000)
            on_url, off_url = stack.host_url + path, unlimited_url + path
            latencies(on_url, fast, 20), latencies(off_url, fast, 20)  # warm both caches
            on: list[float] = []
            off: list[float] = []
            for _ in range(args.rounds):  # alternate so drift on a shared machine hits both alike
                on += latencies(on_url, fast, args.samples)
                off += latencies(off_url, fast, args.samples)
            on_ms, off_ms = statistics.median(on) * 1000, statistics.median(off) * 1000
            print(
                f"limiter overhead on GET /v1/whoami (median of {len(on)} sequential requests each): "
                f"on {on_ms:.2f} ms, off {off_ms:.2f} ms, overhead {(on_ms - off_ms) / off_ms:+.1%} (goal < 5%)"
            )

            writes_key_id, writes_key = create_api_key("bench-user", "live", rate_limit=1000)
            flush_usage()  # start from an empty usage hash
            before = _usage_flush_markers()
            _flushed_groups()  # the documents written so far are not this measurement's
            latencies(stack.host_url + path, writes_key, 500)
            latencies(second_url + path, writes_key, 500)
            time.sleep(PENDING_FLUSH_SECONDS + 1)  # leases' counts reach the store (the hosts' flushers)
            flush_usage()
            markers = _usage_flush_markers() - before
            # Each usage-flush commit: one document per (key, day) flushed, the totals and its marker.
            groups = _flushed_groups()
            touched = firestore_client().collection(ApiKey.collection).document(writes_key_id).get()
            touches = 1 if (touched.to_dict() or {}).get("last_used_at") else 0
            writes = markers * 2 + groups + touches
            counted = _usage_requests(writes_key_id)
            print(
                f"usage metered for those 1,000 requests: {counted} (exact once flushed)\n"
                f"Firestore writes per 1,000 key requests: {writes} "
                f"({markers} usage-flush commit(s) writing {groups} usage document(s) + totals + marker; "
                f"{touches} last_used_at write (at most one per key per minute)); per request: 0"
            )
        finally:
            second.stop()
            unlimited.stop()


def _usage_requests(key_id: str) -> int:
    query = firestore_client().collection("usage").where(filter=FieldFilter("key_id", "==", key_id))
    return sum(int((s.to_dict() or {}).get("requests", 0)) for s in query.stream())


def _usage_flush_markers() -> int:
    query = (
        firestore_client()
        .collection(ProcessedEvent.collection)
        .where(filter=FieldFilter("event_type", "==", "usage.flush"))
    )
    return sum(1 for _ in query.stream())


_seen_usage_updates: dict[str, object] = {}


def _flushed_groups() -> int:
    """Usage documents written since the last call (by update time)."""
    changed = 0
    for snapshot in firestore_client().collection("usage").stream():
        if _seen_usage_updates.get(snapshot.id) != snapshot.update_time:
            changed += 1
            _seen_usage_updates[snapshot.id] = snapshot.update_time
    return changed


if __name__ == "__main__":
    main()
