"""Pure parts of the Stripe integration: test signatures match the SDK's verifier; refund arithmetic."""

from __future__ import annotations

import time

import pytest
import stripe

from shared.billing.purchases import purchase_id_for
from tests.support.stripe_events import encode, generate_header, make_event

SECRET = "whsec_unit"


def test_generated_headers_verify_with_the_sdk_and_overrides_break_them() -> None:
    payload = encode(make_event("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"}))
    assert stripe.WebhookSignature.verify_header(
        payload, generate_header(payload, secret=SECRET), SECRET, 300
    )
    broken = {
        "secret": generate_header(payload, secret="whsec_other"),
        "stale": generate_header(payload, secret=SECRET, timestamp=int(time.time()) - 301),
        "scheme": generate_header(payload, secret=SECRET, scheme="v0"),
        "signature": generate_header(payload, secret=SECRET, signature="ab" * 32),
    }
    for case, header in broken.items():
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.WebhookSignature.verify_header(payload, header, SECRET, 300)
        assert case


def test_purchase_ids_derive_from_user_and_idempotency_key() -> None:
    assert purchase_id_for("alice", "k1") == purchase_id_for("alice", "k1")
    assert purchase_id_for("alice", "k1") != purchase_id_for("bob", "k1")
    assert purchase_id_for("alice", None) != purchase_id_for("alice", None)


def test_package_bonus_is_measured_against_the_least_generous_package() -> None:
    from shared.billing.purchases import base_credit_rate, credit_package_resource
    from shared.models import DEFAULT_CREDIT_PACKAGES

    base = base_credit_rate(DEFAULT_CREDIT_PACKAGES.values())
    bonus = {
        k: credit_package_resource(k, p, base)["bonus_percent"] for k, p in DEFAULT_CREDIT_PACKAGES.items()
    }
    assert bonus == {"starter": 0, "popular": 11, "pro": 22, "mega": 39}
    assert credit_package_resource("starter", DEFAULT_CREDIT_PACKAGES["starter"])["bonus_percent"] == 0
