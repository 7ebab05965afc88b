"""Cards, customers and purchases where an ordering or a failure used to lose or duplicate money: a late
setup_intent.succeeded for a removed card, two first cards at once, a grant that only an event made, a
purchase taken over after its creator died, a customer deleted in Stripe, events that arrive before the
customer is mapped, and a purchase retried after a 502. Real localstripe and emulators; a second customer
(the bystander fixture) is present in each and keeps what she has."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import stripe

from shared.core.clients import firestore_client
from shared.models import Purchase, StripeCustomer, utc_now
from tests.support.concurrency import run_concurrently
from tests.support.platform import ApiClient, create_account
from tests.support.purchases import (
    assert_ledger_explains,
    balance,
    customer_of,
    ledger,
    paid_purchase_without_grant,
    purchase_doc,
    starter_payment_intent,
)
from tests.support.stripe_events import EventSender, as_dict, make_event
from tests.support.stripe_flows import add_card, new_card


def untouched(api: ApiClient, bystander: str) -> None:
    """The second customer (the bystander fixture) keeps her 120 credits and her one card, still default."""
    assert balance(bystander) == 120
    assert_ledger_explains(bystander)
    [card] = api.request("GET", "/v1/payment_methods", token=api.user_token(bystander)).json()["data"]
    assert card["is_default"] is True and card["payment_method_id"]


def stripe_default(client: stripe.StripeClient, customer_id: str) -> str | None:
    customer = as_dict(client.v1.customers.retrieve(customer_id))
    default = (customer.get("invoice_settings") or {}).get("default_payment_method")
    return default if isinstance(default, str) or default is None else str(default["id"])


def intents_of(client: stripe.StripeClient, purchase_id: str) -> list[dict[str, Any]]:
    return [
        intent
        for intent in map(as_dict, client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter())
        if (intent.get("metadata") or {}).get("purchase_id") == purchase_id
    ]


# --- 22.4: a late setup_intent.succeeded for a removed card ------------------------------------------


def test_late_setup_intent_succeeded_for_a_removed_card_touches_nothing_in_stripe(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    create_account("alice")
    token = api.user_token("alice")
    card = add_card(api, token, client)
    intent = as_dict(client.v1.setup_intents.retrieve(card["setup_intent_id"]))
    removed = api.request("DELETE", f"/v1/payment_methods/{card['payment_method_id']}", token=token)
    assert removed.status_code == 200
    assert client.v1.payment_methods.retrieve(card["payment_method_id"]).customer is None

    late = events.send(make_event("setup_intent.succeeded", intent, created=int(time.time()) - 30))
    assert late.status_code == 200, late.text
    # Stripe never re-attaches a detached card; the platform must not either (real Stripe would refuse,
    # and a 5xx would have Stripe retry for three days).
    assert client.v1.payment_methods.retrieve(card["payment_method_id"]).customer is None
    assert api.request("GET", "/v1/payment_methods", token=token).json()["data"] == []
    untouched(api, bystander)


# --- 22.5: two first cards at once ------------------------------------------------------------------


def test_two_first_cards_at_once_leave_exactly_stripes_default(
    api: ApiClient, client: stripe.StripeClient, bystander: str
) -> None:
    users = [f"pair{i}" for i in range(4)]
    intents: dict[str, list[str]] = {}
    for user_id in users:
        create_account(user_id)
        token = api.user_token(user_id)
        intents[user_id] = []
        for _ in range(2):
            created = api.request("POST", "/v1/payment_methods/setup_intent", token=token)
            assert created.status_code == 201, created.text
            setup_intent_id = created.json()["setup_intent_id"]
            client.v1.setup_intents.confirm(setup_intent_id, params={"payment_method": new_card(client)})
            intents[user_id].append(setup_intent_id)
    jobs = [(user_id, seti) for user_id in users for seti in intents[user_id]]

    def register(i: int) -> int:
        user_id, seti = jobs[i]
        reply = api.request(
            "POST", "/v1/payment_methods", token=api.user_token(user_id), json={"setup_intent_id": seti}
        )
        return reply.status_code

    assert run_concurrently(register, len(jobs)) == [201] * len(jobs)
    for user_id in users:
        token = api.user_token(user_id)
        cards = api.request("GET", "/v1/payment_methods", token=token).json()["data"]
        defaults = [c["payment_method_id"] for c in cards if c["is_default"]]
        in_stripe = stripe_default(client, customer_of(user_id))
        assert len(cards) == 2 and defaults == [in_stripe], (user_id, cards, in_stripe)
        bought = api.request("POST", "/v1/purchases", token=token, json={"package": "starter"})
        assert bought.status_code == 201, bought.text
        charged = as_dict(client.v1.payment_intents.retrieve(bought.json()["payment_intent_id"]))
        assert charged["payment_method"] == in_stripe == bought.json()["payment_method_id"]
    untouched(api, bystander)


# --- 22.6: a purchase granted only through the webhook --------------------------------------------------


def test_a_grant_made_by_an_event_records_the_payment_intent(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    by_intent, intent, _ = paid_purchase_without_grant(api, client, "alice")
    assert purchase_doc(by_intent).payment_intent_id is None  # the API call died after Stripe answered
    assert events.send(make_event("payment_intent.succeeded", intent)).status_code == 200
    assert purchase_doc(by_intent).credits_granted is True
    assert purchase_doc(by_intent).payment_intent_id == intent["id"]

    by_charge, carol_intent, charge = paid_purchase_without_grant(api, client, "carol")
    assert events.send(make_event("charge.succeeded", charge)).status_code == 200
    assert purchase_doc(by_charge).credits_granted is True
    assert purchase_doc(by_charge).payment_intent_id == carol_intent["id"]
    shown = api.request("GET", f"/v1/purchases/{by_charge}", token=api.user_token("carol")).json()
    assert shown["payment_intent_id"] == carol_intent["id"]
    assert balance("alice") == balance("carol") == 120
    untouched(api, bystander)


# --- 22.7: a purchase taken over never gets a second PaymentIntent ------------------------------------


def _dead_purchase(user_id: str, key: str, card_id: str, **fields: Any) -> str:
    """The purchase a POST /v1/purchases with `key` left behind when it died two minutes ago."""
    from shared.billing.purchases import purchase_id_for, request_hash

    purchase_id = purchase_id_for(user_id, key)
    long_ago = utc_now() - timedelta(minutes=2)
    purchase = Purchase(
        user_id=user_id,
        package="starter",
        credits=120,
        amount=1000,
        payment_method_id=card_id,
        idempotency_key=key,
        request_hash=request_hash("starter", None),
        created_at=long_ago,
        updated_at=long_ago,
        **fields,
    )
    firestore_client().collection("purchases").document(purchase_id).set(purchase.to_firestore())
    return purchase_id


def test_a_purchase_whose_creator_died_is_charged_once_through_its_recorded_payment_intent(
    api: ApiClient, client: stripe.StripeClient, bystander: str
) -> None:
    create_account("alice")
    token = api.user_token("alice")
    card = add_card(api, token, client)
    key = "buy-after-a-crash"
    # The creator recorded its PaymentIntent and died before confirming it (a day later Stripe has
    # forgotten the idempotency key): the takeover confirms that one, never a new one.
    pending = _dead_purchase("alice", key, card["payment_method_id"])
    intent = starter_payment_intent(client, "alice", card["payment_method_id"], pending, pay=False)
    assert intent["status"] == "requires_confirmation"
    firestore_client().collection("purchases").document(pending).update({"payment_intent_id": intent["id"]})

    replay = api.request(
        "POST", "/v1/purchases", token=token, json={"package": "starter"}, headers={"Idempotency-Key": key}
    )
    assert replay.status_code == 200, replay.text
    assert replay.json()["payment_intent_id"] == intent["id"] and replay.json()["credits_granted"] is True
    assert [i["id"] for i in intents_of(client, pending)] == [intent["id"]]
    assert as_dict(client.v1.payment_intents.retrieve(intent["id"]))["status"] == "succeeded"
    again = api.request(
        "POST", "/v1/purchases", token=token, json={"package": "starter"}, headers={"Idempotency-Key": key}
    )
    assert again.status_code == 200 and again.json()["payment_intent_id"] == intent["id"]
    assert balance("alice") == 120 and [e["amount"] for e in ledger("alice")] == [120]
    untouched(api, bystander)


def test_a_new_purchase_records_its_payment_intent_before_charging(
    api: ApiClient, client: stripe.StripeClient, bystander: str
) -> None:
    create_account("alice")
    token = api.user_token("alice")
    add_card(api, token, client)
    bought = api.request("POST", "/v1/purchases", token=token, json={"package": "starter"})
    assert bought.status_code == 201 and bought.json()["credits_granted"] is True, bought.text
    [intent] = intents_of(client, bought.json()["purchase_id"])
    assert intent["id"] == bought.json()["payment_intent_id"] and intent["status"] == "succeeded"
    untouched(api, bystander)


# --- 22.8: customers: no full scan, a deleted one never comes back --------------------------------------


class RecordingHttpClient(stripe.RequestsClient):
    """The SDK's own HTTP client, noting each request's method, path and Idempotency-Key on the way."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str, str | None]] = []

    def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:  # type: ignore[override]
        from urllib.parse import urlsplit

        self.seen.append((method.upper(), urlsplit(url).path, (headers or {}).get("Idempotency-Key")))
        return super().request(method, url, headers, post_data)


