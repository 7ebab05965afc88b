"""Client-side Stripe steps for tests: add a card the way the dashboard would (SetupIntent + confirm)."""

from __future__ import annotations

from typing import Any

import stripe

from tests.support.platform import ApiClient

VISA = "4242424242424242"
DECLINED_ON_CHARGE = "4000000000000341"  # attaches fine, every charge is declined


def new_card(client: stripe.StripeClient, number: str = VISA, exp_year: int = 2034) -> str:
    pm = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": exp_year, "cvc": "123"},
        }
    )
    return str(pm.id)


def add_card(api: ApiClient, token: str, client: stripe.StripeClient, number: str = VISA) -> dict[str, Any]:
    """POST setup_intent, confirm it with a test card through Stripe, register it. Returns the card."""
    created = api.request("POST", "/v1/payment_methods/setup_intent", token=token)
    assert created.status_code == 201, created.text
    setup_intent_id = created.json()["setup_intent_id"]
    client.v1.setup_intents.confirm(setup_intent_id, params={"payment_method": new_card(client, number)})
    registered = api.request(
        "POST", "/v1/payment_methods", token=token, json={"setup_intent_id": setup_intent_id}
    )
    assert registered.status_code in (200, 201), registered.text
    card: dict[str, Any] = registered.json()
    card["setup_intent_id"] = setup_intent_id
    return card
