"""Stripe events as Stripe sends them: JSON bodies signed with `Stripe-Signature: t=<unix>,v1=<hex>`.

`generate_header` follows stripe-python's own tests (tests/test_webhook.py): every part of the header
can be overridden, which is what the negative cases (forged, altered, stale, unsigned) are made of.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import requests
import stripe

from tests.conftest import STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET


def generate_header(
    payload: str | bytes,
    secret: str = STRIPE_WEBHOOK_SECRET,
    timestamp: int | None = None,
    scheme: str = "v1",
    **overrides: Any,
) -> str:
    """Overrides: `signature` (use this hex instead of computing it), `extra` (appended "k=v" parts)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    text = payload.decode() if isinstance(payload, bytes) else payload
    signature = overrides.get("signature")
    if signature is None:
        signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{text}", secret)
    parts = [f"t={timestamp}", f"{scheme}={signature}", *overrides.get("extra", ())]
    return ",".join(parts)


def make_event(
    event_type: str,
    obj: dict[str, Any],
    *,
    event_id: str | None = None,
    created: int | None = None,
    livemode: bool = False,
    previous_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": event_id or "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()) if created is None else created,
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": data,
    }


def encode(event: dict[str, Any]) -> str:
    return json.dumps(event, indent=2, sort_keys=True)  # Stripe pretty-prints; signatures cover bytes


@dataclass
class EventSender:
    """Posts events to a project's `stripe_webhook` function."""

    url: str

    def post(self, payload: str | bytes, header: str | None) -> requests.Response:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if header is not None:
            headers["Stripe-Signature"] = header
        return requests.post(self.url, data=payload, headers=headers, timeout=60)

    def send(self, event: dict[str, Any], **header_overrides: Any) -> requests.Response:
        payload = encode(event)
        return self.post(payload, generate_header(payload, **header_overrides))

    def send_all(self, events: Iterable[dict[str, Any]]) -> list[requests.Response]:
        return [self.send(e) for e in events]


def stripe_test_client(api_base: str) -> stripe.StripeClient:
    """The SDK pointed at the session's localstripe, as a client app (or Stripe.js) would use it."""
    return stripe.StripeClient(STRIPE_SECRET_KEY, base_addresses={"api": api_base})


def as_dict(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if isinstance(obj, stripe.StripeObject) else dict(obj)