def _recording_stripe(monkeypatch: Any) -> RecordingHttpClient:
    """In this process, the platform's Stripe client (same key, same localstripe) with a recording client."""
    from shared.billing import stripe_client as module
    from shared.core.settings import get_settings

    settings = get_settings()
    recorder = RecordingHttpClient()
    base: Any = {"api": settings.stripe_api_base}
    client = stripe.StripeClient(settings.stripe_secret_key, base_addresses=base, http_client=recorder)
    monkeypatch.setitem(module._clients, (settings.stripe_secret_key, settings.stripe_api_base), client)
    return recorder


def test_customers_are_found_by_mapping_and_a_deleted_one_is_never_reused(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, monkeypatch: Any, bystander: str
) -> None:
    from shared.billing.customers import ensure_customer

    recorder = _recording_stripe(monkeypatch)
    create_account("alice")
    first = ensure_customer("alice")
    creations = [r for r in recorder.seen if r[:2] == ("POST", "/v1/customers")]
    assert len(creations) == 1 and creations[0][2]
    assert not [r for r in recorder.seen if r[:2] == ("GET", "/v1/customers")]  # never a list of all
    assert ensure_customer("alice") == first

    deleted = as_dict(client.v1.customers.retrieve(first))
    client.v1.customers.delete(first)
    assert events.send(make_event("customer.deleted", {**deleted, "deleted": True})).status_code == 200
    recorder.seen.clear()
    second = ensure_customer("alice")
    assert second != first
    [creation] = [r for r in recorder.seen if r[:2] == ("POST", "/v1/customers")]
    # Within Stripe's 24 hours a reused key would answer the deleted customer again.
    assert creation[2] and creation[2] != creations[0][2]
    assert not [r for r in recorder.seen if r[:2] == ("GET", "/v1/customers")]

    # A claim whose owner died before recording its customer: the takeover sends the dead owner's key
    # (Stripe answers the customer it made, within 24 hours) and lists nothing.
    create_account("dora")
    claims = firestore_client().collection("stripe_customer_claims")
    claims.document("dora").set({"claim_id": "deadowner0001", "created_at": utc_now() - timedelta(minutes=5)})
    recorder.seen.clear()
    ensure_customer("dora")
    [taken_over] = [r for r in recorder.seen if r[:2] == ("POST", "/v1/customers")]
    assert taken_over[2] is not None and taken_over[2].endswith("deadowner0001")
    assert not [r for r in recorder.seen if r[:2] == ("GET", "/v1/customers")]
    untouched(api, bystander)


