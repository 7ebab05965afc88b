"""What the payment-method routes do: Stripe first (the source of truth), then the local copy."""

from __future__ import annotations

from typing import Any

import stripe

from shared.billing.card_store import (
    apply_default,
    get_payment_method,
    is_detached,
    remove_payment_method,
    sync_payment_method,
)
from shared.billing.customers import ensure_customer, with_customer
from shared.billing.stripe_client import as_dict, call_stripe, stripe_client
from shared.core.clients import current_project
from shared.core.errors import ApiError, ErrorCode, not_found
from shared.models import PaymentMethod, utc_now


def stripe_id(value: Any) -> str | None:
    """A Stripe reference that may be an id or an expanded object."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def attached_payment_method(payment_method_id: str, customer_id: str) -> dict[str, Any] | None:
    """The Stripe PaymentMethod, attached to the customer if it is attached to nobody yet (Stripe attaches
    on SetupIntent confirmation; localstripe does not, so attach as Stripe would have). None when it belongs
    to another customer."""
    pm = as_dict(call_stripe(lambda: stripe_client().v1.payment_methods.retrieve(payment_method_id)))
    owner = stripe_id(pm.get("customer"))
    if owner is None:
        return as_dict(
            call_stripe(
                lambda: stripe_client().v1.payment_methods.attach(
                    payment_method_id, params={"customer": customer_id}
                )
            )
        )
    return pm if owner == customer_id else None


def create_setup_intent(user_id: str) -> dict[str, Any]:
    """A SetupIntent for the user's customer; a customer Stripe no longer knows is replaced (with_customer)."""

    def create(customer_id: str) -> dict[str, Any]:
        # Stripe refuses a SetupIntent for a deleted customer; reading it first says so on localstripe too
        # (which would accept one), before the card is confirmed against a customer that cannot keep it.
        customer = as_dict(call_stripe(lambda: stripe_client().v1.customers.retrieve(customer_id)))
        if customer.get("deleted"):
            raise ApiError(
                ErrorCode.STRIPE_REJECTED,
                "The payment provider refused the request (resource_missing).",
                stripe_code="resource_missing",
            )
        intent = call_stripe(
            lambda: stripe_client().v1.setup_intents.create(
                params={  # type: ignore[arg-type]
                    "customer": customer_id,
                    "usage": "off_session",
                    "payment_method_types": ["card"],
                    "metadata": {"user_id": user_id, "platform_project": current_project()},
                }
            )
        )
        return {
            "setup_intent_id": intent.id,
            "client_secret": intent.client_secret,
            "customer_id": customer_id,
        }

    return with_customer(user_id, create)


def register_card(user_id: str, setup_intent_id: str) -> tuple[str, PaymentMethod, bool]:
    """Verify a confirmed SetupIntent of the caller's customer, attach its card, record it.
    Returns (payment method id, card, created now). Repeating it returns the same card."""
    customer_id = ensure_customer(user_id)
    missing = not_found("setup intent", param="setup_intent_id")
    if not setup_intent_id.startswith("seti_"):
        raise missing
    intent = as_dict(
        call_stripe(lambda: stripe_client().v1.setup_intents.retrieve(setup_intent_id), not_found=missing)
    )
    if stripe_id(intent.get("customer")) != customer_id:
        raise missing  # someone else's: do not reveal that it exists
    if intent.get("status") != "succeeded":
        raise ApiError(
            ErrorCode.SETUP_INTENT_INCOMPLETE,
            f"The SetupIntent is {intent.get('status')}; confirm it with the card first.",
            param="setup_intent_id",
        )
    payment_method_id = stripe_id(intent.get("payment_method"))
    if payment_method_id is None:
        raise ApiError(
            ErrorCode.SETUP_INTENT_INCOMPLETE, "The SetupIntent has no card.", param="setup_intent_id"
        )
    if is_detached(payment_method_id):
        raise ApiError(
            ErrorCode.ILLEGAL_STATE_TRANSITION, "This card was removed; add it again with a new SetupIntent."
        )
    stripe_pm = attached_payment_method(payment_method_id, customer_id)
    if stripe_pm is None:
        raise missing
    if _stripe_default(customer_id) is None:
        # The first card becomes the default, so purchases work without a further step. Two first cards
        # registered at once may both set it: Stripe keeps the last, and the read below settles it here.
        call_stripe(
            lambda: stripe_client().v1.customers.update(
                customer_id, params={"invoice_settings": {"default_payment_method": payment_method_id}}
            )
        )
    card, created = sync_payment_method(
        payment_method_id, stripe_pm, user_id=user_id, customer_id=customer_id, synced_at=utc_now()
    )
    if card is None:
        raise ApiError(
            ErrorCode.ILLEGAL_STATE_TRANSITION, "This card was removed; add it again with a new SetupIntent."
        )
    sync_default(user_id, customer_id)
    card = get_payment_method(payment_method_id) or card
    return payment_method_id, card, created


def _stripe_default(customer_id: str) -> str | None:
    customer = as_dict(call_stripe(lambda: stripe_client().v1.customers.retrieve(customer_id)))
    return stripe_id((customer.get("invoice_settings") or {}).get("default_payment_method"))


def sync_default(user_id: str, customer_id: str) -> None:
    """Mark here the default card Stripe names now. The time is taken before the read, after this request's
    own Stripe writes and card record: of concurrent callers, the one whose read started last saw every
    write that came before it, and apply_default lets the newest time win on every card."""
    as_of = utc_now()
    apply_default(user_id, _stripe_default(customer_id), synced_at=as_of)


def owned_card(user_id: str, payment_method_id: str) -> PaymentMethod:
    card = get_payment_method(payment_method_id)
    if card is None or card.user_id != user_id:
        raise not_found("payment method", param="payment_method_id")
    return card


def set_default_card(user_id: str, payment_method_id: str) -> None:
    card = owned_card(user_id, payment_method_id)
    call_stripe(
        lambda: stripe_client().v1.customers.update(
            card.stripe_customer_id,
            params={"invoice_settings": {"default_payment_method": payment_method_id}},
        )
    )
    sync_default(user_id, card.stripe_customer_id)


def delete_card(user_id: str, payment_method_id: str) -> None:
    owned_card(user_id, payment_method_id)

    def detach() -> None:
        try:
            stripe_client().v1.payment_methods.detach(payment_method_id)
        except stripe.InvalidRequestError:
            pass  # already detached (or gone) in Stripe: only the local copy is left to remove

    # Stripe first: a card still attached there but gone here could be charged unseen.
    call_stripe(detach)
    remove_payment_method(payment_method_id, user_id=user_id, detached_at=utc_now())
