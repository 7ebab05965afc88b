"""Connect the emulators to the functions host for one project: Firestore triggers and Pub/Sub push."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterable

from google.api_core.exceptions import AlreadyExists, NotFound
from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from shared.core.function_registry import FUNCTIONS, FunctionKind, FunctionSpec


def _request(method: str, url: str, body: dict[str, object] | None = None) -> None:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def register_firestore_triggers(firestore_host: str, project: str, functions: Iterable[FunctionSpec]) -> None:
    """Eventarc-form registration. "database" must be present: omitting it corrupts the project."""
    for spec in functions:
        if spec.kind is not FunctionKind.FIRESTORE:
            continue
        assert spec.event_type is not None and spec.document is not None
        _request(
            "POST",
            f"http://{firestore_host}/emulator/v1/projects/{project}/eventarcTrigger?eventarcTriggerId={spec.name}",
            {
                "eventType": spec.event_type.value,
                "database": "(default)",
                "namespace": "(default)",
                "document": {"value": spec.document, "matchType": "PATH_PATTERN"},
            },
        )


def push_endpoint(host_url: str, project: str, spec: FunctionSpec) -> str:
    return f"{host_url}/pubsub/{spec.name}/projects/{project}/topics/{spec.topic}"


def create_topics_and_push_subscriptions(
    project: str,
    host_url: str,
    functions: Iterable[FunctionSpec],
    publisher: pubsub_v1.PublisherClient | None = None,
    subscriber: pubsub_v1.SubscriberClient | None = None,
) -> None:
    """Needs PUBSUB_EMULATOR_HOST set. One push subscription per function, as Eventarc creates them."""
    publisher = publisher or pubsub_v1.PublisherClient()
    subscriber = subscriber or pubsub_v1.SubscriberClient()
    for spec in functions:
        if spec.kind is not FunctionKind.PUBSUB:
            continue
        topic = publisher.topic_path(project, str(spec.topic))
        try:
            publisher.create_topic(name=topic)
        except AlreadyExists:
            pass
        subscription = subscriber.subscription_path(project, f"{spec.name}-push")
        try:
            subscriber.create_subscription(
                request={
                    "name": subscription,
                    "topic": topic,
                    "push_config": {"push_endpoint": push_endpoint(host_url, project, spec)},
                    "ack_deadline_seconds": 60,
                }
            )
        except AlreadyExists:
            pass


def wire_project(
    project: str,
    firestore_host: str,
    host_url: str,
    functions: Iterable[FunctionSpec] = FUNCTIONS,
    publisher: pubsub_v1.PublisherClient | None = None,
    subscriber: pubsub_v1.SubscriberClient | None = None,
) -> None:
    specs = list(functions)
    register_firestore_triggers(firestore_host, project, specs)
    create_topics_and_push_subscriptions(project, host_url, specs, publisher, subscriber)


def unwire_project(
    project: str,
    publisher: pubsub_v1.PublisherClient | None = None,
    subscriber: pubsub_v1.SubscriberClient | None = None,
) -> None:
    """Delete every subscription and topic of `project` on the Pub/Sub emulator (PUBSUB_EMULATOR_HOST), those
    wire_project made and those the platform made itself. The emulator keeps threads for each push
    subscription until it is deleted, so a test run that leaves them behind slows itself down."""
    publisher = publisher or pubsub_v1.PublisherClient()
    subscriber = subscriber or pubsub_v1.SubscriberClient()
    for subscription in subscriber.list_subscriptions(request={"project": f"projects/{project}"}):
        try:
            subscriber.delete_subscription(request={"subscription": subscription.name})
        except NotFound:
            pass
    for topic in publisher.list_topics(request={"project": f"projects/{project}"}):
        try:
            publisher.delete_topic(request={"topic": topic.name})
        except NotFound:
            pass


def clear_firestore(firestore_host: str, project: str) -> None:
    _request(
        "DELETE", f"http://{firestore_host}/emulator/v1/projects/{project}/databases/(default)/documents"
    )
