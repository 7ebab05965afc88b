"""Credits follow the funds, on the real stack: a purchase keeps floor(credits x net kept / amount paid),
whatever Stripe's dispute and refund events say in which order (docs/stripe.md). Each scenario is one
that an earlier reading of the events got wrong: a lost dispute counted as won, inquiries taking credits,
a second dispute after a closed inquiry ignored, a refund failing within the same second never given
back. A second customer's balance never moves."""

from __future__ import annotations

import itertools
import time

import pytest
import stripe

from tests.support import stripe_objects as so
from tests.support.platform import ApiClient
from tests.support.purchases import balance, granted, ledger, purchase_doc, refunded_in_stripe, send
from tests.support.purchases import check_money as check
from tests.support.stripe_events import EventSender


def test_lost_dispute_after_a_partial_refund_gives_nothing_back_when_funds_are_reinstated(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    """$3 of $10 refunded, the cardholder disputes the $10 and the platform loses: Stripe reinstates the
    $3 it had already refunded (funds_reinstated, status lost). Net kept: 1000 - 300 - 1000 + 300 = 0."""
    purchase_id, intent, charge = granted(api, client, events, "ann")
    now = int(time.time())
    refund = refunded_in_stripe(client, intent, 300, now - 100)[0]
    send(events, "refund.created", refund, now - 100)
    assert balance("ann") == 84  # floor(120 x 700 / 1000)
    withdrawal = so.dispute_funds(charge, -1000, "w")
    send(events, "charge.dispute.created", so.dispute(charge, balance_transactions=[withdrawal]), now - 90)
    assert balance("ann") == 0
    lost = so.dispute(charge, "lost", balance_transactions=[withdrawal, so.dispute_funds(charge, 300, "r")])
    send(events, "charge.dispute.funds_reinstated", lost, now - 10)
    assert balance("ann") == 0
    send(events, "charge.dispute.closed", lost, now - 10)
    assert balance("ann") == 0
    assert purchase_doc(purchase_id).status == "disputed_lost"
    check("ann", bystander)


def test_won_dispute_after_a_partial_refund_gives_back_what_the_refund_left(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    purchase_id, intent, charge = granted(api, client, events, "bob")
    now = int(time.time())
    send(events, "refund.created", refunded_in_stripe(client, intent, 300, now - 100)[0], now - 100)
    withdrawal = so.dispute_funds(charge, -1000, "w")
    won = so.dispute(
        charge,
        "won",
        balance_transactions=[
            withdrawal,
            so.dispute_funds(charge, 300, "r1"),
            so.dispute_funds(charge, 700, "r2"),
        ],
    )
    send(events, "charge.dispute.closed", won, now - 10)  # before the dispute's creation
    send(events, "charge.dispute.created", so.dispute(charge, balance_transactions=[withdrawal]), now - 90)
    assert balance("bob") == 84 and purchase_doc(purchase_id).status == "succeeded"
    check("bob", bystander)


def test_inquiries_move_no_credits(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    """An inquiry (warning_*) withdraws no funds: no credits move, and live jobs keep running."""
    purchase_id, _, charge = granted(api, client, events, "cyd")
    now = int(time.time())
    send(events, "charge.dispute.created", so.dispute(charge, "warning_needs_response"), now - 30)
    assert balance("cyd") == 120
    send(events, "charge.dispute.updated", so.dispute(charge, "warning_under_review"), now - 20)
    assert balance("cyd") == 120
    send(events, "charge.dispute.closed", so.dispute(charge, "warning_closed"), now - 10)
    assert balance("cyd") == 120
    assert [e["type"] for e in ledger("cyd")] == ["purchase"]
    shown = api.request("GET", f"/v1/purchases/{purchase_id}", token=api.user_token("cyd")).json()
    assert shown["status"] == "succeeded" and shown["dispute_status"] == "warning_closed"
    check("cyd", bystander)


def test_a_chargeback_after_a_closed_inquiry_counts(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    purchase_id, _, charge = granted(api, client, events, "dan")
    now = int(time.time())
    inquiry = {"id": "du_inquiry" + charge["id"][-12:]}
    send(events, "charge.dispute.created", so.dispute(charge, "warning_needs_response", **inquiry), now - 50)
    send(events, "charge.dispute.closed", so.dispute(charge, "warning_closed", **inquiry), now - 40)
    withdrawal = so.dispute_funds(charge, -1000, "w")
    chargeback = so.dispute(charge, balance_transactions=[withdrawal])
    send(events, "charge.dispute.created", chargeback, now - 30)
    assert balance("dan") == 0 and purchase_doc(purchase_id).status == "disputed"
    send(events, "charge.dispute.closed", {**chargeback, "status": "lost"}, now - 10)
    assert balance("dan") == 0 and purchase_doc(purchase_id).status == "disputed_lost"
    check("dan", bystander)


@pytest.mark.parametrize("order", [0, 5, 11, 17, 23])
def test_a_refund_failing_within_the_same_second_gives_its_credits_back(
    api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str, order: int
) -> None:
    """charge.refunded (1000), refund.created, refund.failed and charge.updated (0), all stamped the same
    second: the refund's own status is the truth, in every order."""
    purchase_id, intent, charge = granted(api, client, events, "eve")
    second = int(time.time()) - 30
    refund = refunded_in_stripe(client, intent, 1000, second)[0]
    sent = [
        ("charge.refunded", {**charge, "amount_refunded": 1000, "refunded": True}),
        ("refund.created", refund),
        ("refund.failed", so.refund(refund, status="failed")),
        ("charge.updated", {**charge, "amount_refunded": 0, "refunded": False}),
    ]
    for event_type, obj in list(itertools.permutations(sent))[order]:
        send(events, event_type, obj, second)
    assert balance("eve") == 120
    assert purchase_doc(purchase_id).status == "succeeded"
    check("eve", bystander)
