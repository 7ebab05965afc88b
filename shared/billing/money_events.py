"""Stripe events about a purchase's money: PaymentIntent states, charges, refunds and disputes.

PaymentIntent states before payment (processing, requires_action, payment_failed, canceled) are written
with the event's marker in one batch (shared/billing/purchases.apply_intent_state). Charges, refunds and
disputes prove the payment: they grant (once), merge the state of each refund and dispute into the purchase,
then settle its credits (shared/billing/settlement.py: credits follow the funds). Where an event lacks what
the facts need (a charge's refunds, a dispute's balance transactions), the objects are retrieved from Stripe. Those effects converge whatever the order and number of deliveries, so the
event's marker is recorded last: a delivery that died midway is simply completed by Stripe's retry.
Objects that are not ours (no purchase of this project) are marked and change nothing (2xx); a purchase
that cannot be credited yet (its account missing) raises, so the delivery answers 5xx and Stripe retries.
"""

from __future__ import annotations

import re
from typing import Any

from shared.billing.card_store import from_unix
from shared.billing.money_facts import refunded
from shared.billing.payment_methods import stripe_id
from shared.billing.purchases import (
    apply_intent_state,
    grant_purchase,
    load_purchase,
    next_action_of,
    purchase_for_intent,
    purchase_for_payment_intent_id,
)
from shared.billing.settlement import record_dispute, record_refunds, settle
from shared.billing.stripe_client import as_dict, call_stripe, stripe_client
from shared.core import logs
from shared.core.errors import ApiError, ErrorCode
from shared.core.markers import Marker
from shared.models import Purchase, PurchaseStatus, utc_now

# Ids become Firestore field names (refunds.{id}); Stripe's are letters, digits and underscores.
STRIPE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,254}$")


# --- PaymentIntents --------------------------------------------------------------------------------


def on_payment_intent_succeeded(event: dict[str, Any], intent: dict[str, Any], marker: Marker) -> None:
    found = purchase_for_intent(intent) if intent.get("status") == "succeeded" else None
    if found is None:
        marker.record_alone()
        return
    if not grant_purchase(found[0], marker, payment_intent_id=str(intent["id"])):
        marker.record_alone()
    settle(found[0])  # facts (a refund, a dispute) may have come before the payment


def _intent_state(
    event: dict[str, Any], intent: dict[str, Any], marker: Marker, status: PurchaseStatus
) -> None:
    found = purchase_for_intent(intent)
    if found is None:
        marker.record_alone()
        return
    error = intent.get("last_payment_error")
    code = error.get("code") if isinstance(error, dict) else None
    apply_intent_state(
        found[0],
        status,
        from_unix(int(event["created"])),
        marker,
        failure_code=code if isinstance(code, str) else None,
        next_action=next_action_of(intent) if status is PurchaseStatus.REQUIRES_ACTION else None,
    )


def on_payment_intent_failed(event: dict[str, Any], intent: dict[str, Any], marker: Marker) -> None:
    _intent_state(event, intent, marker, PurchaseStatus.FAILED)


def on_payment_intent_canceled(event: dict[str, Any], intent: dict[str, Any], marker: Marker) -> None:
    if intent.get("status") != "canceled":
        marker.record_alone()
        return
    _intent_state(event, intent, marker, PurchaseStatus.CANCELED)


def on_payment_intent_processing(event: dict[str, Any], intent: dict[str, Any], marker: Marker) -> None:
    _intent_state(event, intent, marker, PurchaseStatus.PROCESSING)


def on_payment_intent_requires_action(event: dict[str, Any], intent: dict[str, Any], marker: Marker) -> None:
    _intent_state(event, intent, marker, PurchaseStatus.REQUIRES_ACTION)


# --- charges ---------------------------------------------------------------------------------------


def _purchase_for_charge(charge: dict[str, Any]) -> tuple[str, Purchase] | None:
    intent_id = stripe_id(charge.get("payment_intent"))
    found = purchase_for_payment_intent_id(intent_id) if intent_id else None
    if found is not None and charge.get("amount") not in (None, found[1].amount):
        logs.warning(
            "charge amount does not match its purchase", purchase_id=found[0], charge=charge.get("id")
        )
        return None
    return found


def _purchase_for_charge_id(charge_id: str | None, intent_id: str | None) -> tuple[str, Purchase] | None:
    """Refunds and disputes name their PaymentIntent, or only their charge (then Stripe is asked)."""
    if intent_id is None and charge_id is not None:
        gone = ApiError(ErrorCode.RESOURCE_MISSING, "unknown charge")
        try:
            charge = as_dict(
                call_stripe(lambda: stripe_client().v1.charges.retrieve(charge_id), not_found=gone)
            )
        except ApiError as exc:
            if exc is gone:
                return None  # not a charge of this Stripe account's: not ours
            raise
        return _purchase_for_charge(charge)
    return purchase_for_payment_intent_id(intent_id) if intent_id else None


def on_charge_succeeded(event: dict[str, Any], charge: dict[str, Any], marker: Marker) -> None:
    paid = charge.get("status") == "succeeded" and charge.get("paid", True) is not False
    found = _purchase_for_charge(charge) if paid else None
    if found is None:
        marker.record_alone()
        return
    if not grant_purchase(found[0], marker, payment_intent_id=stripe_id(charge.get("payment_intent"))):
        marker.record_alone()
    settle(found[0])


