"""The example worker against real signed requests (signed as the platform signs them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import flask
import pytest
from standardwebhooks.webhooks import Webhook

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[flask.testing.FlaskClient]:
    monkeypatch.setenv("WORKER_SECRET", SECRET)
    from examples.worker.main import worker

    app = flask.Flask(__name__)
    app.add_url_rule("/", "worker", lambda: worker(flask.request), methods=["POST"])
    yield app.test_client()


def signed(payload: dict[str, object], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    msg_id, now = "job_1_1", datetime.now(UTC).replace(microsecond=0)
    signature = Webhook(secret).sign(msg_id, now, body.decode())
    return body, {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


def dispatch(text: object) -> dict[str, object]:
    return {"job_id": "job_1", "type": "wordcount", "input": {"text": text}, "attempt": 1, "livemode": True}


def test_counts_words_and_reports_usage(client: flask.testing.FlaskClient) -> None:
    body, headers = signed(dispatch("the quick brown fox"))
    answer = client.post("/", data=body, headers=headers)
    assert answer.status_code == 200
    assert answer.get_json() == {"result": {"words": 4}, "usage": {"units": 4}}


def test_refuses_unsigned_and_foreign_dispatches(client: flask.testing.FlaskClient) -> None:
    body, headers = signed(dispatch("hi"), secret="whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB")
    assert client.post("/", data=body, headers=headers).status_code == 401
    assert client.post("/", data=body).status_code == 401


def test_unusable_input_fails_the_job(client: flask.testing.FlaskClient) -> None:
    body, headers = signed(dispatch(42))
    answer = client.post("/", data=body, headers=headers)
    assert (answer.status_code, answer.get_json()["error"]["message"]) == (422, "input.text must be a string")