# --- 22.9: events that arrive before the customer is mapped -----------------------------------------------


def test_card_events_before_the_customer_is_mapped_are_redelivered_until_they_apply(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    from shared.billing.customers import customer_metadata

    create_account("alice")
    # The customer exists in Stripe (made by the request that holds the claim), not yet recorded here.
    customer_id = str(client.v1.customers.create(params={"metadata": customer_metadata("alice")}).id)
    pm = as_dict(client.v1.payment_methods.attach(new_card(client), params={"customer": customer_id}))
    early = make_event("payment_method.attached", pm)
    first = events.send(early)
    assert first.status_code >= 500, first.text  # not yet: Stripe delivers it again later

    now = utc_now()
    firestore_client().collection(StripeCustomer.collection).document(customer_id).set(
        StripeCustomer(user_id="alice", created_at=now).to_firestore()
    )
    firestore_client().collection("users").document("alice").update({"stripe_customer_id": customer_id})
    redelivered = events.send(early)
    assert redelivered.status_code == 200 and not redelivered.json().get("duplicate"), redelivered.text
    cards = api.request("GET", "/v1/payment_methods", token=api.user_token("alice")).json()["data"]
    assert [c["payment_method_id"] for c in cards] == [pm["id"]]

    # Not ours (another project's customer): 200 at once, nothing recorded. And an event for a customer
    # that never got mapped stops asking for redelivery once it is old (bounded).
    foreign = str(
        client.v1.customers.create(params={"metadata": {"user_id": "alice", "platform_project": "other"}}).id
    )
    foreign_pm = as_dict(client.v1.payment_methods.attach(new_card(client), params={"customer": foreign}))
    assert events.send(make_event("payment_method.attached", foreign_pm)).status_code == 200
    create_account("erin")
    orphan = str(client.v1.customers.create(params={"metadata": customer_metadata("erin")}).id)
    orphan_pm = as_dict(client.v1.payment_methods.attach(new_card(client), params={"customer": orphan}))
    assert events.send(make_event("payment_method.attached", orphan_pm)).status_code >= 500
    old = make_event("payment_method.attached", orphan_pm, created=int(time.time()) - 4 * 86400)
    assert events.send(old).status_code == 200
    assert api.request("GET", "/v1/payment_methods", token=api.user_token("erin")).json()["data"] == []
    untouched(api, bystander)


# --- 23.4: purchases after a 502, a customer Stripe lost, Stripe's 4xx -------------------------------------


def test_a_purchase_retried_after_a_502_is_taken_over_at_once(
    api: ApiClient, client: stripe.StripeClient, monkeypatch: Any, bystander: str
) -> None:
    from localdev.emulators import free_port
    from shared.billing.purchases import create_purchase
    from shared.core.errors import ApiError
    from shared.core.settings import get_settings

    create_account("alice")
    token = api.user_token("alice")
    add_card(api, token, client)
    customer_of("alice")
    # Stripe unreachable for this one request (nothing listens on the port): 502, the purchase pending.
    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    try:
        create_purchase("alice", "starter", None, "buy-after-502")
        raise AssertionError("the purchase should have answered 502")
    except ApiError as exc:
        assert exc.status == 502 and exc.headers.get("Retry-After") == "5"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    retried = api.request(
        "POST",
        "/v1/purchases",
        token=token,
        json={"package": "starter"},
        headers={"Idempotency-Key": "buy-after-502"},
    )
    assert retried.status_code == 200, retried.text  # the same purchase, taken over without waiting
    assert retried.json()["credits_granted"] is True
    assert len(intents_of(client, retried.json()["purchase_id"])) == 1
    assert balance("alice") == 120
    untouched(api, bystander)


def test_a_customer_stripe_no_longer_knows_is_replaced_once(
    api: ApiClient, client: stripe.StripeClient, bystander: str
) -> None:
    create_account("alice")
    token = api.user_token("alice")
    add_card(api, token, client)
    lost = customer_of("alice")
    client.v1.customers.delete(lost)  # deleted in Stripe; its customer.deleted event never arrived

    bought = api.request("POST", "/v1/purchases", token=token, json={"package": "starter"})
    assert bought.status_code == 201 and bought.json()["status"] == "failed", bought.text
    # The lost customer is forgotten with its cards: adding a card makes a new customer and works.
    card = add_card(api, token, client)
    assert customer_of("alice") != lost and card["is_default"] is True
    listed = api.request("GET", "/v1/payment_methods", token=token).json()["data"]
    assert [c["payment_method_id"] for c in listed] == [card["payment_method_id"]]
    again = api.request("POST", "/v1/purchases", token=token, json={"package": "starter"})
    assert again.status_code == 201 and again.json()["credits_granted"] is True, again.text
    assert balance("alice") == 120
    untouched(api, bystander)


def test_stripe_rejections_are_4xx_with_stripes_code(
    api: ApiClient, client: stripe.StripeClient, bystander: str
) -> None:
    create_account("alice")
    token = api.user_token("alice")
    card = add_card(api, token, client)
    client.v1.customers.delete(customer_of("alice"))  # Stripe now refuses any change to it
    refused = api.request("POST", f"/v1/payment_methods/{card['payment_method_id']}/default", token=token)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "stripe_rejected" and error["stripe_code"] == "resource_missing"
    untouched(api, bystander)
