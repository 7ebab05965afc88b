"""A job type's own dispatch lane: a topic and a push subscription to `run_job` (shared/jobs/lanes.py says
why). Made when the operator creates the type; idempotent (an existing topic or subscription is kept).

Locally the subscription pushes to the functions host, as the wiring of every function does
(localdev/wiring.py). In production it pushes to run_job's URL (`JOB_DISPATCH_PUSH_URL`) with an OIDC
token of `JOB_DISPATCH_PUSH_ACCOUNT` (the account Eventarc invokes event functions as); without them the
type shares the `jobs` topic (docs/workers.md, "Dispatch lanes").
"""

from __future__ import annotations

from typing import Any

from google.api_core.exceptions import AlreadyExists, PermissionDenied

from shared.core import logs
from shared.core.clients import current_project, publisher, topic_path
from shared.core.settings import get_settings
from shared.jobs.lanes import type_topic_name

DISPATCH_FUNCTION = "run_job"
ACK_DEADLINE_S = 600  # the longest Pub/Sub allows: a push is held for the attempt


def _push_config(topic: str) -> dict[str, Any] | None:
    settings = get_settings()
    if settings.functions_base_url:
        base = settings.functions_base_url.rstrip("/")
        return {
            "push_endpoint": f"{base}/pubsub/{DISPATCH_FUNCTION}/projects/{current_project()}/topics/{topic}"
        }
    if settings.job_dispatch_push_url and settings.job_dispatch_push_account:
        return {
            "push_endpoint": settings.job_dispatch_push_url,
            "oidc_token": {"service_account_email": settings.job_dispatch_push_account},
        }
    return None


def ensure_dispatch_lane(job_type: str) -> str | None:
    """The type's topic, with its push subscription; None when this deployment cannot make one."""
    topic = type_topic_name(job_type)
    push_config = _push_config(topic)
    if push_config is None:
        logs.warning("no dispatch lane for the job type: it shares the jobs topic", job_type=job_type)
        return None
    try:
        _create(topic, push_config)
    except PermissionDenied as exc:
        # The API's identity may not create topics (the deploy plan grants publishing only): the type works
        # on the shared topic, and the operator grants the two permissions to give it its lane.
        logs.error("cannot create the job type's dispatch lane; it shares the jobs topic", detail=str(exc))
        return None
    return topic


def _create(topic: str, push_config: dict[str, Any]) -> None:
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]

    try:
        publisher().create_topic(name=topic_path(topic))
    except AlreadyExists:
        pass
    subscriber = pubsub_v1.SubscriberClient()
    try:
        subscriber.create_subscription(
            request={
                "name": subscriber.subscription_path(current_project(), f"{topic}-push"),
                "topic": topic_path(topic),
                "push_config": push_config,
                "ack_deadline_seconds": ACK_DEADLINE_S,
            }
        )
    except AlreadyExists:
        pass
    finally:
        subscriber.close()
