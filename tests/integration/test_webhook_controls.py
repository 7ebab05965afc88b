"""Retry and recover controls, health and rate_limit through the functions host: auth, ownership, 4xx."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from shared.models import WebhookEventStatus, utc_now
from shared.webhooks.endpoints import endpoint_ref
from shared.webhooks.events import event_ref
from tests.support.platform import ApiClient, create_api_key
from tests.support.waiting import eventually
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.webhooks import make_event, setup_endpoint, stored_deliveries, stored_event

USER = "user_controls"
OTHER = "user_other"


def failed_event(user_id: str, created_ago: timedelta = timedelta(minutes=5)) -> str:
    """An event whose retries ran out."""
    event_id = make_event(user_id)
    event_ref(event_id).update(
        {
            "status": WebhookEventStatus.FAILED.value,
            "attempts": 10,
            "next_attempt_at": None,
            "created_at": utc_now() - created_ago,
        }
    )
    return event_id


def test_health_and_rate_limit_are_shown_and_validated(api: ApiClient, receiver: WebhookReceiver) -> None:
    token = api.user_token(USER)
    body: dict[str, Any] = {"url": receiver.url(), "events": ["job.completed"]}
    assert api.request("PUT", "/v1/webhook", token=token, json=body).json()["rate_limit"] is None
    shown = api.request("GET", "/v1/webhook", token=token).json()
    assert (shown["status"], shown["consecutive_failures"], shown["backlog"]) == ("healthy", 0, 0)
    reply = api.request("PUT", "/v1/webhook", token=token, json={**body, "rate_limit": 5})
    assert reply.status_code == 200 and reply.json()["rate_limit"] == 5
    for bad in (0, 101, "5", 1.5, True):
        reply = api.request("PUT", "/v1/webhook", token=token, json={**body, "rate_limit": bad})
        assert reply.status_code == 400, (bad, reply.text)
        assert reply.json()["error"]["param"] == "rate_limit"
    endpoint_ref(USER).update({"enabled": False})
    assert api.request("GET", "/v1/webhook", token=token).json()["status"] == "disabled"
    openapi = api.request("GET", "/v1/openapi.json").json()
    assert "/v1/webhook/events/{event_id}/retry" in openapi["paths"]
    assert "/v1/webhook/recover" in openapi["paths"]


def test_retry_sends_an_event_again_with_the_same_id(api: ApiClient, receiver: WebhookReceiver) -> None:
    setup_endpoint(USER, receiver.url())
    _, key = create_api_key(USER)
    event_id = make_event(USER, publish=True)
    eventually(lambda: stored_event(event_id).status is WebhookEventStatus.DELIVERED)
    reply = api.request("POST", f"/v1/webhook/events/{event_id}/retry", token=key)
    assert reply.status_code == 202, reply.text
    assert reply.json() == {"event_id": event_id, "type": "job.completed", "status": "pending"}
    eventually(lambda: len(receiver.received()) == 2, message="sent again")
    assert [r.headers["webhook-id"] for r in receiver.received()] == [event_id, event_id]
    eventually(lambda: [d.attempt for d in stored_deliveries(event_id)] == [1, 2])
    assert stored_event(event_id).status is WebhookEventStatus.DELIVERED


def test_retry_refuses_bad_input_others_events_and_disabled_endpoints(
    api: ApiClient, receiver: WebhookReceiver
) -> None:
    token = api.user_token(USER)
    assert api.request("POST", f"/v1/webhook/events/evt_{'0' * 32}/retry").status_code == 401
    assert api.request("POST", f"/v1/webhook/events/evt_{'0' * 32}/retry", token=token).status_code == 404
    setup_endpoint(USER, receiver.url())
    setup_endpoint(OTHER, receiver.url())
    theirs = failed_event(OTHER)
    for event_id, status, param in (
        ("evt_nothex", 400, "event_id"),
        ("job_" + "0" * 32, 400, "event_id"),
        ("evt_" + "0" * 32, 404, "event_id"),
        (theirs, 404, "event_id"),
    ):
        reply = api.request("POST", f"/v1/webhook/events/{event_id}/retry", token=token)
        assert reply.status_code == status, (event_id, reply.text)
        assert reply.json()["error"]["param"] == param
    mine = failed_event(USER)
    reply = api.request("POST", f"/v1/webhook/events/{mine}/retry", token=token, json={"now": True})
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "parameter_unknown"
    endpoint_ref(USER).update({"enabled": False})
    reply = api.request("POST", f"/v1/webhook/events/{mine}/retry", token=token)
    assert reply.status_code == 409 and reply.json()["error"]["code"] == "webhook_disabled"
    assert stored_event(theirs).status is WebhookEventStatus.FAILED  # untouched
    assert not receiver.received()


def test_recover_requeues_failed_events_since_oldest_first_once_each(
    api: ApiClient, receiver: WebhookReceiver
) -> None:
    setup_endpoint(USER, receiver.url())
    setup_endpoint(OTHER, receiver.url("/other"))
    token = api.user_token(USER)
    too_old = failed_event(USER, timedelta(hours=3))
    mine = [failed_event(USER, timedelta(minutes=m)) for m in (30, 20, 10)]
    theirs = failed_event(OTHER, timedelta(minutes=15))
    since = int(time.time()) - 3600
    reply = api.request("POST", "/v1/webhook/recover", token=token, json={"since": since})
    assert reply.status_code == 202, reply.text
    assert reply.json() == {"requeued": 3, "has_more": False}
    eventually(
        lambda: all(stored_event(e).status is WebhookEventStatus.DELIVERED for e in mine),
        timeout=30,
        message="recovered events delivered",
    )
    assert [r.headers["webhook-id"] for r in receiver.received()] == mine  # oldest first, once each
    again = api.request("POST", "/v1/webhook/recover", token=token, json={"since": since})
    assert again.json() == {"requeued": 0, "has_more": False}
    assert stored_event(too_old).status is WebhookEventStatus.FAILED
    assert stored_event(theirs).status is WebhookEventStatus.FAILED  # another customer's stay as they are
    assert [d.attempt for d in stored_deliveries(mine[0])] == [11]  # one more attempt, same event id


def test_recover_refuses_bad_input_clearly(api: ApiClient, receiver: WebhookReceiver) -> None:
    token = api.user_token(USER)
    assert api.request("POST", "/v1/webhook/recover", json={"since": 0}).status_code == 401
    assert api.request("POST", "/v1/webhook/recover", token=token, json={"since": 0}).status_code == 404
    setup_endpoint(USER, receiver.url())
    for body, code in (
        ({}, "parameter_missing"),
        ({"since": "yesterday"}, "parameter_invalid"),
        ({"since": -1}, "parameter_invalid"),
        ({"since": 1.5}, "parameter_invalid"),
        ({"since": int(time.time()) + 3600}, "parameter_invalid"),
        ({"since": 0, "until": 5}, "parameter_unknown"),
    ):
        reply = api.request("POST", "/v1/webhook/recover", token=token, json=body)
        assert reply.status_code == 400, (body, reply.text)
        assert reply.json()["error"]["code"] == code
    endpoint_ref(USER).update({"enabled": False})
    reply = api.request("POST", "/v1/webhook/recover", token=token, json={"since": 0})
    assert reply.status_code == 409 and reply.json()["error"]["code"] == "webhook_disabled"


def test_operators_use_the_same_controls_for_any_customer(api: ApiClient, receiver: WebhookReceiver) -> None:
    setup_endpoint(USER, receiver.url())
    admin = api.user_token("root", admin=True)
    failed = failed_event(USER)
    base = f"/v1/admin/webhooks/{USER}"
    for path, body in ((f"{base}/recover", {"since": 0}), (f"{base}/events/{failed}/retry", {})):
        assert api.request("POST", path, json=body).status_code == 401
        refused = api.request("POST", path, token=api.user_token(USER), json=body)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "admin_required"
    assert api.request("GET", base, token=admin).json()["status"] == "healthy"
    reply = api.request("POST", f"{base}/recover", token=admin, json={"since": 0})
    assert reply.status_code == 202 and reply.json() == {"requeued": 1, "has_more": False}
    eventually(lambda: stored_event(failed).status is WebhookEventStatus.DELIVERED)
    reply = api.request("POST", f"{base}/events/{failed}/retry", token=admin, json={})
    assert reply.status_code == 202
    eventually(lambda: len(receiver.received()) == 2, message="sent again by the operator")
    missing = api.request("GET", "/v1/admin/webhooks/user_without_endpoint", token=admin)
    assert missing.status_code == 404
