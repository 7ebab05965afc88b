"""The functions host: HTTP functions, Firestore triggers and Pub/Sub push, all through the real emulators."""

from __future__ import annotations

import json
from typing import Any

import requests

# google-cloud-pubsub ships no py.typed: mypy does not see pubsub_v1 in the google.cloud namespace.
from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from shared.core.clients import firestore_client
from tests.conftest import Project
from tests.integration.probe_functions import PROBE_TOPIC
from tests.support.waiting import eventually


def probe_events(kind: str) -> list[dict[str, Any]]:
    docs = [d.to_dict() or {} for d in firestore_client().collection("probe_events").stream()]
    return [d for d in docs if str(d.get("attributes", {}).get("type", "")).endswith(kind)]


def written_events(count: int) -> list[dict[str, Any]] | None:
    events = probe_events("written")
    return events if len(events) == count else None


def test_health_answers_through_the_host(project: Project) -> None:
    response = requests.get(project.function_url("api") + "/v1/health", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["Request-Id"].startswith("req_")


def test_unknown_route_is_a_json_404(project: Project) -> None:
    response = requests.get(project.function_url("api") + "/v1/nope", timeout=10)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "route_not_found"


def test_document_create_update_delete_reach_the_trigger_decoded(project: Project) -> None:
    ref = firestore_client().collection("probes").document("p1")
    ref.set({"status": "queued", "n": 1})
    eventually(lambda: len(probe_events("written")) == 1)
    ref.update({"status": "running"})
    eventually(lambda: len(probe_events("written")) == 2)
    ref.delete()
    events = eventually(lambda: written_events(3))
    by_shape = {(e["old_value"] is None, e["value"] is None): e for e in events}
    created, updated, deleted = by_shape[(True, False)], by_shape[(False, False)], by_shape[(False, True)]
    assert created["value"] == {"status": "queued", "n": 1}
    assert updated["old_value"] == {"status": "queued", "n": 1}
    assert updated["value"] == {"status": "running", "n": 1}
    assert deleted["old_value"] == {"status": "running", "n": 1}
    for event in events:
        attributes = event["attributes"]
        assert event["document"] == "probes/p1"
        assert attributes["source"] == f"//firestore.googleapis.com/projects/{project.id}/databases/(default)"
        assert attributes["subject"] == "documents/probes/p1"


def test_published_message_reaches_the_push_function(project: Project) -> None:
    publisher = pubsub_v1.PublisherClient()
    publisher.publish(
        publisher.topic_path(project.id, PROBE_TOPIC), json.dumps({"hello": "world"}).encode(), origin="test"
    ).result(timeout=30)
    [event] = eventually(lambda: probe_events("messagePublished"))
    assert event["attributes"]["type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert (
        event["attributes"]["source"] == f"//pubsub.googleapis.com/projects/{project.id}/topics/{PROBE_TOPIC}"
    )
    assert json.loads(event["data"]) == {"hello": "world"}
    assert event["message_attributes"] == {"origin": "test"}
    assert event["topic"] == PROBE_TOPIC


def test_the_local_scheduler_runs_each_scheduled_function_once_at_start(project: Project) -> None:
    """`make dev`'s scheduler publishes a tick at start, not only after the first interval (a minute)."""
    from localdev.scheduler import LocalScheduler
    from shared.core.function_registry import FunctionKind, FunctionSpec

    every_minute = FunctionSpec(
        "probe_message", "probe", FunctionKind.PUBSUB, topic=PROBE_TOPIC, schedule="* * * * *"
    )
    scheduler = LocalScheduler(project.id, (every_minute,))
    scheduler.start()
    try:
        [event] = eventually(lambda: probe_events("messagePublished"), timeout=20)
        assert event["message_attributes"] == {"scheduled": "true"}
    finally:
        scheduler.stop()
