"""The rest of Stripe's lifecycle on the real stack: disputes won and lost, refunds that fail or are canceled,
PaymentIntents canceled or waiting for 3-D Secure, deleted customers. Objects are shaped exactly like
Stripe's (tests/support/stripe_objects.py), signed as Stripe signs, sent duplicated and reordered; after
every scenario the ledger explains the balance and a second customer's balance has not moved."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
import stripe

from shared.core.clients import firestore_client
from tests.conftest import STRIPE_SECRET_KEY, Project
from tests.support import stripe_objects as so
from tests.support.job_workers import put_priced_types
from tests.support.jobs import held, post_job
from tests.support.platform import ApiClient, create_account, create_api_key
from tests.support.purchases import (
    balance,
    customer_of,
    entries,
    granted,
    ledger,
    paid_purchase_without_grant,
    purchase_doc,
    refunded_in_stripe,
    replay,
    send,
    starter_payment_intent,
)
from tests.support.purchases import check_money as check
from tests.support.stripe_events import EventSender, as_dict, make_event
from tests.support.stripe_flows import add_card, new_card
from tests.support.waiting import eventually

# --- disputes ----------------------------------------------------------------------------------------


def test_won_dispute_gives_the_credits_back_once(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    purchase_id, _, charge = granted(api, client, events, "ann")
    now = int(time.time())
    created = send(events, "charge.dispute.created", so.dispute(charge), now - 50)
    assert balance("ann") == 0 and purchase_doc(purchase_id).status == "disputed"
    check("ann", bystander)
    updated = send(events, "charge.dispute.updated", so.dispute(charge, "under_review"), now - 40)
    assert balance("ann") == 0 and entries("ann") == [("purchase", 120), ("dispute", -120)]
    won = so.dispute(charge, "won")
    reinstated = make_event("charge.dispute.funds_reinstated", won, created=now - 30)
    closed = make_event("charge.dispute.closed", won, created=now - 30)
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(events.send, [reinstated, closed] * 4))
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies]
    for event in (created, updated, reinstated, closed):
        replay(events, event)
    send(events, "charge.dispute.created", so.dispute(charge), now - 50)  # a late twin with its own id
    assert balance("ann") == 120
    assert entries("ann") == [("purchase", 120), ("dispute", -120), ("dispute_reversal", 120)]
    assert ledger("ann")[-1]["reference"] == purchase_id
    stored = purchase_doc(purchase_id)
    assert stored.status == "succeeded" and stored.credits_clawed_back == 0
    shown = api.request("GET", f"/v1/purchases/{purchase_id}", token=api.user_token("ann")).json()
    assert shown["dispute_status"] == "won" and shown["credits_clawed_back"] == 0
    check("ann", bystander)


def test_won_dispute_arriving_first_takes_nothing(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    """Reordered: closed (won) before created, before even the payment's own event."""
    purchase_id, intent, charge = paid_purchase_without_grant(api, client, "bea")
    charge = so.charge(charge)
    now = int(time.time())
    send(events, "charge.dispute.closed", so.dispute(charge, "won"), now - 10)
    send(events, "charge.dispute.funds_reinstated", so.dispute(charge, "won"), now - 10)
    send(events, "charge.dispute.updated", so.dispute(charge, "under_review"), now - 30)
    send(events, "charge.dispute.created", so.dispute(charge), now - 50)
    send(events, "payment_intent.succeeded", so.payment_intent(intent))
    assert entries("bea") == [("purchase", 120)] and balance("bea") == 120
    assert purchase_doc(purchase_id).status == "succeeded"
    check("bea", bystander)


