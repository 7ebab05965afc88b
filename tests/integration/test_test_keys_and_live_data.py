"""Test keys never touch live data (finding 4): they cannot replace or delete the webhook endpoint live
events go to, and they read test-mode views of the balance, the cards and the delivery log. Responses that
carry a plaintext key or webhook secret are never cached. Another customer is present throughout."""

from __future__ import annotations

from datetime import timedelta

from shared.core.clients import firestore_client
from shared.models import PaymentMethod, WebhookDelivery, WebhookEventType, utc_now
from tests.support.platform import ApiClient, create_account, create_api_key
from tests.support.webhook_receiver import WebhookReceiver

USER = "user_modes"
OTHER = "user_modes_other"


def test_a_test_key_cannot_replace_or_delete_the_live_endpoint(
    api: ApiClient, receiver: WebhookReceiver
) -> None:
    user = api.user_token(USER)
    created = api.request(
        "PUT", "/v1/webhook", token=user, json={"url": receiver.url(), "events": ["job.completed"]}
    )
    assert created.status_code == 201
    other = api.request(
        "PUT",
        "/v1/webhook",
        token=api.user_token(OTHER),
        json={"url": receiver.url("/o"), "events": ["job.failed"]},
    )
    assert other.status_code == 201
    _, test_key = create_api_key(USER, "test")
    for method, body in (
        ("DELETE", None),
        ("PUT", {"url": receiver.url("/attacker"), "events": ["job.completed"]}),
    ):
        refused = api.request(method, "/v1/webhook", token=test_key, json=body)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "livemode_required"
    shown = api.request("GET", "/v1/webhook", token=user).json()
    assert shown["url"] == receiver.url() and shown["webhook_id"] == created.json()["webhook_id"]
    assert api.request("GET", "/v1/webhook", token=api.user_token(OTHER)).json()["url"] == receiver.url("/o")
    # Rotation needs the signed-in user (a key of either mode is refused).
    rotate = api.request("POST", "/v1/webhook/rotate_secret", token=test_key)
    assert rotate.status_code == 403


def test_a_live_key_manages_the_endpoint_and_secrets_are_never_cached(
    api: ApiClient, receiver: WebhookReceiver
) -> None:
    _, live_key = create_api_key(USER, "live")
    created = api.request(
        "PUT", "/v1/webhook", token=live_key, json={"url": receiver.url(), "events": ["job.failed"]}
    )
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    assert created.headers["Cache-Control"] == "no-store"
    rotated = api.request("POST", "/v1/webhook/rotate_secret", token=api.user_token(USER))
    assert rotated.status_code == 200 and rotated.headers["Cache-Control"] == "no-store"
    assert api.request("DELETE", "/v1/webhook", token=live_key).status_code == 200


def test_key_plaintext_responses_are_never_cached(api: ApiClient) -> None:
    user = api.user_token(USER)
    assert api.request("POST", "/v1/account", token=user).status_code in (200, 201)
    created = api.request("POST", "/v1/api_keys", token=user, json={"name": "k", "environment": "live"})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    rolled = api.request("POST", f"/v1/api_keys/{created.json()['key_id']}/roll", token=user, json={})
    assert rolled.status_code == 201 and rolled.headers["Cache-Control"] == "no-store"
    listed = api.request("GET", "/v1/api_keys", token=user)
    assert "key" not in listed.json()["data"][0]


def test_a_test_key_sees_the_test_balance_and_no_live_cards(api: ApiClient) -> None:
    create_account(USER, credits=500)
    create_account(OTHER, credits=70)
    now = utc_now()
    for owner in (USER, OTHER):
        card = PaymentMethod(
            user_id=owner,
            stripe_customer_id="cus_" + owner,
            brand="visa",
            last4="4242",
            exp_month=12,
            exp_year=2030,
            is_default=True,
            created_at=now,
        )
        firestore_client().collection(PaymentMethod.collection).document("pm_" + owner).set(
            card.to_firestore()
        )
    _, test_key = create_api_key(USER, "test")
    _, live_key = create_api_key(USER, "live")
    test_view = api.request("GET", "/v1/account", token=test_key).json()
    assert (test_view["credits"], test_view["livemode"]) == (0, False)
    live_view = api.request("GET", "/v1/account", token=live_key).json()
    assert (live_view["credits"], live_view["livemode"]) == (500, True)
    assert api.request("GET", "/v1/account", token=api.user_token(USER)).json()["credits"] == 500
    assert api.request("GET", "/v1/payment_methods", token=test_key).json()["data"] == []
    live_cards = api.request("GET", "/v1/payment_methods", token=live_key).json()["data"]
    assert [c["payment_method_id"] for c in live_cards] == ["pm_" + USER]


def store_delivery(owner: str, event_id: str, livemode: bool, age_s: int) -> None:
    delivery = WebhookDelivery(
        user_id=owner,
        webhook_id="wh_" + owner,
        event_id=event_id,
        event_type=WebhookEventType.JOB_COMPLETED,
        attempt=1,
        status_code=200,
        duration_ms=5,
        livemode=livemode,
        created_at=utc_now() - timedelta(seconds=age_s),
    )
    firestore_client().collection(WebhookDelivery.collection).document(f"{event_id}-1").set(
        delivery.to_firestore()
    )


def test_a_test_key_lists_test_mode_deliveries_only(api: ApiClient) -> None:
    store_delivery(USER, "evt_live_a", True, 30)
    store_delivery(USER, "evt_test_a", False, 20)
    store_delivery(USER, "evt_live_b", True, 10)
    store_delivery(USER, "evt_test_b", False, 5)
    store_delivery(OTHER, "evt_other_test", False, 1)
    _, test_key = create_api_key(USER, "test")
    _, live_key = create_api_key(USER, "live")

    def listed(token: str, query: str = "") -> list[str]:
        response = api.request("GET", f"/v1/webhook/deliveries{query}", token=token)
        assert response.status_code == 200, response.text
        return [d["event_id"] for d in response.json()["data"]]

    assert listed(test_key) == ["evt_test_b", "evt_test_a"]
    assert listed(test_key, "?limit=1&starting_after=evt_test_b-1") == ["evt_test_a"]
    # A live attempt's id is not a cursor a test key may use.
    refused = api.request("GET", "/v1/webhook/deliveries?starting_after=evt_live_b-1", token=test_key)
    assert refused.status_code == 400
    everything = ["evt_test_b", "evt_live_b", "evt_test_a", "evt_live_a"]
    assert listed(live_key) == everything
    assert listed(api.user_token(USER)) == everything
