"""Where a job's dispatch messages go: its type's own topic when it has one, else the shared `jobs` topic.

Pub/Sub push throttles a whole subscription when its handler is slow (the emulator pushes a slow
subscription's messages about two at a time; production adapts the push rate per subscription): with one
shared topic, a type whose worker hangs would hold back every other type's jobs, whoever owns them. Each
operator type therefore gets its own topic and push subscription to `run_job` (made when the type is
created, shared/workers/lanes.py), like a Cloud Tasks queue per type.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from shared.core.clients import publisher, start_publish, topic_path
from shared.core.function_registry import JOBS_TOPIC
from shared.jobs.types import stored_job_type

TOPIC_PREFIX = "jobs-type-"


def type_topic_name(job_type: str) -> str:
    return TOPIC_PREFIX + job_type


def dispatch_topic(job_type: str) -> str:
    definition = stored_job_type(job_type)
    if definition is not None and definition.dispatch_topic is not None:
        return definition.dispatch_topic
    return JOBS_TOPIC


def job_message(job_id: str) -> bytes:
    return json.dumps({"job_id": job_id}).encode()


def start_dispatch_publish(job_id: str, job_type: str) -> Callable[[], str]:
    """Send the job's dispatch message now; returns the wait for its acknowledgement."""
    return start_publish(dispatch_topic(job_type), job_message(job_id), job_id=job_id)


def publish_dispatches(jobs: list[tuple[str, str]]) -> None:
    """Publish (job id, type) pairs at once, each to its type's topic, and wait for every acknowledgement."""
    client = publisher()
    futures = [
        client.publish(topic_path(dispatch_topic(job_type)), job_message(job_id), job_id=job_id)
        for job_id, job_type in jobs
    ]
    for future in futures:
        future.result(timeout=30)
