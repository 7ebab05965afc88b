"""Purchases against localstripe, and the credits they grant: exactly once, whatever events arrive."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import stripe

from shared.core.clients import firestore_client
from shared.models import PaymentMethod, utc_now
from tests.support import stripe_objects as so
from tests.support.platform import ApiClient, create_account
from tests.support.purchases import (
    balance,
    charge_of,
    customer_of,
    ledger,
    paid_purchase_without_grant,
    purchase_doc,
)
from tests.support.stripe_events import EventSender, as_dict, make_event
from tests.support.stripe_flows import DECLINED_ON_CHARGE, add_card
from tests.support.waiting import eventually


def test_credit_packages_are_public_and_seeded(api: ApiClient) -> None:
    reply = api.request("GET", "/v1/credit_packages")
    assert reply.status_code == 200
    packages = {p["package"]: (p["credits"], p["price"], p["currency"]) for p in reply.json()["data"]}
    assert packages == {
        "starter": (120, 1000, "usd"),
        "popular": (400, 3000, "usd"),
        "pro": (1100, 7500, "usd"),
        "mega": (2500, 15000, "usd"),
    }


@pytest.mark.usefixtures("localstripe_webhook")
def test_purchase_paid_and_credited_once(api: ApiClient, client: stripe.StripeClient) -> None:
    create_account("alice")
    token = api.user_token("alice")
    add_card(api, token, client)
    body = {"package": "starter"}
    bought = api.request(
        "POST", "/v1/purchases", token=token, json=body, headers={"Idempotency-Key": "buy-1"}
    )
    assert bought.status_code == 201, bought.text
    purchase = bought.json()
    assert purchase["status"] == "succeeded" and purchase["credits"] == 120 and purchase["amount"] == 1000
    intent = as_dict(client.v1.payment_intents.retrieve(purchase["payment_intent_id"]))
    assert intent["amount"] == 1000 and intent["metadata"]["purchase_id"] == purchase["purchase_id"]
    assert intent["metadata"]["user_id"] == "alice"

    replay = api.request(
        "POST", "/v1/purchases", token=token, json=body, headers={"Idempotency-Key": "buy-1"}
    )
    assert replay.status_code == 200 and replay.json()["purchase_id"] == purchase["purchase_id"]
    other = api.request(
        "POST", "/v1/purchases", token=token, json={"package": "mega"}, headers={"Idempotency-Key": "buy-1"}
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_in_use"

    # localstripe's own payment_intent.succeeded (signed with the registered secret) arrives: no second grant.
    sent = eventually(
        lambda: [
            e
            for e in client.v1.events.list(params={"type": "payment_intent.succeeded"}).auto_paging_iter()
            if e.data.object.id == purchase["payment_intent_id"]
        ]
    )
    marker = firestore_client().collection("processed_events").document(f"stripe:{sent[0].id}")
    eventually(lambda: marker.get().exists, message="localstripe's event applied")
    assert balance("alice") == 120
    assert [(e["type"], e["amount"], e["reference"]) for e in ledger("alice")] == [
        ("purchase", 120, purchase["purchase_id"])
    ]
    fetched = api.request("GET", f"/v1/purchases/{purchase['purchase_id']}", token=token)
    assert fetched.status_code == 200 and fetched.json()["credits_granted"] is True
    create_account("bob")
    assert (
        api.request(
            "GET", f"/v1/purchases/{purchase['purchase_id']}", token=api.user_token("bob")
        ).status_code
        == 404
    )


def test_purchase_input_errors(api: ApiClient, client: stripe.StripeClient) -> None:
    create_account("alice")
    token = api.user_token("alice")
    no_card = api.request("POST", "/v1/purchases", token=token, json={"package": "starter"})
    assert no_card.status_code == 400 and no_card.json()["error"]["code"] == "no_default_payment_method"
    add_card(api, token, client)
    unknown = api.request("POST", "/v1/purchases", token=token, json={"package": "gold"})
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "package"
    price = api.request("POST", "/v1/purchases", token=token, json={"package": "starter", "amount": 1})
    assert price.status_code == 400 and price.json()["error"]["code"] == "parameter_unknown"
    foreign = api.request(
        "POST", "/v1/purchases", token=token, json={"package": "starter", "payment_method_id": "pm_x"}
    )
    assert foreign.status_code == 404 and foreign.json()["error"]["param"] == "payment_method_id"
    assert balance("alice") == 0


def test_declined_card_fails_the_purchase_without_credits(
    api: ApiClient, client: stripe.StripeClient
) -> None:
    create_account("dan")
    token = api.user_token("dan")
    add_card(api, token, client, number=DECLINED_ON_CHARGE)
    reply = api.request("POST", "/v1/purchases", token=token, json={"package": "starter"})
    assert reply.status_code == 201, reply.text
    assert reply.json()["status"] == "failed" and reply.json()["failure_code"] == "card_declined"
    assert balance("dan") == 0


def test_card_stripe_refuses_fails_the_purchase_instead_of_leaving_it_pending(
    api: ApiClient, client: stripe.StripeClient
) -> None:
    """A card recorded here that Stripe no longer knows (deleted there directly): Stripe refuses the
    PaymentIntent with an invalid-request error. That is the caller's card, not an outage: the purchase
    ends failed, like a declined card, instead of a 502 and a purchase pending forever."""
    create_account("erin")
    token = api.user_token("erin")
    add_card(api, token, client)
    gone = PaymentMethod(
        user_id="erin", stripe_customer_id=customer_of("erin"), last4="4242", created_at=utc_now()
    )
    firestore_client().collection("payment_methods").document("pm_goneinstripe").set(gone.to_firestore())
    body = {"package": "starter", "payment_method_id": "pm_goneinstripe"}
    headers = {"Idempotency-Key": "buy-gone"}
    reply = api.request("POST", "/v1/purchases", token=token, json=body, headers=headers)
    assert reply.status_code == 201, reply.text
    assert reply.json()["status"] == "failed" and reply.json()["failure_code"]
    stored = purchase_doc(reply.json()["purchase_id"])
    assert stored.status == "failed" and stored.failure_code == reply.json()["failure_code"]
    replay = api.request("POST", "/v1/purchases", token=token, json=body, headers=headers)
    assert replay.status_code == 200 and replay.json()["status"] == "failed"
    assert balance("erin") == 0 and ledger("erin") == []


def test_same_event_fifty_times_concurrently_grants_once(
    api: ApiClient, client: stripe.StripeClient, events: EventSender
) -> None:
    purchase_id, intent, charge = paid_purchase_without_grant(api, client, "erin")
    succeeded = make_event("payment_intent.succeeded", intent)
    with ThreadPoolExecutor(50) as pool:
        replies = list(pool.map(lambda _: events.send(succeeded), range(50)))
    assert [r.status_code for r in replies] == [200] * 50, [r.text for r in replies if r.status_code != 200]
    assert balance("erin") == 120
    assert len(ledger("erin")) == 1
    # Other proofs of the same payment, also concurrent and repeated, grant nothing more.
    others = [make_event("charge.succeeded", charge), make_event("payment_intent.succeeded", intent)]
    with ThreadPoolExecutor(10) as pool:
        replies = list(pool.map(lambda i: events.send(others[i % 2]), range(10)))
    assert all(r.status_code == 200 for r in replies)
    assert balance("erin") == 120 and len(ledger("erin")) == 1
    assert purchase_doc(purchase_id).status == "succeeded"


def test_different_events_for_one_purchase_concurrently_grant_once(
    api: ApiClient, client: stripe.StripeClient, events: EventSender
) -> None:
    _, intent, charge = paid_purchase_without_grant(api, client, "fay")
    batch = [make_event("payment_intent.succeeded", intent) for _ in range(10)]
    batch += [make_event("charge.succeeded", charge) for _ in range(10)]
    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(events.send, batch))
    assert all(r.status_code == 200 for r in replies)
    assert balance("fay") == 120 and len(ledger("fay")) == 1


def test_refund_before_success_grants_then_takes_back(
    api: ApiClient, client: stripe.StripeClient, events: EventSender
) -> None:
    purchase_id, intent, _ = paid_purchase_without_grant(api, client, "gus")
    client.v1.refunds.create(params={"payment_intent": intent["id"]})
    refunded = charge_of(client, intent)
    assert refunded["amount_refunded"] == 1000
    assert events.send(make_event("charge.refunded", refunded)).status_code == 200
    assert events.send(make_event("payment_intent.succeeded", intent)).status_code == 200
    assert events.send(make_event("charge.refunded", refunded)).status_code == 200
    assert balance("gus") == 0
    assert [(e["type"], e["amount"]) for e in ledger("gus")] == [("purchase", 120), ("clawback", -120)]
    assert purchase_doc(purchase_id).status == "refunded"


def test_partial_then_full_refund_after_success(
    api: ApiClient, client: stripe.StripeClient, events: EventSender
) -> None:
    purchase_id, intent, _ = paid_purchase_without_grant(api, client, "hal")
    assert events.send(make_event("payment_intent.succeeded", intent)).status_code == 200
    assert balance("hal") == 120
    client.v1.refunds.create(params={"payment_intent": intent["id"], "amount": 300})
    partial = charge_of(client, intent)
    # Explicit creation times: Stripe stamps an event when it happens, so a late copy keeps its old time
    # (one made "now" with the partial amount would be a newer snapshot, i.e. a failed refund).
    partial_at = int(time.time())
    full_at = partial_at + 1
    assert events.send(make_event("charge.refunded", partial, created=partial_at)).status_code == 200
    assert balance("hal") == 120 - 36  # 120 x 300 / 1000
    client.v1.refunds.create(params={"payment_intent": intent["id"], "amount": 700})
    full = charge_of(client, intent)
    assert events.send(make_event("charge.refunded", full, created=full_at)).status_code == 200
    # The earlier partial refund again, as a separate late event, and the full one again: nothing more.
    assert events.send(make_event("charge.refunded", partial, created=partial_at)).status_code == 200
    assert events.send(make_event("charge.refunded", full, created=full_at)).status_code == 200
    assert balance("hal") == 0
    assert [e["amount"] for e in ledger("hal")] == [120, -36, -84]
    assert purchase_doc(purchase_id).status == "refunded"


def test_dispute_takes_back_what_was_granted(
    api: ApiClient, client: stripe.StripeClient, events: EventSender
) -> None:
    purchase_id, intent, charge = paid_purchase_without_grant(api, client, "ivy")
    dispute = so.dispute(so.charge(charge))
    assert events.send(make_event("payment_intent.succeeded", intent)).status_code == 200
    with ThreadPoolExecutor(5) as pool:
        replies = list(
            pool.map(events.send, [make_event("charge.dispute.created", dispute) for _ in range(5)])
        )
    assert all(r.status_code == 200 for r in replies)
    without_intent = {**dispute, "payment_intent": None}  # found through the charge instead
    assert events.send(make_event("charge.dispute.created", without_intent)).status_code == 200
    assert balance("ivy") == 0
    assert [(e["type"], e["amount"]) for e in ledger("ivy")] == [("purchase", 120), ("dispute", -120)]
    assert purchase_doc(purchase_id).status == "disputed"


def test_a_handler_failure_answers_5xx_and_the_retry_applies(
    api: ApiClient, client: stripe.StripeClient, events: EventSender
) -> None:
    _, intent, _ = paid_purchase_without_grant(api, client, "jon")
    firestore_client().collection("users").document("jon").delete()
    event = make_event("payment_intent.succeeded", intent)
    failed = events.send(event)
    assert failed.status_code >= 500 and failed.json()["error"]["type"] == "api_error"
    assert failed.headers["Request-Id"].startswith("req_")
    assert (
        not firestore_client().collection("processed_events").document(f"stripe:{event['id']}").get().exists
    )
    create_account("jon")
    assert events.send(event).status_code == 200  # Stripe's retry
    assert balance("jon") == 120


def test_events_apply_in_maintenance_mode(
    api: ApiClient, client: stripe.StripeClient, events: EventSender
) -> None:
    _, intent, _ = paid_purchase_without_grant(api, client, "kim")
    firestore_client().collection("system").document("config").set({"maintenance_mode": True}, merge=True)
    assert events.send(make_event("payment_intent.succeeded", intent)).status_code == 200
    assert balance("kim") == 120


def test_forged_altered_stale_and_unsigned_events_are_refused(
    api: ApiClient, client: stripe.StripeClient, events: EventSender
) -> None:
    from tests.support.stripe_events import encode, generate_header

    purchase_id, intent, _ = paid_purchase_without_grant(api, client, "lee")
    event = make_event("payment_intent.succeeded", intent)
    payload = encode(event)
    richer = encode({**event, "data": {"object": {**intent, "amount": 1}}})
    now = int(time.time())
    refused = {
        "forged (wrong secret)": events.post(payload, generate_header(payload, secret="whsec_attacker")),
        "altered body": events.post(richer, generate_header(payload)),
        "stale (301 s old)": events.post(payload, generate_header(payload, timestamp=now - 301)),
        "unsigned": events.post(payload, None),
        "empty header": events.post(payload, ""),
        "wrong scheme": events.post(payload, generate_header(payload, scheme="v0")),
        "garbage header": events.post(payload, "not-a-signature"),
        "bad signature hex": events.post(payload, generate_header(payload, signature="00" * 32)),
        "timestamp swapped": events.post(
            payload, generate_header(payload, timestamp=now - 5).replace(f"t={now - 5}", f"t={now}")
        ),
    }
    for case, reply in refused.items():
        assert reply.status_code == 400, (case, reply.text)
        assert reply.json()["error"]["code"] == "invalid_signature", case
        assert reply.headers["Request-Id"].startswith("req_"), case
    assert (
        not firestore_client().collection("processed_events").document(f"stripe:{event['id']}").get().exists
    )
    assert balance("lee") == 0 and ledger("lee") == []
    assert purchase_doc(purchase_id).credits_granted is False
    not_json = "not json"
    assert events.post(not_json, generate_header(not_json)).status_code == 400
    # A signature from an older secret alongside a valid one verifies (Stripe signs with each secret).
    both = generate_header(
        payload, extra=[f"v1={generate_header(payload, secret='whsec_old').split('v1=')[1]}"]
    )
    assert events.post(payload, both).status_code == 200
    assert balance("lee") == 120


def test_other_mode_and_unknown_events_change_nothing(
    api: ApiClient, client: stripe.StripeClient, events: EventSender
) -> None:
    _, intent, _ = paid_purchase_without_grant(api, client, "max")
    live = make_event("payment_intent.succeeded", intent, livemode=True)
    reply = events.send(live)
    assert reply.status_code == 200 and reply.json()["ignored"] == "livemode"
    unknown = events.send(make_event("invoice.paid", {"id": "in_1", "object": "invoice"}))
    assert unknown.status_code == 200 and unknown.json()["ignored"] == "event_type"
    assert balance("max") == 0 and ledger("max") == []
    assert requests.get(events.url, timeout=10).status_code == 405


def test_a_refund_leaving_one_cent_takes_every_credit_and_the_last_cent_marks_refunded(
    api: ApiClient, client: stripe.StripeClient, events: EventSender
) -> None:
    purchase_id, intent, _ = paid_purchase_without_grant(api, client, "ned")
    assert events.send(make_event("payment_intent.succeeded", intent)).status_code == 200
    client.v1.refunds.create(params={"payment_intent": intent["id"], "amount": 999})
    nearly = charge_of(client, intent)
    assert events.send(make_event("charge.refunded", nearly)).status_code == 200
    assert balance("ned") == 0  # floor(120 x 1 / 1000): no credit without the funds for it
    assert purchase_doc(purchase_id).status == "succeeded"  # 1 cent is still paid
    client.v1.refunds.create(params={"payment_intent": intent["id"], "amount": 1})
    full = make_event("charge.refunded", charge_of(client, intent))
    assert events.send(full).status_code == 200
    assert events.send(full).json().get("duplicate") is True
    assert purchase_doc(purchase_id).status == "refunded"
    assert balance("ned") == 0
    assert [e["amount"] for e in ledger("ned")] == [120, -120]