def on_charge_changed(event: dict[str, Any], charge: dict[str, Any], marker: Marker) -> None:
    """charge.refunded / charge.updated. The charge's `amount_refunded` is a sum, not a fact about any one
    refund: when it differs from what the known refunds add up to, the charge's refunds are retrieved
    (events of API versions since 2022-11-15 do not list them) and each one's own state is recorded."""
    charge_id = stripe_id(charge.get("id"))
    paid = charge.get("status") == "succeeded" and charge_id is not None and STRIPE_ID.match(charge_id)
    found = _purchase_for_charge(charge) if paid else None
    if found is None or charge_id is None:
        marker.record_alone()
        return
    purchase_id = found[0]
    grant_purchase(purchase_id, payment_intent_id=stripe_id(charge.get("payment_intent")))
    refunds = charge.get("refunds")
    listed = refunds.get("data") if isinstance(refunds, dict) else None
    if isinstance(listed, list):  # older API versions list (the first ten of) the charge's refunds
        record_refunds(purchase_id, _plain_refunds(listed), from_unix(int(event["created"])))
    known = load_purchase(purchase_id)
    if known is not None and int(charge.get("amount_refunded") or 0) != refunded(known):
        record_refunds(purchase_id, _refunds_of_charge(charge_id), utc_now())
    settle(purchase_id)
    marker.record_alone()


def _plain_refunds(refunds: list[Any]) -> list[dict[str, Any]]:
    return [r for r in refunds if isinstance(r, dict) and STRIPE_ID.match(str(r.get("id")))]


def _refunds_of_charge(charge_id: str) -> list[dict[str, Any]]:
    """Every refund of the charge as Stripe has it now."""

    def listing() -> list[dict[str, Any]]:
        page = stripe_client().v1.refunds.list(params={"charge": charge_id, "limit": 100})
        return [as_dict(refund) for refund in page.auto_paging_iter()]

    return _plain_refunds(call_stripe(listing))


# --- refunds and disputes --------------------------------------------------------------------------


def on_refund(event: dict[str, Any], refund: dict[str, Any], marker: Marker) -> None:
    """refund.created / refund.updated / refund.failed / charge.refund.updated (a Refund object)."""
    found = None
    if STRIPE_ID.match(str(refund.get("id"))):
        found = _purchase_for_charge_id(
            stripe_id(refund.get("charge")), stripe_id(refund.get("payment_intent"))
        )
    if found is None:
        marker.record_alone()
        return
    purchase_id = found[0]
    grant_purchase(purchase_id, payment_intent_id=stripe_id(refund.get("payment_intent")))
    record_refunds(purchase_id, [refund], from_unix(int(event["created"])))
    settle(purchase_id)
    marker.record_alone()


def on_dispute(event: dict[str, Any], dispute: dict[str, Any], marker: Marker) -> None:
    """charge.dispute.*: every one of them is the dispute's state as of the event (status, amount,
    balance transactions); which event it was says nothing more (funds_reinstated does not mean won)."""
    dispute_id = str(dispute.get("id"))
    found = None
    if STRIPE_ID.match(dispute_id):
        found = _purchase_for_charge_id(
            stripe_id(dispute.get("charge")), stripe_id(dispute.get("payment_intent"))
        )
    if found is None:
        marker.record_alone()
        return
    as_of = from_unix(int(event["created"]))
    if not isinstance(dispute.get("balance_transactions"), list):
        retrieved = _retrieve_dispute(dispute_id)
        if retrieved is None:
            marker.record_alone()
            return
        dispute, as_of = retrieved, utc_now()
    purchase_id = found[0]
    grant_purchase(purchase_id, payment_intent_id=stripe_id(dispute.get("payment_intent")))
    record_dispute(purchase_id, dispute, as_of)
    settle(purchase_id)
    marker.record_alone()


def _retrieve_dispute(dispute_id: str) -> dict[str, Any] | None:
    """The dispute as Stripe has it now; None when this Stripe account does not know it (not ours)."""
    gone = ApiError(ErrorCode.RESOURCE_MISSING, "unknown dispute")
    try:
        return as_dict(call_stripe(lambda: stripe_client().v1.disputes.retrieve(dispute_id), not_found=gone))
    except ApiError as exc:
        if exc is gone:
            return None
        raise


MONEY_HANDLERS = {
    "payment_intent.succeeded": on_payment_intent_succeeded,
    "payment_intent.payment_failed": on_payment_intent_failed,
    "payment_intent.canceled": on_payment_intent_canceled,
    "payment_intent.processing": on_payment_intent_processing,
    "payment_intent.requires_action": on_payment_intent_requires_action,
    "charge.succeeded": on_charge_succeeded,
    "charge.refunded": on_charge_changed,
    "charge.updated": on_charge_changed,
    "charge.refund.updated": on_refund,
    "refund.created": on_refund,
    "refund.updated": on_refund,
    "refund.failed": on_refund,
    "charge.dispute.created": on_dispute,
    "charge.dispute.updated": on_dispute,
    "charge.dispute.funds_withdrawn": on_dispute,
    "charge.dispute.funds_reinstated": on_dispute,
    "charge.dispute.closed": on_dispute,
}
