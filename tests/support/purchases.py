"""Purchases as the tests need them: paid in Stripe (localstripe) with or without the platform's own grant,
and the ledger checks every money test ends with."""

from __future__ import annotations

import time
from typing import Any

import stripe
from stripe.params import PaymentIntentCreateParams

from shared.core.clients import firestore_client
from shared.models import Purchase, utc_now
from tests.support import stripe_objects as so
from tests.support.platform import ApiClient, create_account
from tests.support.stripe_events import EventSender, as_dict, make_event
from tests.support.stripe_flows import add_card


def balance(user_id: str) -> int:
    return int((firestore_client().collection("users").document(user_id).get().to_dict() or {})["credits"])


def ledger(user_id: str) -> list[dict[str, Any]]:
    entries = [d.to_dict() or {} for d in firestore_client().collection("credit_ledger").stream()]
    return sorted((e for e in entries if e["user_id"] == user_id), key=lambda e: e["created_at"])


def purchase_doc(purchase_id: str) -> Purchase:
    return Purchase.from_firestore(
        firestore_client().collection("purchases").document(purchase_id).get().to_dict()
    )


def customer_of(user_id: str) -> str:
    return str(
        (firestore_client().collection("users").document(user_id).get().to_dict() or {})["stripe_customer_id"]
    )


def starter_payment_intent(
    client: stripe.StripeClient, user_id: str, payment_method_id: str, purchase_id: str, *, pay: bool
) -> dict[str, Any]:
    """The PaymentIntent of a starter purchase as POST /v1/purchases makes it (its metadata names the
    purchase): confirmed off-session when `pay`, left unconfirmed otherwise."""
    params: PaymentIntentCreateParams = {
        "amount": 1000,
        "currency": "usd",
        "customer": customer_of(user_id),
        "payment_method": payment_method_id,
        "metadata": {"purchase_id": purchase_id, "user_id": user_id},
    }
    if pay:
        params["confirm"] = True
        params["off_session"] = True
    return as_dict(client.v1.payment_intents.create(params=params))


def paid_purchase_without_grant(
    api: ApiClient, client: stripe.StripeClient, user_id: str
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A purchase paid in Stripe whose events have not arrived yet: the document and PaymentIntent are made
    the way POST /v1/purchases makes them, minus its own immediate grant. Returns (id, intent, charge)."""
    create_account(user_id)
    card = add_card(api, api.user_token(user_id), client)
    purchase_id = f"pur_{user_id}{int(time.time() * 1000)}"
    purchase = Purchase(
        user_id=user_id,
        package="starter",
        credits=120,
        amount=1000,
        payment_method_id=card["payment_method_id"],
        created_at=utc_now(),
    )
    firestore_client().collection("purchases").document(purchase_id).set(purchase.to_firestore())
    intent = starter_payment_intent(client, user_id, card["payment_method_id"], purchase_id, pay=True)
    assert intent["status"] == "succeeded"
    return purchase_id, intent, charge_of(client, intent)


def charge_of(client: stripe.StripeClient, intent: dict[str, Any]) -> dict[str, Any]:
    latest = intent["latest_charge"]  # localstripe expands it; Stripe gives the id
    return as_dict(client.v1.charges.retrieve(latest["id"] if isinstance(latest, dict) else latest))


def assert_ledger_explains(user_id: str) -> None:
    """balance == sum of the ledger, and each entry's balance_after follows from the one before."""
    entries = ledger(user_id)
    running = 0
    for entry in entries:
        running += entry["amount"]
        assert entry["balance_after"] == running, entries
    assert balance(user_id) == running, (balance(user_id), entries)


def send(
    events: EventSender, event_type: str, obj: dict[str, Any], created: int | None = None
) -> dict[str, Any]:
    """Sign and post one Stripe event; it must be applied (200)."""
    event = make_event(event_type, obj, created=created)
    reply = events.send(event)
    assert reply.status_code == 200, (event_type, reply.text)
    return event


def replay(events: EventSender, event: dict[str, Any]) -> None:
    reply = events.send(event)
    assert reply.status_code == 200 and reply.json().get("duplicate") is True, reply.text


def entries(user_id: str) -> list[tuple[str, int]]:
    return [(e["type"], e["amount"]) for e in ledger(user_id)]


def granted(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, user_id: str
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A starter purchase paid and granted (120 credits): (id, PaymentIntent, Charge) in Stripe's shape."""
    purchase_id, intent, charge = paid_purchase_without_grant(api, client, user_id)
    send(events, "payment_intent.succeeded", so.payment_intent(intent))
    assert balance(user_id) == 120
    return purchase_id, so.payment_intent(intent), so.charge(charge)


def check_money(user_id: str, bystander: str) -> None:
    """The ledger explains both customers' balances and the bystander's 120 credits never moved."""
    assert_ledger_explains(user_id)
    assert_ledger_explains(bystander)
    assert balance(bystander) == 120


def refunded_in_stripe(
    client: stripe.StripeClient, intent: dict[str, Any], amount: int | None, at: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Refund in localstripe; returns (Refund, Charge) in Stripe's shape, the refund created at `at`."""
    params: dict[str, Any] = {"payment_intent": intent["id"]}
    if amount is not None:
        params["amount"] = amount
    local = as_dict(client.v1.refunds.create(params=params))  # type: ignore[arg-type]
    refund = so.refund({**local, "payment_intent": intent["id"]}, created=at, status="succeeded")
    return refund, so.charge(charge_of(client, intent))
