"""Benchmark: 1000 job documents created in bursts, as fast as the Firestore emulator takes them.

Runs its own emulators and functions host (like the tests), then prints: write rate, write failures, trigger
failures (errors in the host log), the time until the shards hold the exact total (every trigger ran) and
the time until `system/config.total_jobs` shows it (the fold delay). Bounded: gives up after TIMEOUT_S.

    .venv/bin/python -m bench.counters [--jobs 1000] [--burst 100] [--threads 32]
"""

from __future__ import annotations

import argparse
import contextvars
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import bench_stack

TIMEOUT_S = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--threads", type=int, default=32)
    args = parser.parse_args()

    with bench_stack() as platform:
        run(platform.project, args.jobs, args.burst, args.threads, platform.log_dir, platform.stack.host_url)


def run(project: str, jobs: int, burst: int, threads: int, log_dir: Path, host_url: str) -> None:
    import requests

    from shared.core.clients import firestore_client, project_scope
    from shared.counters.service import read_totals
    from shared.counters.shards import CounterTotals
    from shared.models import Job, utc_now
    from shared.system.config import config_ref

    with project_scope(project):
        db = firestore_client()
        context = contextvars.copy_context()
        failures: list[str] = []

        def create(n: int) -> None:
            job = Job(
                user_id="bench-user", key_id="key_bench", type="echo", livemode=False, created_at=utc_now()
            )
            try:
                db.collection(Job.collection).document(f"job_{n:024x}").create(job.to_firestore())
            except Exception as exc:
                failures.append(f"{type(exc).__name__}: {exc}")

        started = time.monotonic()
        wall_offset = time.time() - started  # the host reports wall-clock times
        with ThreadPoolExecutor(threads) as pool:
            for first in range(0, jobs, burst):
                list(
                    pool.map(lambda n: context.copy().run(create, n), range(first, min(first + burst, jobs)))
                )
        written = time.monotonic()

        def config_jobs() -> int:
            snapshot = config_ref(db).get()
            return CounterTotals.from_fields(snapshot.to_dict() or {}).total_jobs if snapshot.exists else 0

        shards_exact_at = config_exact_at = None
        while time.monotonic() - written < TIMEOUT_S and config_exact_at is None:
            now = time.monotonic()
            if shards_exact_at is None and read_totals(db).total_jobs >= jobs:
                shards_exact_at = now
            if config_jobs() >= jobs:
                config_exact_at = now
                shards_exact_at = shards_exact_at or now
            time.sleep(0.05)
        final_config, final_shards = config_jobs(), read_totals(db).total_jobs
        triggers = requests.get(f"{host_url}/_host/triggers", timeout=10).json()

    host_log = (log_dir / "functions-host.log").read_text(errors="replace")
    trigger_errors = host_log.count('"severity": "ERROR"')
    aborted = host_log.count("Aborted") + sum("Aborted" in f for f in failures)
    write_s = written - started

    def after_writes(moment: float | None) -> str:
        return f"{moment - written:.2f} s" if moment is not None else f"not within {TIMEOUT_S:.0f} s"

    created = jobs - len(failures)
    print(f"jobs created:                         {created} of {jobs} ({threads} threads, bursts of {burst})")
    print(f"write phase:                          {write_s:.2f} s ({jobs / write_s:.0f} creates/s)")
    print(f"write failures:                       {len(failures)}")
    print(f"trigger failures (host log errors):   {trigger_errors}")
    print(f"aborted transactions surfacing:       {aborted}")

    # Where the time goes: the emulator hands trigger calls over one at a time (the first line); the
    # host runs them on parallel workers (the second); the fold follows (the last line).
    def wall(at: float | None) -> float | None:
        return at - wall_offset if at is not None else None

    print(
        f"trigger calls the host accepted:      {triggers['accepted']} (job creations, their run_job updates)"
    )
    print(
        f"last trigger call reached the host:   {after_writes(wall(triggers['last_accepted_at']))} after the last write"
    )
    print(
        f"last trigger call finished:           {after_writes(wall(triggers['last_finished_at']))} after the last write"
    )
    print(f"shards exact (all triggers ran):      {after_writes(shards_exact_at)} after the last write")
    print(f"system/config.total_jobs exact:       {after_writes(config_exact_at)} after the last write")
    print(
        f"final total_jobs: system/config={final_config}, shards={final_shards}, expected={jobs} "
        f"-> {'EXACT' if final_config == final_shards == jobs - len(failures) else 'WRONG'}"
    )
    print(f"logs: {log_dir}")


if __name__ == "__main__":
    main()