def test_lost_dispute_leaves_a_debt_that_stops_live_jobs(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    put_priced_types(api, {"hold": 100, "free": 0})
    purchase_id, _, charge = granted(api, client, events, "cyd")
    _, key = create_api_key("cyd", "live")
    assert post_job(api, key, held("hold")).status_code == 201
    assert balance("cyd") == 20
    now = int(time.time())
    send(events, "charge.dispute.closed", so.dispute(charge, "lost"), now - 10)  # before created
    send(events, "charge.dispute.created", so.dispute(charge), now - 50)
    send(events, "charge.dispute.funds_withdrawn", so.dispute(charge), now - 45)
    send(events, "charge.dispute.updated", so.dispute(charge, "under_review"), now - 40)
    lost = send(events, "charge.dispute.closed", so.dispute(charge, "lost"), now - 10)
    replay(events, lost)
    assert balance("cyd") == -100  # the 100 credits spent are owed: shown, not hidden
    assert entries("cyd") == [("purchase", 120), ("job_debit", -100), ("dispute", -120)]
    assert purchase_doc(purchase_id).status == "disputed_lost"
    token = api.user_token("cyd")
    assert api.request("GET", "/v1/account", token=token).json()["credits"] == -100
    for job_type in ("hold", "free"):
        refused = post_job(api, key, held(job_type))
        assert refused.status_code == 402, refused.text
        assert refused.json()["error"]["code"] == "insufficient_credits"
    # A new purchase pays the debt back; live jobs run again.
    bought = api.request("POST", "/v1/purchases", token=token, json={"package": "starter"})
    assert bought.status_code == 201 and bought.json()["status"] == "succeeded", bought.text
    assert balance("cyd") == 20
    assert post_job(api, key, held("free")).status_code == 201
    check("cyd", bystander)


# --- refunds -----------------------------------------------------------------------------------------


def test_failed_refund_gives_its_credits_back_once(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    purchase_id, intent, _ = granted(api, client, events, "dee")
    now = int(time.time())
    refund, charge = refunded_in_stripe(client, intent, None, now - 60)
    assert charge["amount_refunded"] == 1000
    sent = [
        send(events, "charge.refunded", charge, now - 60),
        send(events, "refund.created", refund, now - 60),
    ]
    assert balance("dee") == 0 and purchase_doc(purchase_id).status == "refunded"
    check("dee", bystander)
    failed = so.refund(refund, status="failed")
    for event_type in ("refund.failed", "charge.refund.updated", "refund.updated"):
        sent.append(send(events, event_type, failed, now - 10))
    for event in sent:
        replay(events, event)
    send(events, "charge.refunded", charge, now - 60)  # a late twin: the failure still counts
    assert balance("dee") == 120
    assert entries("dee") == [("purchase", 120), ("clawback", -120), ("refund_reversal", 120)]
    shown = api.request("GET", f"/v1/purchases/{purchase_id}", token=api.user_token("dee")).json()
    assert shown["status"] == "succeeded" and shown["amount_refunded"] == 0
    assert shown["credits_clawed_back"] == 0
    check("dee", bystander)


def test_failed_refund_arriving_first(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    """Reordered: the failure, then the charge that still counts the refund, then the refund's creation,
    all before the payment's own event."""
    purchase_id, intent, _ = paid_purchase_without_grant(api, client, "eve")
    intent = so.payment_intent(intent)
    now = int(time.time())
    refund, charge = refunded_in_stripe(client, intent, None, now - 60)
    send(events, "refund.failed", so.refund(refund, status="failed"), now - 10)
    send(events, "charge.refunded", charge, now - 60)
    send(events, "refund.created", refund, now - 60)
    send(events, "payment_intent.succeeded", intent)
    assert entries("eve") == [("purchase", 120)] and balance("eve") == 120
    assert purchase_doc(purchase_id).status == "succeeded"
    check("eve", bystander)


def test_refund_and_its_failure_racing_settle_once(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    """The refund, its charge and its failure, each several times, all at once: the same end as in order."""
    _, intent, _ = granted(api, client, events, "ivo")
    now = int(time.time())
    refund, charge = refunded_in_stripe(client, intent, 700, now - 60)
    batch = [make_event("charge.refunded", charge, created=now - 60) for _ in range(4)]
    batch += [make_event("refund.created", refund, created=now - 60) for _ in range(4)]
    failed = so.refund(refund, status="failed")
    batch += [make_event(t, failed, created=now - 10) for t in ("refund.failed", "charge.refund.updated") * 3]
    with ThreadPoolExecutor(14) as pool:
        replies = list(pool.map(events.send, batch))
    assert all(r.status_code == 200 for r in replies), [r.text for r in replies if r.status_code != 200]
    assert balance("ivo") == 120
    taken = [amount for kind, amount in entries("ivo") if kind == "clawback"]
    given = [amount for kind, amount in entries("ivo") if kind == "refund_reversal"]
    assert sum(taken) + sum(given) == 0 and len(taken) <= 1 and len(given) <= 1
    check("ivo", bystander)


def test_a_charges_amount_refunded_is_a_sum_and_the_refunds_own_status_decides(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    """charge.updated showing amount_refunded 0 while Stripe still has the refund succeeded changes
    nothing (the platform asks Stripe for the charge's refunds); the refund's own failure gives back."""
    _, intent, _ = granted(api, client, events, "fox")
    now = int(time.time())
    refund, charge = refunded_in_stripe(client, intent, 500, now - 60)
    refunded = send(events, "charge.refunded", charge, now - 60)
    assert balance("fox") == 60
    send(events, "charge.updated", {**charge, "amount_refunded": 0, "refunded": False}, now - 5)
    assert balance("fox") == 60
    send(events, "refund.failed", so.refund(refund, status="failed"), now - 5)
    replay(events, refunded)
    send(events, "charge.refunded", charge, now - 60)  # a late twin: the failure still counts
    assert balance("fox") == 120
    assert entries("fox") == [("purchase", 120), ("clawback", -60), ("refund_reversal", 60)]
    check("fox", bystander)


def test_canceled_partial_refund_gives_back_and_credits_round_down_with_the_funds(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    purchase_id, intent, _ = granted(api, client, events, "gil")
    now = int(time.time())
    _, charge = refunded_in_stripe(client, intent, 300, now - 60)
    send(events, "charge.refunded", charge, now - 60)
    assert balance("gil") == 120 - 36  # 120 x 300 / 1000
    second, charge = refunded_in_stripe(client, intent, 9, now - 50)
    send(events, "refund.created", so.refund(second, status="pending"), now - 50)
    send(events, "charge.refunded", charge, now - 50)
    assert balance("gil") == 82  # floor(120 x 691 / 1000 = 82.92)
    canceled = send(events, "refund.updated", so.refund(second, status="canceled"), now - 20)
    send(events, "refund.updated", so.refund(second, status="pending"), now - 30)  # older: changes nothing
    replay(events, canceled)
    assert balance("gil") == 120 - 36
    assert entries("gil") == [("purchase", 120), ("clawback", -36), ("clawback", -2), ("refund_reversal", 2)]
    assert purchase_doc(purchase_id).status == "succeeded"
    check("gil", bystander)


# --- PaymentIntents ----------------------------------------------------------------------------------


def _unpaid_purchase(api: ApiClient, client: stripe.StripeClient, user_id: str) -> tuple[str, dict[str, Any]]:
    """A purchase whose PaymentIntent exists in Stripe but is not paid (not confirmed)."""
    from shared.models import Purchase, utc_now

    create_account(user_id)
    card = add_card(api, api.user_token(user_id), client)
    purchase_id = f"pur_{user_id}{int(time.time() * 1000)}"
    local = starter_payment_intent(client, user_id, card["payment_method_id"], purchase_id, pay=False)
    purchase = Purchase(
        user_id=user_id,
        package="starter",
        credits=120,
        amount=1000,
        status="processing",
        payment_intent_id=local["id"],
        payment_method_id=card["payment_method_id"],
        created_at=utc_now(),
    )
    firestore_client().collection("purchases").document(purchase_id).set(purchase.to_firestore())
    return purchase_id, so.payment_intent(local, status="requires_confirmation")


def test_payment_intent_states_show_on_the_purchase(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    purchase_id, intent = _unpaid_purchase(api, client, "hoy")
    token = api.user_token("hoy")
    now = int(time.time())

    def shown() -> dict[str, Any]:
        reply = api.request("GET", f"/v1/purchases/{purchase_id}", token=token)
        assert reply.status_code == 200, reply.text
        return dict(reply.json())

    action = send(events, "payment_intent.requires_action", so.three_d_secure(intent), now - 50)
    replay(events, action)
    seen = shown()
    assert seen["status"] == "requires_action" and seen["credits_granted"] is False
    assert seen["next_action"]["type"] == "redirect_to_url"
    assert seen["next_action"]["redirect_url"].endswith(intent["id"])
    assert seen["next_action"]["client_secret"] == intent["client_secret"]
    send(events, "payment_intent.processing", {**intent, "status": "processing"}, now - 40)
    send(events, "payment_intent.requires_action", so.three_d_secure(intent), now - 45)  # older
    assert shown()["status"] == "processing" and shown()["next_action"] is None
    canceled = {**intent, "status": "canceled", "canceled_at": now - 30, "cancellation_reason": "abandoned"}
    send(events, "payment_intent.canceled", canceled, now - 30)
    send(events, "payment_intent.requires_action", so.three_d_secure(intent), now - 20)  # never reopens
    send(events, "payment_intent.payment_failed", {**intent, "status": "requires_payment_method"}, now - 20)
    assert shown()["status"] == "canceled" and balance("hoy") == 0 and ledger("hoy") == []
    check("hoy", bystander)
    # Only proof of payment grants after a cancellation.
    paid = {
        **intent,
        "status": "succeeded",
        "amount_received": 1000,
        "latest_charge": "ch_" + intent["id"][3:],
    }
    send(events, "payment_intent.succeeded", paid, now - 10)
    assert shown()["status"] == "succeeded" and balance("hoy") == 120
    check("hoy", bystander)


@pytest.mark.usefixtures("localstripe_webhook")
def test_three_d_secure_purchase_shows_next_action_until_authenticated(
    api: ApiClient, project: Project, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    """A card that needs 3-D Secure (localstripe knows Stripe's test numbers): the purchase waits in
    requires_action with what the dashboard must do; once the customer authenticates, localstripe's own
    payment_intent.succeeded grants the credits."""
    create_account("kai")
    token = api.user_token("kai")
    add_card(api, token, client)
    secure = new_card(client, "4000002760003184")
    client.v1.payment_methods.attach(secure, params={"customer": customer_of("kai")})
    send(events, "payment_method.attached", as_dict(client.v1.payment_methods.retrieve(secure)))
    body = {"package": "starter", "payment_method_id": secure}
    bought = api.request("POST", "/v1/purchases", token=token, json=body)
    assert bought.status_code == 201, bought.text
    purchase = bought.json()
    assert purchase["status"] == "requires_action" and purchase["credits_granted"] is False
    action = purchase["next_action"]
    assert action["type"] == "use_stripe_sdk" and action["client_secret"].startswith(
        purchase["payment_intent_id"]
    )
    assert balance("kai") == 0
    authenticated = requests.post(
        f"{project.stack.stripe_api_base}/v1/payment_intents/{purchase['payment_intent_id']}/_authenticate",
        data={"client_secret": action["client_secret"], "success": "true"},
        auth=(STRIPE_SECRET_KEY, ""),
        timeout=30,
    )
    assert authenticated.status_code == 200, authenticated.text
    eventually(lambda: balance("kai") == 120, message="localstripe's payment_intent.succeeded applied")
    shown = api.request("GET", f"/v1/purchases/{purchase['purchase_id']}", token=token).json()
    assert shown["status"] == "succeeded" and shown["next_action"] is None
    check("kai", bystander)


# --- customers ---------------------------------------------------------------------------------------


def test_deleted_customer_loses_cards_and_the_next_purchase_makes_a_fresh_one(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    create_account("ida")
    token = api.user_token("ida")
    card = add_card(api, token, client)
    old_customer = customer_of("ida")
    snapshot = so.customer(as_dict(client.v1.customers.retrieve(old_customer)))
    client.v1.customers.delete(old_customer)
    deleted = send(events, "customer.deleted", snapshot)
    replay(events, deleted)
    assert api.request("GET", "/v1/payment_methods", token=token).json()["data"] == []
    account = firestore_client().collection("users").document("ida").get().to_dict() or {}
    assert account.get("stripe_customer_id") is None
    assert (
        firestore_client()
        .collection("detached_payment_methods")
        .document(card["payment_method_id"])
        .get()
        .exists
    )
    # Late events about the deleted customer's card change nothing.
    send(events, "customer.updated", snapshot)
    add_card(api, token, client)
    assert customer_of("ida") != old_customer
    bought = api.request("POST", "/v1/purchases", token=token, json={"package": "starter"})
    assert bought.status_code == 201 and bought.json()["status"] == "succeeded", bought.text
    assert balance("ida") == 120
    zed_cards = api.request("GET", "/v1/payment_methods", token=api.user_token("zed")).json()["data"]
    assert len(zed_cards) == 1
    check("ida", bystander)


# --- not ours / not yet ------------------------------------------------------------------------------


def test_foreign_objects_answer_2xx_and_unappliable_events_5xx(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    foreign_charge = so.charge(
        {"id": "ch_3OtherProduct0000000001", "amount": 1000, "payment_intent": "pi_3OtherProduct00000001"}
    )
    foreign = [
        ("charge.dispute.created", so.dispute({**foreign_charge, "payment_intent": None})),
        ("charge.dispute.closed", so.dispute(foreign_charge, "won")),
        (
            "refund.failed",
            so.refund(
                {
                    "id": "re_3OtherProduct000001",
                    "amount": 500,
                    "charge": foreign_charge["id"],
                    "payment_intent": foreign_charge["payment_intent"],
                },
                status="failed",
            ),
        ),
        ("charge.updated", foreign_charge),
        (
            "payment_intent.canceled",
            so.payment_intent({"id": "pi_3OtherProduct00000002", "amount": 500}, status="canceled"),
        ),
        (
            "payment_intent.requires_action",
            so.three_d_secure(so.payment_intent({"id": "pi_3OtherProduct00000003", "amount": 500})),
        ),
        ("customer.deleted", so.customer({"id": "cus_OtherProduct0001"})),
    ]
    for event_type, obj in foreign:
        send(events, event_type, obj)
    check("zed", bystander)
    # A refund for a purchase whose account is gone cannot be applied yet: 5xx, and Stripe's retry applies.
    purchase_id, intent, _ = paid_purchase_without_grant(api, client, "jay")
    refund, _ = refunded_in_stripe(client, so.payment_intent(intent), None, int(time.time()))
    firestore_client().collection("users").document("jay").delete()
    event = make_event("refund.created", refund)
    assert events.send(event).status_code >= 500
    create_account("jay")
    assert events.send(event).status_code == 200
    assert entries("jay") == [("purchase", 120), ("clawback", -120)]
    assert purchase_doc(purchase_id).status == "refunded"
    check("jay", bystander)


@pytest.mark.usefixtures("localstripe_webhook")
def test_customer_deleted_by_localstripes_own_event(
    api: ApiClient, client: stripe.StripeClient, bystander: str
) -> None:
    """As on `make dev`: deleting the customer in Stripe, its own customer.deleted unlinks it here."""
    create_account("lou")
    token = api.user_token("lou")
    add_card(api, token, client)
    old_customer = customer_of("lou")
    client.v1.customers.delete(old_customer)
    eventually(
        lambda: (
            (firestore_client().collection("users").document("lou").get().to_dict() or {}).get(
                "stripe_customer_id"
            )
            is None
        ),
        message="localstripe's customer.deleted applied",
    )
    assert api.request("GET", "/v1/payment_methods", token=token).json()["data"] == []
    add_card(api, token, client)
    assert customer_of("lou") != old_customer
    check("lou", bystander)
