"""The webhook settings API through the functions host, and webhook.test end to end via Pub/Sub."""

from __future__ import annotations

from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tests.support.platform import ApiClient, create_api_key
from tests.support.waiting import eventually
from tests.support.webhook_receiver import WebhookReceiver

USER = "user_api"


def put(api: ApiClient, token: str, body: Any) -> Any:
    return api.request("PUT", "/v1/webhook", token=token, json=body)


def test_create_read_update_delete(api: ApiClient, receiver: WebhookReceiver) -> None:
    token = api.user_token(USER)
    assert api.request("GET", "/v1/webhook", token=token).status_code == 404
    created = put(api, token, {"url": receiver.url(), "events": ["job.completed"]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["webhook_id"].startswith("wh_")
    assert (body["url"], body["events"], body["enabled"]) == (receiver.url(), ["job.completed"], True)
    shown = api.request("GET", "/v1/webhook", token=token).json()
    assert "secret" not in shown and shown["webhook_id"] == body["webhook_id"]
    updated = put(
        api, token, {"url": receiver.url("/v2"), "events": ["job.failed", "job.failed"], "enabled": False}
    )
    assert updated.status_code == 200 and "secret" not in updated.json()
    assert updated.json()["events"] == ["job.failed"] and updated.json()["enabled"] is False
    assert updated.json()["webhook_id"] == body["webhook_id"]  # one endpoint per user, by construction
    other = put(api, api.user_token("someone_else"), {"url": receiver.url(), "events": ["job.failed"]})
    assert other.json()["webhook_id"] != body["webhook_id"]
    deleted = api.request("DELETE", "/v1/webhook", token=token)
    assert deleted.json() == {"webhook_id": body["webhook_id"], "deleted": True}
    assert api.request("GET", "/v1/webhook", token=token).status_code == 404
    assert api.request("DELETE", "/v1/webhook", token=token).status_code == 404


def test_api_keys_manage_their_users_endpoint_but_cannot_rotate(
    api: ApiClient, receiver: WebhookReceiver
) -> None:
    _, key = create_api_key(USER, "live")  # test keys cannot change the live endpoint
    assert put(api, key, {"url": receiver.url(), "events": ["job.completed"]}).status_code == 201
    assert api.request("GET", "/v1/webhook", token=api.user_token(USER)).status_code == 200
    refused = api.request("POST", "/v1/webhook/rotate_secret", token=key)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "user_token_required"
    rotated = api.request("POST", "/v1/webhook/rotate_secret", token=api.user_token(USER))
    assert rotated.status_code == 200 and rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["previous_secret_expires_at"] is not None


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"url": "https://hooks.example.com/x", "events": ["webhook.test"]}, "events.0"),
        ({"url": "https://hooks.example.com/x", "events": ["job.started"]}, "events.0"),
        ({"url": "https://hooks.example.com/x", "events": []}, "events"),
        ({"url": "https://hooks.example.com/x"}, "events"),
        ({"url": "https://user:pw@hooks.example.com/x", "events": ["job.failed"]}, "url"),
        ({"url": "ftp://hooks.example.com/x", "events": ["job.failed"]}, "url"),
        ({"url": "https://10.0.0.1/x", "events": ["job.failed"]}, "url"),
        ({"url": "https://[fd00::1]/x", "events": ["job.failed"]}, "url"),
        ({"url": "https://hooks.example.com/x", "events": ["job.failed"], "secret": "whsec_x"}, "secret"),
        ({"url": 5, "events": ["job.failed"]}, "url"),
        ({"url": "https://hooks.example.com/x", "events": ["job.failed"], "enabled": "maybe"}, "enabled"),
    ],
)
def test_invalid_settings_are_clear_400s(api: ApiClient, body: dict[str, Any], param: str) -> None:
    response = put(api, api.user_token(USER), body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_malformed_bodies_and_queries_never_get_5xx(api: ApiClient) -> None:
    token = api.user_token(USER)
    for data in ("", "[]", "{", "null", '"x"'):
        response = api.request(
            "PUT", "/v1/webhook", token=token, data=data, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, (data, response.text)
    for query in ("limit=0", "limit=101", "limit=abc", "cursor=nope", "cursor=a%2Fb"):
        response = api.request("GET", f"/v1/webhook/deliveries?{query}", token=token)
        assert response.status_code == 400, (query, response.text)


def test_test_event_reaches_the_receiver_through_pubsub_and_is_listed(
    api: ApiClient, receiver: WebhookReceiver
) -> None:
    token = api.user_token(USER)
    assert api.request("POST", "/v1/webhook/test", token=token).status_code == 404
    secret = put(api, token, {"url": receiver.url(), "events": ["job.failed"]}).json()["secret"]
    sent = api.request("POST", "/v1/webhook/test", token=token)
    assert sent.status_code == 202, sent.text
    event_id = sent.json()["event_id"]
    [request] = eventually(receiver.received, timeout=30, message="test event received")
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload["id"] == event_id and payload["type"] == "webhook.test"
    listed = eventually(
        lambda: (r := api.request("GET", "/v1/webhook/deliveries", token=token).json())["data"] and r,
        message="delivery listed",
    )
    assert listed["has_more"] is False and listed["next_cursor"] is None
    [delivery] = listed["data"]
    assert delivery["event_id"] == event_id and delivery["event_type"] == "webhook.test"
    assert (delivery["attempt"], delivery["status_code"], delivery["error"], delivery["next_attempt_at"]) == (
        1,
        200,
        None,
        None,
    )
    assert isinstance(delivery["duration_ms"], int)
    # Disabled endpoints refuse test sends.
    put(api, token, {"url": receiver.url(), "events": ["job.failed"], "enabled": False})
    refused = api.request("POST", "/v1/webhook/test", token=token)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "webhook_disabled"


def test_deliveries_are_paginated_newest_first(api: ApiClient, receiver: WebhookReceiver) -> None:
    token = api.user_token(USER)
    put(api, token, {"url": receiver.url(), "events": ["job.failed"]})
    sent = [api.request("POST", "/v1/webhook/test", token=token).json()["event_id"] for _ in range(3)]
    eventually(lambda: len(receiver.received()) == 3, message="three test events received")

    def all_listed() -> list[dict[str, Any]]:
        pages: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = api.request("GET", f"/v1/webhook/deliveries?{query}", token=token).json()
            pages.extend(page["data"])
            if not page["has_more"]:
                return pages
            cursor = page["next_cursor"]

    listed = eventually(lambda: d if len(d := all_listed()) == 3 else None, message="three deliveries")
    assert sorted(d["event_id"] for d in listed) == sorted(sent)
    created = [d["created_at"] for d in listed]
    assert created == sorted(created, reverse=True)
    # Another user sees none of them.
    assert api.request("GET", "/v1/webhook/deliveries", token=api.user_token("other")).json()["data"] == []
