"""Stripe objects shaped exactly as Stripe's API reference shows them (API version 2024-06-20): every field
present, expandable fields as ids (`latest_charge`, `charge`, `payment_intent`), no `charges` list on a
PaymentIntent and no `refunds` list on a Charge. Values that localstripe knows (ids, amounts, customer,
times) are taken from its objects; the rest is what Stripe sends for a card payment in test mode."""

from __future__ import annotations

import secrets
import time
from typing import Any


def _id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def payment_intent(local: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A PaymentIntent from localstripe's, in Stripe's shape."""
    shaped = {
        "id": local["id"],
        "object": "payment_intent",
        "amount": local["amount"],
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": local["amount"] if local.get("status") == "succeeded" else 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": local.get("client_secret") or f"{local['id']}_secret_{secrets.token_hex(8)}",
        "confirmation_method": "automatic",
        "created": local.get("created") or int(time.time()),
        "currency": local.get("currency", "usd"),
        "customer": _id(local.get("customer")),
        "description": None,
        "invoice": None,
        "last_payment_error": None,
        "latest_charge": _id(local.get("latest_charge")),
        "livemode": False,
        "metadata": dict(local.get("metadata") or {}),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": _id(local.get("payment_method")),
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": local.get("status", "requires_payment_method"),
        "transfer_data": None,
        "transfer_group": None,
    }
    shaped.update(changes)
    return shaped


def three_d_secure(intent: dict[str, Any]) -> dict[str, Any]:
    """The same PaymentIntent waiting for 3-D Secure (redirect flow), as payment_intent.requires_action."""
    return {
        **intent,
        "status": "requires_action",
        "latest_charge": None,
        "amount_received": 0,
        "next_action": {
            "type": "redirect_to_url",
            "redirect_to_url": {
                "return_url": "http://127.0.0.1:3000/purchases/return",
                "url": f"https://hooks.invalid/3d_secure_2/authenticate/{intent['id']}",
            },
        },
    }


DECLINES = {
    "card_declined": ("generic_decline", "Your card was declined."),
    "authentication_required": (
        "authentication_required",
        "Your card was declined. This transaction requires authentication.",
    ),
}


def payment_failed(intent: dict[str, Any], code: str) -> dict[str, Any]:
    """The same PaymentIntent as payment_intent.payment_failed carries it after an off-session decline:
    back to requires_payment_method, with the card error in last_payment_error."""
    decline_code, message = DECLINES[code]
    return {
        **intent,
        "status": "requires_payment_method",
        "latest_charge": None,
        "amount_received": 0,
        "last_payment_error": {
            "code": code,
            "decline_code": decline_code,
            "doc_url": f"https://docs.invalid/error-codes/{code.replace('_', '-')}",
            "message": message,
            "payment_method": {
                "id": intent.get("payment_method"),
                "object": "payment_method",
                "type": "card",
            },
            "type": "card_error",
        },
    }


def charge(local: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A Charge from localstripe's, in Stripe's shape (no `refunds` list since API version 2022-11-15)."""
    card = ((local.get("payment_method_details") or {}).get("card")) or {}
    amount_refunded = int(local.get("amount_refunded") or 0)
    shaped = {
        "id": local["id"],
        "object": "charge",
        "amount": local["amount"],
        "amount_captured": local["amount"],
        "amount_refunded": amount_refunded,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": "txn_" + local["id"][-20:],
        "billing_details": {
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": None,
            "name": None,
            "phone": None,
        },
        "calculated_statement_descriptor": "CREDITS PLATFORM",
        "captured": True,
        "created": local.get("created") or int(time.time()),
        "currency": local.get("currency", "usd"),
        "customer": _id(local.get("customer")),
        "description": None,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "invoice": None,
        "livemode": False,
        "metadata": dict(local.get("metadata") or {}),
        "on_behalf_of": None,
        "outcome": {
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": True,
        "payment_intent": _id(local.get("payment_intent")),
        "payment_method": _id(local.get("payment_method")),
        "payment_method_details": {
            "card": {
                "amount_authorized": local["amount"],
                "brand": card.get("brand", "visa"),
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "pass",
                },
                "country": "US",
                "exp_month": card.get("exp_month", 12),
                "exp_year": card.get("exp_year", 2034),
                "extended_authorization": {"status": "disabled"},
                "fingerprint": "Xt5EWLLDS7FJjR1c",
                "funding": "credit",
                "incremental_authorization": {"status": "unavailable"},
                "installments": None,
                "last4": card.get("last4", "4242"),
                "mandate": None,
                "multicapture": {"status": "unavailable"},
                "network": "visa",
                "network_token": {"used": False},
                "overcapture": {"maximum_amount_capturable": local["amount"], "status": "unavailable"},
                "three_d_secure": None,
                "wallet": None,
            },
            "type": "card",
        },
        "radar_options": {},
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": None,
        "refunded": amount_refunded >= int(local["amount"]),
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }
    shaped.update(changes)
    return shaped


def refund(local: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A Refund from localstripe's, in Stripe's shape. `status="failed"` adds Stripe's failure fields."""
    shaped = {
        "id": local["id"],
        "object": "refund",
        "amount": local["amount"],
        "balance_transaction": "txn_" + local["id"][-20:],
        "charge": _id(local.get("charge")),
        "created": local.get("created") or int(time.time()),
        "currency": local.get("currency", "usd"),
        "destination_details": {
            "card": {
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": dict(local.get("metadata") or {}),
        "payment_intent": _id(local.get("payment_intent")),
        "reason": "requested_by_customer",
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": local.get("status", "succeeded"),
        "transfer_reversal": None,
    }
    shaped.update(changes)
    if shaped["status"] == "failed":
        shaped.setdefault("failure_reason", "expired_or_canceled_card")
        shaped.setdefault("failure_balance_transaction", "txn_f" + local["id"][-19:])
    return shaped


def dispute_funds(charge_obj: dict[str, Any], amount: int, tag: str) -> dict[str, Any]:
    """One of a Dispute's `balance_transactions`: funds withdrawn (negative) or reinstated (positive),
    the dispute fee apart (`fee`, not in `amount`). `tag` makes its id unique on the charge."""
    withdrawn = amount < 0
    fee = 1500 if withdrawn else 0
    return {
        "id": f"txn_{tag}{charge_obj['id'][-18:]}",
        "object": "balance_transaction",
        "amount": amount,
        "available_on": int(time.time()),
        "created": int(time.time()),
        "currency": charge_obj.get("currency", "usd"),
        "description": f"Chargeback {'withdrawal' if withdrawn else 'reversal'} for {charge_obj['id']}",
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [
            {
                "amount": fee,
                "application": None,
                "currency": "usd",
                "description": "Dispute fee",
                "type": "stripe_fee",
            }
        ]
        if fee
        else [],
        "net": amount - fee,
        "reporting_category": "dispute" if withdrawn else "dispute_reversal",
        "source": "du_" + charge_obj["id"][-20:],
        "status": "available",
        "type": "adjustment",
    }


def dispute(charge_obj: dict[str, Any], status: str = "needs_response", **changes: Any) -> dict[str, Any]:
    """A Dispute on a charge, in Stripe's shape: an inquiry when its status is `warning_*`. No funds
    moved unless `balance_transactions` (dispute_funds) says so."""
    created = int(time.time())
    evidence_fields = [
        "access_activity_log",
        "billing_address",
        "cancellation_policy",
        "cancellation_policy_disclosure",
        "cancellation_rebuttal",
        "customer_communication",
        "customer_email_address",
        "customer_name",
        "customer_purchase_ip",
        "customer_signature",
        "duplicate_charge_documentation",
        "duplicate_charge_explanation",
        "duplicate_charge_id",
        "product_description",
        "receipt",
        "refund_policy",
        "refund_policy_disclosure",
        "refund_refusal_explanation",
        "service_date",
        "service_documentation",
        "shipping_address",
        "shipping_carrier",
        "shipping_date",
        "shipping_documentation",
        "shipping_tracking_number",
        "uncategorized_file",
        "uncategorized_text",
    ]
    shaped = {
        "id": "du_" + charge_obj["id"][-20:],
        "object": "dispute",
        "amount": charge_obj["amount"],
        "balance_transactions": [],
        "charge": charge_obj["id"],
        "created": created,
        "currency": charge_obj.get("currency", "usd"),
        "enhanced_eligibility_types": [],
        "evidence": {field: None for field in evidence_fields},
        "evidence_details": {
            "due_by": created + 7 * 86400,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge_obj.get("payment_intent"),
        "payment_method_details": {
            "card": {
                "brand": "visa",
                "case_type": "inquiry" if status.startswith("warning_") else "chargeback",
                "network_reason_code": "10.4",
            },
            "type": "card",
        },
        "reason": "fraudulent",
        "status": status,
    }
    shaped.update(changes)
    return shaped


def customer(local: dict[str, Any]) -> dict[str, Any]:
    """A Customer from localstripe's, in Stripe's shape (customer.deleted carries the customer as it was)."""
    return {
        "id": local["id"],
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": local.get("created") or int(time.time()),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": local.get("email"),
        "invoice_prefix": "7D5C1F3A",
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": _id(
                (local.get("invoice_settings") or {}).get("default_payment_method")
            ),
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": dict(local.get("metadata") or {}),
        "name": None,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }
