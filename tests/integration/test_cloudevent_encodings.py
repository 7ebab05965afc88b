"""Functions receive real CloudEvent encodings (binary and structured) through functions-framework's app,
as in functions-framework-python's own tests; the emulator samples captured on this machine drive them."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import flask
from flask.testing import FlaskClient
from functions_framework import create_app

from shared.core.clients import firestore_client
from tests.conftest import Project
from tests.integration import probe_functions

# Copies of requests captured from the emulators on this kind of machine (tests/fixtures/emulator-samples).
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "emulator-samples"


def _client(target: str) -> FlaskClient:
    app: flask.Flask = create_app(target, probe_functions.__file__, "cloudevent")
    # create_app records FUNCTION_TARGET, the deployed runtime's marker, in this process's environment;
    # settings would then refuse PLATFORM_ENV=local for every later test (localdev/host.py does the same).
    os.environ.pop("FUNCTION_TARGET", None)
    return app.test_client()


def _sample(name: str) -> dict[str, Any]:
    return dict(json.loads((SAMPLES / name).read_text()))


def _recorded() -> list[dict[str, Any]]:
    return [d.to_dict() or {} for d in firestore_client().collection("probe_events").stream()]


def _firestore_update_event() -> tuple[dict[str, str], bytes]:
    sample = _sample("fs_v2_jobs_written_update.json")
    attributes = {k[3:]: v for k, v in sample["headers"].items() if k.startswith("ce-")}
    attributes["source"] = attributes["source"].replace("/projects/projects/", "/projects/")
    return attributes, base64.b64decode(sample["body_as_sent"])


def _check_update(record: dict[str, Any]) -> None:
    assert record["document"] == "jobs/job1"
    assert record["old_value"]["status"] == "queued"
    assert record["value"]["status"] == "running"
    assert record["value"]["nested"] == {"ok": True, "x": 1.5}
    assert record["value"]["ref"] == "users/alice"
    assert record["value"]["nul"] is None


def test_firestore_event_in_binary_mode(project: Project) -> None:
    attributes, body = _firestore_update_event()
    headers = {f"ce-{k}": v for k, v in attributes.items()}
    response = _client("probe_document_written").post(
        "/", headers={**headers, "Content-Type": "application/protobuf"}, data=body
    )
    assert response.status_code == 200, response.data
    [record] = _recorded()
    _check_update(record)


def test_firestore_event_in_structured_mode(project: Project) -> None:
    attributes, body = _firestore_update_event()
    attributes.pop("datacontenttype")
    envelope = {
        **attributes,
        "datacontenttype": "application/protobuf",
        "data_base64": base64.b64encode(body).decode(),
    }
    response = _client("probe_document_written").post(
        "/", data=json.dumps(envelope), headers={"Content-Type": "application/cloudevents+json"}
    )
    assert response.status_code == 200, response.data
    [record] = _recorded()
    _check_update(record)


def test_pubsub_push_body_becomes_message_published(project: Project) -> None:
    # Push subscriptions are created wrapped (the default): functions-framework needs the envelope.
    captured = _sample("pubsub_push_wrapped.json")
    body = captured.get("body_text") or json.dumps(captured.get("body"))
    response = _client("probe_message").post(
        f"/projects/{project.id}/topics/jobs", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.data
    [record] = _recorded()
    assert record["attributes"]["type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert json.loads(record["data"]) == {"jobId": "job1", "action": "run"}
    assert record["message_attributes"] == {"kind": "job", "origin": "test"}


def test_message_published_in_structured_mode(project: Project) -> None:
    envelope = {
        "specversion": "1.0",
        "id": "42",
        "type": "google.cloud.pubsub.topic.v1.messagePublished",
        "source": f"//pubsub.googleapis.com/projects/{project.id}/topics/jobs",
        "datacontenttype": "application/json",
        "data": {
            "message": {
                "data": base64.b64encode(b'{"x": 1}').decode(),
                "messageId": "42",
                "attributes": {"a": "b"},
                "publishTime": "2026-11-24T15:46:13.661Z",
            }
        },
    }
    response = _client("probe_message").post(
        "/", data=json.dumps(envelope), headers={"Content-Type": "application/cloudevents+json"}
    )
    assert response.status_code == 200, response.data
    [record] = _recorded()
    assert json.loads(record["data"]) == {"x": 1} and record["topic"] == "jobs"
