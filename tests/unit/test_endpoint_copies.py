"""Endpoint copies: used only when read after the event's last write and within MAX_AGE_S; bounded; per
project and per user. The message's event copy: canonical body, version round trip, malformed copies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from google.api_core.datetime_helpers import DatetimeWithNanoseconds

from shared.core.clients import project_scope
from shared.models import WebhookEndpoint, WebhookEvent, WebhookEventType
from shared.webhooks.endpoint_copies import MAX_AGE_S, EndpointCopies
from shared.webhooks.events import (
    MAX_EVENT_COPY_BYTES,
    PublishedEvent,
    event_message,
    event_payload,
    payload_body,
    published_event,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def hook(user_id: str = "u1", url: str = "https://example.test/hook") -> WebhookEndpoint:
    return WebhookEndpoint.model_validate(
        {
            "user_id": user_id,
            "url": url,
            "events": [WebhookEventType.JOB_COMPLETED],
            "secret": "whsec_x",
            "created_at": NOW,
        }
    )


def test_a_copy_read_before_the_event_was_written_is_not_used() -> None:
    copies = EndpointCopies(clock=FakeClock())
    with project_scope("p1"):
        copies.remember(hook(), NOW)
        assert copies.usable_for("u1", NOW + timedelta(microseconds=1)) is None
        assert copies.usable_for("u1", NOW) == hook()
        assert copies.usable_for("u1", NOW - timedelta(seconds=1)) == hook()


def test_a_copy_is_used_for_max_age_at_most() -> None:
    clock = FakeClock()
    copies = EndpointCopies(clock=clock)
    with project_scope("p1"):
        copies.remember(hook(), NOW)
        clock.now += MAX_AGE_S - 0.01
        assert copies.usable_for("u1", NOW) is not None
        clock.now += 0.01
        assert copies.usable_for("u1", NOW) is None


def test_an_older_read_never_replaces_a_newer_copy() -> None:
    copies = EndpointCopies(clock=FakeClock())
    with project_scope("p1"):
        copies.remember(hook(url="https://example.test/new"), NOW)
        copies.remember(hook(url="https://example.test/old"), NOW - timedelta(seconds=1))
        kept = copies.usable_for("u1", NOW)
        assert kept is not None and kept.url == "https://example.test/new"


def test_copies_are_per_project_and_per_user_and_bounded() -> None:
    copies = EndpointCopies(clock=FakeClock(), max_copies=2)
    with project_scope("p1"):
        copies.remember(hook("u1"), NOW)
    with project_scope("p2"):
        assert copies.usable_for("u1", NOW) is None  # another project's endpoint of the same user id
        copies.remember(hook("u2"), NOW)
        copies.remember(hook("u3"), NOW)  # pushes the least recently used (p1's u1) out
        assert copies.usable_for("u2", NOW) is not None
        assert copies.usable_for("u1", NOW) is None
    with project_scope("p1"):
        assert copies.usable_for("u1", NOW) is None


def test_forget_drops_the_copy() -> None:
    copies = EndpointCopies(clock=FakeClock())
    with project_scope("p1"):
        copies.remember(hook(), NOW)
        copies.forget("u1")
        assert copies.usable_for("u1", NOW) is None


def _event(obj: dict[str, object]) -> WebhookEvent:
    payload = event_payload("evt_1", WebhookEventType.JOB_COMPLETED, NOW, True, obj)
    return WebhookEvent(
        user_id="u1", type=WebhookEventType.JOB_COMPLETED, livemode=True, payload=payload, created_at=NOW
    )


def test_the_body_has_one_canonical_form_whatever_the_key_order() -> None:
    a = _event({"job_id": "job_1", "result": {"b": 1, "a": [{"y": 2, "x": 1}]}, "status": "completed"})
    b = _event({"status": "completed", "result": {"a": [{"x": 1, "y": 2}], "b": 1}, "job_id": "job_1"})
    assert payload_body(a.payload) == payload_body(b.payload)
    body = json.loads(payload_body(a.payload))
    assert list(body) == ["id", "type", "created", "livemode", "data"]
    assert list(body["data"]["object"]) == ["job_id", "result", "status"]


def test_the_message_carries_the_event_and_its_exact_update_time() -> None:
    version = DatetimeWithNanoseconds(2026, 1, 1, 12, 0, 0, nanosecond=123456789, tzinfo=UTC)
    event = _event({"job_id": "job_1"})
    data = json.loads(event_message("evt_1", "u1", PublishedEvent(event, version)))
    copy = published_event("evt_1", data)
    assert copy is not None
    assert copy.event == event
    assert copy.version == version and copy.version.nanosecond == 123456789  # type: ignore[attr-defined]


def test_a_message_without_a_well_formed_copy_has_none() -> None:
    assert published_event("evt_1", {"event_id": "evt_1", "user_id": "u1"}) is None
    good = json.loads(event_message("evt_1", "u1", PublishedEvent(_event({}), NOW)))
    assert published_event("evt_2", good) is None  # a copy of another event
    assert published_event("evt_1", {**good, "version": "yesterday"}) is None
    assert published_event("evt_1", {**good, "event": {**good["event"], "surprise": 1}}) is None
    assert published_event("evt_1", {**good, "event": "evt_1"}) is None


def test_a_big_event_is_published_as_ids_only() -> None:
    big = _event({"job_id": "job_1", "result": {"text": "x" * MAX_EVENT_COPY_BYTES}})
    data = json.loads(event_message("evt_1", "u1", PublishedEvent(big, NOW)))
    assert data == {"event_id": "evt_1", "user_id": "u1"}
    small = json.loads(event_message("evt_1", "u1", PublishedEvent(_event({"job_id": "job_1"}), NOW)))
    assert "event" in small and "version" in small
