"""Stripe event ingestion (the `stripe_webhook` function): verify, then apply each event exactly once.

- The signature is checked on the raw body (`Stripe-Signature`, HMAC-SHA256, 300 s tolerance): anything
  else is a 400 and changes nothing.
- Events of the other mode (live vs test) and unknown types answer 200 and change nothing.
- Each event's effect is written in one batch with its marker `processed_events/stripe:{event_id}`, or
  (refunds, disputes: shared/billing/money_events.py) converges by construction and is marked after;
  effects have their own exactly-once markers too (a purchase's grant, each credit step), so different
  events about one purchase, in any order and concurrently, add up to the right result.
- A failure raises: the function answers 5xx and Stripe delivers again later.
Maintenance mode does not apply here: money is never dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import stripe

from shared.billing.card_store import (
    apply_default,
    from_unix,
    is_detached,
    remove_payment_method,
    sync_payment_method,
)
from shared.billing.customers import awaiting_record, forget_customer, user_for_customer
from shared.billing.markers import stripe_marker
from shared.billing.money_events import MONEY_HANDLERS
from shared.billing.payment_methods import attached_payment_method, stripe_id
from shared.billing.stripe_client import stripe_livemode
from shared.core import logs
from shared.core.errors import ApiError, ErrorCode
from shared.core.markers import Marker
from shared.core.settings import get_settings
from shared.models import utc_now

TOLERANCE_SECONDS = 300
MAX_EVENT_BYTES = 1024 * 1024
# Events for a customer of ours not recorded yet are refused (503) this long after they happened.
WAIT_FOR_RECORD = timedelta(days=3)

EventHandler = Callable[[dict[str, Any], dict[str, Any], Marker], None]


def verify_and_parse(payload: bytes, signature_header: str | None) -> dict[str, Any]:
    if len(payload) > MAX_EVENT_BYTES:
        raise ApiError(ErrorCode.REQUEST_TOO_LARGE, "Event too large.")
    if not signature_header:
        raise ApiError(ErrorCode.INVALID_SIGNATURE, "Missing Stripe-Signature header.")
    try:
        text = payload.decode("utf-8")
        stripe.Webhook.construct_event(
            text, signature_header, get_settings().stripe_webhook_secret, tolerance=TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError:
        raise ApiError(
            ErrorCode.INVALID_SIGNATURE, "The Stripe-Signature does not verify this body."
        ) from None
    except (UnicodeDecodeError, ValueError):
        raise ApiError(ErrorCode.INVALID_JSON, "The event body is not valid JSON.") from None
    event = json.loads(text)
    valid = (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and isinstance(event.get("type"), str)
        and isinstance(event.get("created"), int)
        and isinstance(event.get("livemode"), bool)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    )
    if not valid:
        raise ApiError(
            ErrorCode.INVALID_REQUEST, "Not a Stripe event (id, type, created, livemode, data.object)."
        )
    return event  # type: ignore[no-any-return]


def handle_stripe_webhook(payload: bytes, signature_header: str | None) -> dict[str, Any]:
    event = verify_and_parse(payload, signature_header)
    event_id, event_type = str(event["id"]), str(event["type"])
    if event["livemode"] != stripe_livemode():
        logs.warning("stripe event of the other mode ignored", event_id=event_id, event_type=event_type)
        return {"received": True, "ignored": "livemode"}
    handler = HANDLERS.get(event_type)
    if handler is None:
        return {"received": True, "ignored": "event_type"}
    marker = stripe_marker(event_id, event_type)
    if marker.exists():
        return {"received": True, "duplicate": True}
    try:
        handler(event, event["data"]["object"], marker)
    except ApiError as exc:
        if exc.status >= 500:
            raise
        # A verified event that cannot be applied now (e.g. an account missing): Stripe retries on 5xx.
        logs.error("stripe event not applied", event_id=event_id, event_type=event_type, code=exc.code)
        raise ApiError(ErrorCode.INTERNAL_ERROR, "The event could not be applied; retry later.") from None
    return {"received": True}


def _created(event: dict[str, Any]) -> datetime:
    return from_unix(int(event["created"]))


# --- payment methods -------------------------------------------------------------------------------


def _owner(customer: Any) -> tuple[str, str] | None:
    customer_id = stripe_id(customer)
    user_id = user_for_customer(customer_id) if customer_id else None
    return (user_id, customer_id) if user_id and customer_id else None


def _owner_once_recorded(event: dict[str, Any], customer: Any) -> tuple[str, str] | None:
    """The owner, for events that record something about a customer's cards. A customer of ours whose
    record has not landed yet (customers.awaiting_record) answers 503, so Stripe delivers the event again
    (it retries for three days); past WAIT_FOR_RECORD after the event it is logged and dropped."""
    owner = _owner(customer)
    customer_id = stripe_id(customer)
    if owner is not None or customer_id is None:
        return owner
    if not awaiting_record(customer_id):
        return None  # not ours (another project, another product on the Stripe account), or deleted
    fields = {"event_id": event["id"], "event_type": event["type"], "customer": customer_id}
    if utc_now() - _created(event) > WAIT_FOR_RECORD:
        logs.error("stripe event for a customer never recorded dropped", **fields)
        return None
    logs.warning("stripe event for a customer not recorded yet; Stripe delivers it again", **fields)
    raise ApiError(
        ErrorCode.SERVICE_UNAVAILABLE,
        "The customer is not recorded yet; deliver the event again later.",
        headers={"Retry-After": "60"},
    )


def on_payment_method_changed(event: dict[str, Any], pm: dict[str, Any], marker: Marker) -> None:
    """attached / updated / automatically_updated: the object is the card as of `created`."""
    owner = _owner_once_recorded(event, pm.get("customer"))
    if owner is None or not isinstance(pm.get("id"), str):
        marker.record_alone()
        return
    sync_payment_method(
        str(pm["id"]), pm, user_id=owner[0], customer_id=owner[1], synced_at=_created(event), marker=marker
    )


def on_payment_method_detached(event: dict[str, Any], pm: dict[str, Any], marker: Marker) -> None:
    if not isinstance(pm.get("id"), str):
        marker.record_alone()
        return
    previous = (event["data"].get("previous_attributes") or {}).get("customer")
    owner = _owner(previous)
    remove_payment_method(
        str(pm["id"]), user_id=owner[0] if owner else None, detached_at=_created(event), marker=marker
    )


def on_setup_intent_succeeded(event: dict[str, Any], intent: dict[str, Any], marker: Marker) -> None:
    owner = _owner_once_recorded(event, intent.get("customer"))
    payment_method_id = stripe_id(intent.get("payment_method"))
    if owner is None or payment_method_id is None or intent.get("status") != "succeeded":
        marker.record_alone()
        return
    user_id, customer_id = owner
    if is_detached(payment_method_id):
        # Removed since (tombstone): Stripe never re-attaches a detached card, so neither do we; attaching
        # it would fail on Stripe and a 5xx would have this event retried for days.
        marker.record_alone()
        return
    pm = attached_payment_method(payment_method_id, customer_id)
    if pm is None:
        marker.record_alone()
        return
    sync_payment_method(
        payment_method_id,
        pm,
        user_id=user_id,
        customer_id=customer_id,
        synced_at=_created(event),
        marker=marker,
    )


def on_customer_updated(event: dict[str, Any], customer: dict[str, Any], marker: Marker) -> None:
    owner = _owner_once_recorded(event, customer)
    if owner is None:
        marker.record_alone()
        return
    default = stripe_id((customer.get("invoice_settings") or {}).get("default_payment_method"))
    apply_default(owner[0], default, synced_at=_created(event), marker=marker)


def on_customer_deleted(event: dict[str, Any], customer: dict[str, Any], marker: Marker) -> None:
    """Its cards go (tombstoned) and the account forgets it: the next purchase makes a fresh customer."""
    owner = _owner(customer.get("id"))
    if owner is None:
        marker.record_alone()
        return
    forget_customer(owner[0], owner[1], deleted_at=_created(event), marker=marker)


HANDLERS: dict[str, EventHandler] = {
    **MONEY_HANDLERS,
    "payment_method.attached": on_payment_method_changed,
    "payment_method.updated": on_payment_method_changed,
    "payment_method.automatically_updated": on_payment_method_changed,
    "payment_method.detached": on_payment_method_detached,
    "setup_intent.succeeded": on_setup_intent_succeeded,
    "customer.updated": on_customer_updated,
    "customer.deleted": on_customer_deleted,
}
