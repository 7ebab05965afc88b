"""Generated Stripe histories end to end: real purchases paid in localstripe (their refunds made there too),
every event Stripe would send about their refunds and disputes signed and posted to `stripe_webhook` in a
shuffled order, some of them twice (the same event again, or a twin with its own id), many stamped the
same second. Each purchase ends keeping floor(credits x net kept / amount paid) of what happened, the
ledger explains the balance, and a second customer's balance never moves (tests/support/money_orderings.py
generates the histories; tests/unit/test_money_facts.py runs thousands of them on the pure fold)."""

from __future__ import annotations

import time
from typing import Any

import stripe
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from shared.core.clients import firestore_client
from shared.models import Purchase, utc_now
from tests.support import stripe_objects as so
from tests.support.money_orderings import History, histories
from tests.support.platform import ApiClient, create_account
from tests.support.purchases import (
    assert_ledger_explains,
    balance,
    customer_of,
    ledger,
    paid_purchase_without_grant,
)
from tests.support.stripe_events import EventSender, as_dict, make_event
from tests.support.stripe_flows import add_card

EXAMPLES = 36


def _paid(
    client: stripe.StripeClient, user_id: str, card: str, h: History
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The purchase of `h` paid in localstripe: (PaymentIntent, Charge) in Stripe's shape."""
    purchase = Purchase(
        user_id=user_id,
        package="starter",
        credits=h.credits,
        amount=h.amount,
        payment_method_id=card,
        created_at=utc_now(),
    )
    firestore_client().collection("purchases").document(h.purchase_id).set(purchase.to_firestore())
    intent = as_dict(
        client.v1.payment_intents.create(
            params={
                "amount": h.amount,
                "currency": "usd",
                "customer": customer_of(user_id),
                "payment_method": card,
                "confirm": True,
                "off_session": True,
                "metadata": {"purchase_id": h.purchase_id, "user_id": user_id},
            }
        )
    )
    latest = intent["latest_charge"]
    charge = as_dict(client.v1.charges.retrieve(latest["id"] if isinstance(latest, dict) else latest))
    return so.payment_intent(intent), so.charge(charge)


def _stripe_events(
    client: stripe.StripeClient, h: History, intent: dict[str, Any], charge: dict[str, Any]
) -> list[dict[str, Any]]:
    """The history's events in Stripe's shape; its refunds exist in localstripe (they list as succeeded
    there whatever happened to them: Stripe's word on a failure is the refund's own event)."""
    base = int(time.time()) - 600
    refund_ids = {}
    for refund_id, states in h.refund_states.items():
        made = client.v1.refunds.create(
            params={"payment_intent": intent["id"], "amount": states[0][1]["amount"]}
        )
        refund_ids[refund_id] = str(made.id)
    shaped = []
    for sent in h.events:
        obj, created = sent.obj, base + sent.second
        if sent.event_type == "payment_intent.succeeded":
            shaped.append(make_event(sent.event_type, intent, created=created))
        elif obj.get("object") == "refund":
            real = {
                "id": refund_ids[obj["id"]],
                "amount": obj["amount"],
                "charge": charge["id"],
                "payment_intent": intent["id"],
            }
            refund = so.refund(real, status=obj["status"], created=base)
            shaped.append(make_event(sent.event_type, refund, created=created))
        elif obj.get("object") == "dispute":
            funds = [
                so.dispute_funds(charge, txn["amount"], txn["id"][4:9]) for txn in obj["balance_transactions"]
            ]
            dispute = so.dispute(
                charge,
                obj["status"],
                id=obj["id"],
                amount=obj["amount"],
                balance_transactions=funds,
                created=base,
            )
            shaped.append(make_event(sent.event_type, dispute, created=created))
        else:
            snapshot = {
                **charge,
                "amount_refunded": obj["amount_refunded"],
                "refunded": obj["amount_refunded"] >= h.amount,
            }
            shaped.append(make_event(sent.event_type, snapshot, created=created))
    return shaped


def test_generated_histories_end_to_end(
    api: ApiClient, client: stripe.StripeClient, events: EventSender
) -> None:
    _, zed_intent, _ = paid_purchase_without_grant(api, client, "zed")
    assert (
        events.send(make_event("payment_intent.succeeded", so.payment_intent(zed_intent))).status_code == 200
    )
    create_account("ann")
    card = add_card(api, api.user_token("ann"), client)["payment_method_id"]
    expected: dict[str, int] = {}
    counter = iter(range(10**6))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(data=st.data())
    def one_history(data: st.DataObject) -> None:
        purchase_id = f"pur_gen{next(counter)}x{int(time.time() * 1000)}"
        h = data.draw(histories(purchase_id=purchase_id, min_amount=50))
        intent, charge = _paid(client, "ann", card, h)
        sent = _stripe_events(client, h, intent, charge)
        shuffle = data.draw(st.randoms(use_true_random=False))
        order = sent + [shuffle.choice(sent) for _ in range(shuffle.randint(0, 3))]  # redelivered
        order += [
            {**e, "id": f"evt_twin{n}{purchase_id[-10:]}"}
            for n, e in enumerate(shuffle.sample(sent, min(2, len(sent))))
        ]
        shuffle.shuffle(order)
        for event in order:
            reply = events.send(event)
            assert reply.status_code == 200, (event["type"], reply.text)
        mine = [e["amount"] for e in ledger("ann") if e["reference"] == purchase_id]
        running = [sum(mine[: i + 1]) for i in range(len(mine))]
        assert all(0 <= r <= h.credits for r in running), (h, mine)
        stored = firestore_client().collection("purchases").document(purchase_id).get().to_dict() or {}
        assert h.credits - stored["credits_clawed_back"] == h.expected_kept == sum(mine), (h, mine, stored)
        expected[purchase_id] = h.expected_kept

    one_history()
    assert len(expected) == EXAMPLES
    assert balance("ann") == sum(expected.values())
    assert_ledger_explains("ann")
    assert_ledger_explains("zed")
    assert balance("zed") == 120
