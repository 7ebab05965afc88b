"""The dispatchers' messages (topic `jobs`, function `run_job`): `{"job_id"}` hands a job in (it waits for
its turn: shared/jobs/flow.py), `{"job_id", "turn": true}` says its turn came and it holds a slot of its
type. One topic for every type: a type's worker that hangs holds at most its own `max_concurrency`
dispatchers, and every other message is answered at once, so the shared push subscription is never slowed
down by one type (docs/workers.md, "Flow control").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from shared.core.clients import publisher, start_publish, topic_path
from shared.core.function_registry import JOBS_TOPIC


def job_message(job_id: str, turn: bool = False) -> bytes:
    payload: dict[str, object] = {"job_id": job_id}
    if turn:
        payload["turn"] = True
    return json.dumps(payload).encode()


def start_dispatch_publish(job_id: str) -> Callable[[], str]:
    """Hand the job in now; returns the wait for the acknowledgement."""
    return start_publish(JOBS_TOPIC, job_message(job_id), job_id=job_id)


def publish_dispatches(job_ids: Iterable[str], turn: bool = False) -> None:
    """Publish several at once and wait for every acknowledgement."""
    client = publisher()
    futures = [
        client.publish(topic_path(JOBS_TOPIC), job_message(job_id, turn), job_id=job_id) for job_id in job_ids
    ]
    for future in futures:
        future.result(timeout=30)
