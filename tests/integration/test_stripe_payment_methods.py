"""Cards through the API against localstripe, and payment-method events keeping `payment_methods` in sync."""

from __future__ import annotations

import time
from typing import Any

import stripe

from shared.core.clients import firestore_client
from shared.models import PaymentMethod
from tests.support.platform import ApiClient, create_account, create_api_key
from tests.support.stripe_events import EventSender, as_dict, make_event
from tests.support.stripe_flows import add_card, new_card


def stored_card(payment_method_id: str) -> PaymentMethod | None:
    snapshot = firestore_client().collection("payment_methods").document(payment_method_id).get()
    return PaymentMethod.from_firestore(snapshot.to_dict()) if snapshot.exists else None


def customer_of(user_id: str) -> str:
    data = firestore_client().collection("users").document(user_id).get().to_dict() or {}
    return str(data["stripe_customer_id"])


def test_card_added_listed_made_default_and_detached(api: ApiClient, client: stripe.StripeClient) -> None:
    create_account("alice")
    token = api.user_token("alice")
    first = add_card(api, token, client)
    assert first["last4"] == "4242" and first["brand"] == "visa" and first["exp_month"] == 12
    assert first["is_default"] is True  # the first card becomes the default
    again = api.request(
        "POST", "/v1/payment_methods", token=token, json={"setup_intent_id": first["setup_intent_id"]}
    )
    assert again.status_code == 200 and again.json()["payment_method_id"] == first["payment_method_id"]

    second = add_card(api, token, client, number="5555555555554444")
    assert second["is_default"] is False and second["last4"] == "4444"
    customer_id = customer_of("alice")
    for card in (first, second):  # attached in Stripe to the caller's one customer
        assert client.v1.payment_methods.retrieve(card["payment_method_id"]).customer == customer_id

    _, test_key = create_api_key("alice", "test")  # cards are live: a test key sees none
    assert api.request("GET", "/v1/payment_methods", token=test_key).json()["data"] == []
    _, key = create_api_key("alice", "live")
    listed = api.request("GET", "/v1/payment_methods", token=key)
    assert listed.status_code == 200
    assert [c["payment_method_id"] for c in listed.json()["data"]] == [
        first["payment_method_id"],
        second["payment_method_id"],
    ]
    assert listed.json()["has_more"] is False

    made = api.request("POST", f"/v1/payment_methods/{second['payment_method_id']}/default", token=token)
    assert made.status_code == 200 and made.json()["is_default"] is True
    stripe_customer = as_dict(client.v1.customers.retrieve(customer_id))
    assert stripe_customer["invoice_settings"]["default_payment_method"] == second["payment_method_id"]
    flags = {
        c["payment_method_id"]: c["is_default"]
        for c in api.request("GET", "/v1/payment_methods", token=token).json()["data"]
    }
    assert flags == {first["payment_method_id"]: False, second["payment_method_id"]: True}

    gone = api.request("DELETE", f"/v1/payment_methods/{first['payment_method_id']}", token=token)
    assert gone.status_code == 200 and gone.json() == {
        "payment_method_id": first["payment_method_id"],
        "deleted": True,
    }
    assert client.v1.payment_methods.retrieve(first["payment_method_id"]).customer is None
    remaining = api.request("GET", "/v1/payment_methods", token=token).json()["data"]
    assert [c["payment_method_id"] for c in remaining] == [second["payment_method_id"]]
    again_gone = api.request("DELETE", f"/v1/payment_methods/{first['payment_method_id']}", token=token)
    assert again_gone.status_code == 404


def test_one_customer_per_user_even_concurrently(api: ApiClient, client: stripe.StripeClient) -> None:
    from concurrent.futures import ThreadPoolExecutor

    create_account("carol")
    token = api.user_token("carol")
    with ThreadPoolExecutor(8) as pool:
        replies = list(
            pool.map(lambda _: api.request("POST", "/v1/payment_methods/setup_intent", token=token), range(8))
        )
    assert all(r.status_code == 201 for r in replies), [r.text for r in replies]
    assert {r.json()["customer_id"] for r in replies} == {customer_of("carol")}
    mine = [
        c
        for c in map(as_dict, client.v1.customers.list(params={"limit": 100}).auto_paging_iter())
        if c.get("metadata") == {"user_id": "carol", "platform_project": api.project}
    ]
    assert len(mine) == 1


def test_register_refuses_what_is_not_the_callers_confirmed_card(
    api: ApiClient, client: stripe.StripeClient
) -> None:
    create_account("alice")
    create_account("mallory")
    alice, mallory = api.user_token("alice"), api.user_token("mallory")
    pending = api.request("POST", "/v1/payment_methods/setup_intent", token=alice).json()["setup_intent_id"]
    unconfirmed = api.request("POST", "/v1/payment_methods", token=alice, json={"setup_intent_id": pending})
    assert unconfirmed.status_code == 400
    assert unconfirmed.json()["error"]["code"] == "setup_intent_incomplete"
    card = add_card(api, alice, client)
    stolen = api.request(
        "POST", "/v1/payment_methods", token=mallory, json={"setup_intent_id": card["setup_intent_id"]}
    )
    assert stolen.status_code == 404 and stolen.json()["error"]["param"] == "setup_intent_id"
    unknown = api.request("POST", "/v1/payment_methods", token=alice, json={"setup_intent_id": "seti_nope"})
    assert unknown.status_code == 404
    bad = api.request("POST", "/v1/payment_methods", token=alice, json={"setup_intent_id": "x", "extra": 1})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "parameter_unknown"
    for method, path in (
        ("POST", f"/v1/payment_methods/{card['payment_method_id']}/default"),
        ("DELETE", f"/v1/payment_methods/{card['payment_method_id']}"),
    ):
        refused = api.request(method, path, token=mallory)
        assert refused.status_code == 404, refused.text
    assert api.request("GET", "/v1/payment_methods", token=mallory).json()["data"] == []
    no_account = api.request("POST", "/v1/payment_methods/setup_intent", token=api.user_token("nobody"))
    assert no_account.status_code == 403 and no_account.json()["error"]["code"] == "account_missing"


def _attached_card(api: ApiClient, client: stripe.StripeClient, user_id: str) -> tuple[str, dict[str, Any]]:
    """A card attached in Stripe to the user's customer, not yet known to the platform."""
    create_account(user_id)
    api.request("POST", "/v1/payment_methods/setup_intent", token=api.user_token(user_id))
    pm_id = new_card(client)
    pm = as_dict(client.v1.payment_methods.attach(pm_id, params={"customer": customer_of(user_id)}))
    return pm_id, pm


def test_payment_method_events_sync_in_any_order(
    api: ApiClient, client: stripe.StripeClient, events: EventSender
) -> None:
    pm_id, pm = _attached_card(api, client, "dave")
    now = int(time.time())
    assert events.send(make_event("payment_method.attached", pm, created=now - 20)).status_code == 200
    card = stored_card(pm_id)
    assert card is not None and card.user_id == "dave" and card.last4 == "4242" and card.exp_year == 2034

    renewed = {**pm, "card": {**pm["card"], "exp_year": 2036}}
    assert (
        events.send(make_event("payment_method.automatically_updated", renewed, created=now - 10)).status_code
        == 200
    )
    stale = {**pm, "card": {**pm["card"], "exp_year": 2030}}
    assert events.send(make_event("payment_method.updated", stale, created=now - 15)).status_code == 200
    card = stored_card(pm_id)
    assert card is not None and card.exp_year == 2036  # the older state, delivered late, changed nothing

    customer = as_dict(client.v1.customers.retrieve(customer_of("dave")))
    customer["invoice_settings"]["default_payment_method"] = pm_id
    assert events.send(make_event("customer.updated", customer, created=now - 5)).status_code == 200
    card = stored_card(pm_id)
    assert card is not None and card.is_default is True

    attached_event = make_event("payment_method.attached", pm, created=now - 4)
    detached = {**pm, "customer": None}
    detached_event = make_event(
        "payment_method.detached",
        detached,
        created=now - 3,
        previous_attributes={"customer": customer_of("dave")},
    )
    for event in (detached_event, detached_event, attached_event, attached_event):
        assert events.send(event).status_code == 200
    later_attached = make_event("payment_method.attached", pm, created=now + 5)
    assert events.send(later_attached).status_code == 200
    assert stored_card(pm_id) is None  # a detached card never comes back
    assert api.request("GET", "/v1/payment_methods", token=api.user_token("dave")).json()["data"] == []


def test_setup_intent_succeeded_event_records_and_attaches_the_card(
    api: ApiClient, client: stripe.StripeClient, events: EventSender
) -> None:
    create_account("erin")
    token = api.user_token("erin")
    intent_id = api.request("POST", "/v1/payment_methods/setup_intent", token=token).json()["setup_intent_id"]
    intent = as_dict(client.v1.setup_intents.confirm(intent_id, params={"payment_method": new_card(client)}))
    event = make_event("setup_intent.succeeded", intent)
    assert events.send(event).status_code == 200
    pm_id = intent["payment_method"]
    card = stored_card(pm_id)
    assert card is not None and card.user_id == "erin"
    assert client.v1.payment_methods.retrieve(pm_id).customer == customer_of("erin")
    registered = api.request("POST", "/v1/payment_methods", token=token, json={"setup_intent_id": intent_id})
    assert registered.status_code == 200 and registered.json()["payment_method_id"] == pm_id
    duplicate = events.send(event)
    assert duplicate.status_code == 200 and duplicate.json().get("duplicate") is True


def test_making_a_card_default_while_it_is_deleted_never_answers_5xx(
    api: ApiClient, client: stripe.StripeClient
) -> None:
    """Finding 10: the card can vanish between the default update and the read that renders it; that is a
    404 (or a 200 if the default won the race), never a 500. Another customer's card is untouched."""
    from tests.support.concurrency import run_concurrently

    create_account("alice")
    create_account("bob")
    token, bob = api.user_token("alice"), api.user_token("bob")
    bobs = add_card(api, bob, client)
    cards = [add_card(api, token, client)["payment_method_id"] for _ in range(6)]

    def race(i: int) -> tuple[str, int]:
        card = cards[i // 2]
        if i % 2 == 0:
            return "default", api.request(
                "POST", f"/v1/payment_methods/{card}/default", token=token
            ).status_code
        return "delete", api.request("DELETE", f"/v1/payment_methods/{card}", token=token).status_code

    results = run_concurrently(race, 2 * len(cards))
    for result in results:
        assert not isinstance(result, BaseException), result
        kind, status = result
        assert status in (200, 404), (kind, status)
    assert api.request("GET", "/v1/payment_methods", token=token).json()["data"] == []
    [left] = api.request("GET", "/v1/payment_methods", token=bob).json()["data"]
    assert left["payment_method_id"] == bobs["payment_method_id"] and left["is_default"] is True
