"""`make dev` runs examples/worker (the metered `wordcount` worker) and registers it as a job type, so a new
user sees a reservation, its settlement and the release in the dashboard (docs/workers.md).

The type is written as the admin API writes it (a `job_types` document with a new `whsec_` secret) unless
it exists: a restarted `make dev` keeps the operator's changes and hands the stored secret to the worker.
It shares the `jobs` dispatch topic (the admin API would make it its own lane).
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path

from localdev.emulators import REPO_ROOT, ManagedProcess

WORKER_PORT = int(os.environ.get("DEV_WORKER_PORT", "8091"))
JOB_TYPE = "wordcount"


def register_example_type(port: int = WORKER_PORT) -> str:
    """The stored `wordcount` type's secret; the type is created first when missing."""
    from google.api_core.exceptions import AlreadyExists

    from shared.core.clients import firestore_client
    from shared.models import JobType, MeteredPricing, utc_now

    ref = firestore_client().collection(JobType.collection).document(JOB_TYPE)
    now = utc_now()
    job_type = JobType(
        worker_url=f"http://127.0.0.1:{port}/",
        description="Counts the words of input.text (examples/worker): 0.1 credits a word, at most 50.",
        pricing=MeteredPricing(credits_per_unit=0.1, max_credits=50, unit="word"),
        timeout_s=60,
        secret="whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
        created_at=now,
        updated_at=now,
    )
    try:
        ref.create(job_type.to_firestore())
    except AlreadyExists:
        pass
    return JobType.from_firestore(ref.get().to_dict()).secret


def example_worker(
    secret: str, env: dict[str, str], log_dir: Path, port: int = WORKER_PORT
) -> ManagedProcess:
    source = REPO_ROOT / "examples" / "worker" / "main.py"
    return ManagedProcess(
        "example-worker",
        [
            sys.executable,
            "-m",
            "functions_framework",
            "--source",
            str(source),
            "--target",
            "worker",
            "--port",
            str(port),
            "--host",
            "127.0.0.1",  # a local stand-in: loopback only, never every interface
        ],
        f"http://127.0.0.1:{port}/",
        env={**env, "WORKER_SECRET": secret},
        log_path=log_dir / "example-worker.log",
    )
