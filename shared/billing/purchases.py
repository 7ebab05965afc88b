"""Credit purchases: a `purchases/{id}` document, a Stripe PaymentIntent, and the credits granted once.

Idempotency-Key: the purchase id is derived from (project, user, key), so a replay finds the same document
by construction; a different body under the same key is refused (409). Only the request that created the
document creates the PaymentIntent (Stripe also gets an idempotency key naming the purchase).

Granting (shared by the API and the Stripe events, in any order, any number of times): `apply_credit_change`
with marker `grant:purchase:{id}`: at most once, ever. Proof of payment is any of payment_intent.succeeded,
charge.succeeded, or any refund or dispute event: a refund seen before the success grants first and takes
back after (shared/billing/settlement.py), so the ledger tells the whole story.
Before a grant, the purchase shows the PaymentIntent's state (processing, requires_action with its
next_action, failed, canceled) so a customer sees why credits have not arrived.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from google.api_core.exceptions import AlreadyExists, GoogleAPICallError
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.accounts.service import get_account
from shared.billing.card_store import list_payment_methods
from shared.billing.customers import customer_gone, ensure_customer, forget_lost_customer
from shared.billing.money_facts import dispute_status, refunded
from shared.billing.stripe_client import (
    STRIPE_CALL_WORST_S,
    STRIPE_UNREACHABLE,
    as_dict,
    call_stripe,
    stripe_client,
    stripe_livemode,
)
from shared.core import logs
from shared.core.clients import current_project, firestore_client
from shared.core.errors import ApiError, ErrorCode, not_found
from shared.core.markers import Marker
from shared.core.retry import RETRYABLE_COMMIT_ERRORS, retry_commit
from shared.core.ttl_cache import TtlCache
from shared.credits.ledger import (
    CreditChange,
    NewGrant,
    apply_credit_change,
    purchase_grant,
    purchase_grant_id,
)
from shared.models import (
    CreditPackage,
    LedgerEntryType,
    NextAction,
    Purchase,
    PurchaseStatus,
    utc_now,
)
from shared.system.config import config_ref, seed_system_config

ABANDONED_AFTER = timedelta(seconds=60)
# The purchase path's own budget, inside the api function's 60 s timeout (the rest: Firestore writes after
# the last Stripe call). A Stripe call starts only while STRIPE_CALL_WORST_S of it remains.
PURCHASE_BUDGET_S = 50.0


def stripe_call_fits(now_s: float, deadline_s: float) -> bool:
    """A Stripe call started at `now_s` ends by `deadline_s` even if every try times out."""
    return now_s + STRIPE_CALL_WORST_S <= deadline_s


def _before_stripe_call(deadline_s: float) -> None:
    if not stripe_call_fits(time.monotonic(), deadline_s):
        # The purchase stays pending (an unconfirmed PaymentIntent charges nobody); the retry this asks for
        # takes it over at once (the hold is released on a 5xx) and goes on from what is recorded.
        STRIPE_UNREACHABLE.warning("a purchase ran out of time for its next Stripe call")
        raise ApiError(
            ErrorCode.STRIPE_ERROR,
            "The payment provider is slow; retry with the same Idempotency-Key.",
            headers={"Retry-After": "5"},
        )


def purchase_ref(purchase_id: str) -> firestore.DocumentReference:
    return firestore_client().collection(Purchase.collection).document(purchase_id)


def load_purchase(purchase_id: str) -> Purchase | None:
    snapshot = purchase_ref(purchase_id).get()
    return Purchase.from_firestore(snapshot.to_dict()) if snapshot.exists else None


# The public list (GET /v1/credit_packages, no authentication) is served from this; a purchase reads fresh.
PACKAGES_REFRESH_SECONDS = 10.0
_packages_on_sale: TtlCache[str, dict[str, CreditPackage]] = TtlCache(PACKAGES_REFRESH_SECONDS)


def cached_credit_packages() -> dict[str, CreditPackage]:
    """The packages on sale, read at most every PACKAGES_REFRESH_SECONDS per instance (a public route must
    not cost a Firestore read per call)."""
    return _packages_on_sale.get("credit_packages", lambda _previous: credit_packages())


def credit_packages() -> dict[str, CreditPackage]:
    """From system/config (seeded with the defaults when missing); never from the client."""
    snapshot = config_ref().get(field_paths=["credit_packages"])
    if not snapshot.exists or "credit_packages" not in (snapshot.to_dict() or {}):
        seed_system_config()
        snapshot = config_ref().get(field_paths=["credit_packages"])
    raw: dict[str, Any] = (snapshot.to_dict() or {}).get("credit_packages") or {}
    return {name: CreditPackage.from_firestore(value) for name, value in raw.items()}


def credit_package_resource(
    package_id: str, package: CreditPackage, base_rate: float | None = None
) -> dict[str, Any]:
    """base_rate: the lowest credits-per-cent on sale; the bonus is what this package gives above it."""
    bonus = 0
    if base_rate:
        bonus = max(0, round(100 * package.credits / (package.price * base_rate)) - 100)
    return {"package": package_id, **package.model_dump(mode="json"), "bonus_percent": bonus}


def base_credit_rate(packages: Iterable[CreditPackage]) -> float | None:
    """Credits per cent of the least generous package (same currency assumed: all prices are US cents)."""
    rates = [package.credits / package.price for package in packages]
    return min(rates) if rates else None


def purchase_resource(purchase_id: str, purchase: Purchase) -> dict[str, Any]:
    return {
        "purchase_id": purchase_id,
        "package": purchase.package,
        "credits": purchase.credits,
        "amount": purchase.amount,
        "currency": purchase.currency,
        "status": purchase.status,
        "payment_intent_id": purchase.payment_intent_id,
        "payment_method_id": purchase.payment_method_id,
        "credits_granted": purchase.credits_granted,
        "credits_clawed_back": purchase.credits_clawed_back,
        "amount_refunded": min(refunded(purchase), purchase.amount),
        "dispute_status": dispute_status(purchase),
        "next_action": purchase.next_action.model_dump() if purchase.next_action is not None else None,
        "failure_code": purchase.failure_code,
        "livemode": purchase.livemode,
        "created_at": purchase.created_at,
        "updated_at": purchase.updated_at,
    }


def get_own_purchase(user_id: str, purchase_id: str) -> Purchase:
    purchase = load_purchase(purchase_id) if purchase_id.startswith("pur_") else None
    if purchase is None or purchase.user_id != user_id:
        raise not_found("purchase", param="purchase_id")
    return purchase


def purchase_id_for(user_id: str, idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return "pur_" + secrets.token_hex(12)
    digest = hashlib.sha256(f"{current_project()}\x00{user_id}\x00{idempotency_key}".encode()).hexdigest()
    return "pur_" + digest[:24]


def request_hash(package: str, payment_method_id: str | None) -> str:
    canonical = json.dumps({"package": package, "payment_method_id": payment_method_id}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_purchase(
    user_id: str, package_id: str, payment_method_id: str | None, idempotency_key: str | None
) -> tuple[str, Purchase, bool]:
    """Returns (purchase id, purchase, created by this request)."""
    deadline_s = time.monotonic() + PURCHASE_BUDGET_S
    purchase_id = purchase_id_for(user_id, idempotency_key)
    body_hash = request_hash(package_id, payment_method_id)
    if idempotency_key is not None and (replay := _replay(purchase_id, body_hash, deadline_s)) is not None:
        return purchase_id, replay, False
    packages = credit_packages()
    package = packages.get(package_id)
    if package is None:
        raise ApiError(
            ErrorCode.PARAMETER_INVALID,
            f"Unknown package {package_id!r}; choose one of {', '.join(sorted(packages))}.",
            param="package",
        )
    get_account(user_id)
    card_id = _card_for(user_id, payment_method_id)
    customer_id = ensure_customer(user_id)
    now = utc_now()
    purchase = Purchase(
        user_id=user_id,
        package=package_id,
        credits=package.credits,
        amount=package.price,
        currency=package.currency,
        payment_method_id=card_id,
        livemode=stripe_livemode(),
        idempotency_key=idempotency_key,
        request_hash=body_hash,
        created_at=now,
        updated_at=now,
    )
    try:
        purchase_ref(purchase_id).create(purchase.to_firestore())
    except AlreadyExists:
        replay = _replay(purchase_id, body_hash, deadline_s)
        if replay is None:
            raise ApiError(
                ErrorCode.SERVICE_UNAVAILABLE, "Try again.", headers={"Retry-After": "1"}
            ) from None
        return purchase_id, replay, False
    _charge_holding(purchase_id, purchase, customer_id, deadline_s)
    return purchase_id, load_purchase(purchase_id) or purchase, True


def _replay(purchase_id: str, body_hash: str, deadline_s: float) -> Purchase | None:
    snapshot = purchase_ref(purchase_id).get()
    if not snapshot.exists:
        return None
    existing = Purchase.from_firestore(snapshot.to_dict())
    if existing.request_hash != body_hash:
        raise ApiError(
            ErrorCode.IDEMPOTENCY_KEY_IN_USE,
            "This Idempotency-Key was used with different parameters; use a new key for a new purchase.",
        )
    if existing.status is PurchaseStatus.PENDING:
        held = utc_now() - (existing.updated_at or existing.created_at) < ABANDONED_AFTER
        if held and not existing.hold_released:
            raise ApiError(
                ErrorCode.IDEMPOTENCY_KEY_IN_USE,
                "A request with this Idempotency-Key is still in progress; retry shortly.",
                headers={"Retry-After": "2"},
            )
        # Its creator died before the charge ended, or answered 502/503 and let go: one replay takes it
        # over (precondition) and charges, through the PaymentIntent recorded if there is one.
        try:
            purchase_ref(purchase_id).update(
                {"updated_at": utc_now(), "hold_released": False},
                option=firestore_client().write_option(last_update_time=snapshot.update_time),
            )
        except RETRYABLE_COMMIT_ERRORS:
            raise ApiError(
                ErrorCode.IDEMPOTENCY_KEY_IN_USE,
                "A request with this Idempotency-Key is in progress; retry shortly.",
            ) from None
        _charge_holding(purchase_id, existing, ensure_customer(existing.user_id), deadline_s)
        return load_purchase(purchase_id) or existing
    return existing


def _charge_holding(purchase_id: str, purchase: Purchase, customer_id: str, deadline_s: float) -> None:
    """_charge by the request holding the purchase. A 5xx answer (Stripe unreachable, a write that kept
    losing races) asks the caller to retry with the same Idempotency-Key: the hold is released first, so
    that retry takes the purchase over at once instead of a 409 until the hold runs out."""
    try:
        _charge(purchase_id, purchase, customer_id, deadline_s)
    except ApiError as exc:
        if exc.status >= 500:
            _release_hold(purchase_id)
        raise


def _release_hold(purchase_id: str) -> None:
    try:
        purchase_ref(purchase_id).update({"hold_released": True})
    except GoogleAPICallError as exc:
        # The hold then runs out by itself (60 s): the retry waits longer, nothing else changes.
        logs.exception("releasing a purchase's hold failed", exc, purchase_id=purchase_id)


def _card_for(user_id: str, payment_method_id: str | None) -> str:
    cards = list_payment_methods(user_id)
    if payment_method_id is not None:
        for card_id, _card in cards:
            if card_id == payment_method_id:
                return card_id
        raise not_found("payment method", param="payment_method_id")
    for card_id, card in cards:
        if card.is_default:
            return card_id
    raise ApiError(
        ErrorCode.NO_DEFAULT_PAYMENT_METHOD,
        "Add a card (or name one with payment_method_id) before buying credits.",
        param="payment_method_id",
    )


def _charge(purchase_id: str, purchase: Purchase, customer_id: str, deadline_s: float = math.inf) -> None:
    """Create the purchase's PaymentIntent, record it on the purchase, and only then confirm it.

    A purchase taken over (its first request died) finds its PaymentIntent recorded and confirms that one,
    or sees how it ended, instead of creating another: one purchase never has two PaymentIntents, even
    after Stripe has forgotten the idempotency key (24 hours). A request that dies between creating and
    recording leaves an unconfirmed PaymentIntent, which charges nobody. The charge is on-session: the
    buyer is in the dashboard, so a card that needs 3-D Secure answers requires_action with next_action."""
    import stripe

    intent_id = purchase.payment_intent_id
    try:
        if intent_id is None:
            _before_stripe_call(deadline_s)
            created = as_dict(
                stripe_client().v1.payment_intents.create(
                    params=_intent_params(purchase_id, purchase, customer_id),  # type: ignore[arg-type]
                    options={"idempotency_key": f"purchase-{current_project()}-{purchase_id}"},
                )
            )
            intent_id = _record_intent(purchase_id, str(created["id"]))
            if intent_id == created["id"]:
                intent = created
            else:
                _before_stripe_call(deadline_s)
                intent = as_dict(stripe_client().v1.payment_intents.retrieve(intent_id))
        else:
            _before_stripe_call(deadline_s)
            intent = as_dict(stripe_client().v1.payment_intents.retrieve(intent_id))
        if intent.get("status") == "requires_confirmation":
            _before_stripe_call(deadline_s)
            intent = as_dict(stripe_client().v1.payment_intents.confirm(intent_id))
    except (stripe.CardError, stripe.InvalidRequestError) as exc:
        # A refused confirm does not say the intent failed: another holder of the purchase (a takeover) or
        # an earlier try of a slow call may have confirmed it already (payment_intent_unexpected_state).
        # What the PaymentIntent says now is the answer, unless it says the payment failed (then the
        # refusal's own code is the more precise reason).
        current = (
            _intent_now(intent_id)
            if intent_id is not None and stripe_call_fits(time.monotonic(), deadline_s)
            else None
        )
        if intent_id is not None and current is not None and _failure_of(current) is None:
            _record_intent_state(purchase_id, intent_id, current)
            return
        # Stripe refused this charge (declined card; a card it no longer knows, detached, unusable): the
        # caller's card, not an outage. Nothing was charged, so the purchase ends failed.
        error_intent: Any = getattr(exc.error, "payment_intent", None)
        fallback = "card_declined" if isinstance(exc, stripe.CardError) else "invalid_request"
        if isinstance(exc, stripe.InvalidRequestError):
            fallback = "resource_missing" if exc.http_status == 404 else fallback
            if customer_gone(customer_id):
                # Deleted in Stripe with its cards (the event never applied here): forget both, so the
                # next card makes a new customer instead of every purchase failing against this one.
                forget_lost_customer(purchase.user_id, customer_id)
        _record_outcome(
            purchase_id,
            payment_intent_id=intent_id or getattr(error_intent, "id", None),
            failure_code=exc.code or fallback,
        )
        return
    except stripe.StripeError as exc:
        # An outage (connection, 5xx, rate limit, ...): the purchase stays pending and the caller retries;
        # if Stripe did charge, its events still find the purchase by metadata.
        STRIPE_UNREACHABLE.warning(
            "charging a purchase failed",
            error=repr(exc),
            exception_type=type(exc).__name__,
            purchase_id=purchase_id,
        )
        raise ApiError(
            ErrorCode.STRIPE_ERROR,
            "The payment provider is unavailable; retry with the same Idempotency-Key.",
            headers={"Retry-After": "5"},
        ) from None
    _record_intent_state(purchase_id, intent_id, intent)


def _record_intent_state(purchase_id: str, intent_id: str, intent: dict[str, Any]) -> None:
    """The purchase shows the PaymentIntent as Stripe has it (granted when it succeeded)."""
    _record_outcome(
        purchase_id,
        payment_intent_id=intent_id,
        failure_code=_failure_of(intent),
        next_action=next_action_of(intent),
    )
    if intent.get("status") == "succeeded":
        grant_purchase(purchase_id, payment_intent_id=intent_id)


def _intent_now(intent_id: str) -> dict[str, Any] | None:
    """The PaymentIntent as Stripe has it now, or None when it cannot be read (then the refusal stands)."""
    import stripe

    try:
        intent = as_dict(stripe_client().v1.payment_intents.retrieve(intent_id))
    except stripe.StripeError as exc:
        logs.warning("re-reading a refused PaymentIntent failed", intent_id=intent_id, error=repr(exc))
        return None
    return intent


def charge_off_session(purchase_id: str, purchase: Purchase) -> None:
    """Charge an auto top-up's purchase with the default card, the customer away: the PaymentIntent is
    created confirmed and off-session (a card that needs authentication fails instead of asking)."""
    card_id = _card_for(purchase.user_id, None)
    if purchase.payment_method_id != card_id:
        purchase_ref(purchase_id).update({"payment_method_id": card_id})
        purchase = purchase.model_copy(update={"payment_method_id": card_id})
    _charge(purchase_id, purchase, ensure_customer(purchase.user_id))


def _intent_params(purchase_id: str, purchase: Purchase, customer_id: str) -> dict[str, Any]:
    off_session = {"confirm": True, "off_session": True} if purchase.auto_top_up else {}
    return {
        **off_session,
        "amount": purchase.amount,
        "currency": purchase.currency,
        "customer": customer_id,
        "payment_method": purchase.payment_method_id,
        "metadata": {
            "purchase_id": purchase_id,
            "user_id": purchase.user_id,
            "platform_project": current_project(),
        },
    }


def _failure_of(intent: dict[str, Any]) -> str | None:
    """Why a PaymentIntent found (not confirmed now) did not pay: a decline recorded by Stripe, or canceled."""
    status = intent.get("status")
    if status not in ("requires_payment_method", "canceled"):
        return None
    error = intent.get("last_payment_error")
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else str(status)


def _record_intent(purchase_id: str, payment_intent_id: str) -> str:
    """Record the purchase's PaymentIntent before it is confirmed; the one already recorded wins."""
    db = firestore_client()
    ref = purchase_ref(purchase_id)

    def attempt() -> str:
        snapshot = ref.get()
        current = Purchase.from_firestore(snapshot.to_dict())
        if current.payment_intent_id is not None:
            return current.payment_intent_id
        ref.update(
            {"payment_intent_id": payment_intent_id, "updated_at": utc_now()},
            option=db.write_option(last_update_time=snapshot.update_time),
        )
        return payment_intent_id

    return retry_commit(attempt, what=f"purchase {purchase_id}")


def _record_outcome(
    purchase_id: str,
    *,
    payment_intent_id: str | None,
    failure_code: str | None,
    next_action: NextAction | None = None,
) -> None:
    """Note the PaymentIntent (a decline; 3-D Secure to do) without undoing what an event already recorded."""
    db = firestore_client()
    ref = purchase_ref(purchase_id)

    def attempt() -> None:
        snapshot = ref.get()
        current = Purchase.from_firestore(snapshot.to_dict())
        update: dict[str, Any] = {"updated_at": utc_now()}
        if payment_intent_id is not None and current.payment_intent_id is None:
            update["payment_intent_id"] = payment_intent_id
        if current.status is PurchaseStatus.PENDING:
            update["status"] = (
                PurchaseStatus.FAILED.value if failure_code else PurchaseStatus.PROCESSING.value
            )
            if failure_code:
                update["failure_code"] = failure_code
            elif next_action is not None:
                update["status"] = PurchaseStatus.REQUIRES_ACTION.value
                update["next_action"] = next_action.to_firestore()
        ref.update(update, option=db.write_option(last_update_time=snapshot.update_time))

    retry_commit(attempt, what=f"purchase {purchase_id}")


def grant_purchase(
    purchase_id: str, marker: Marker | None = None, *, payment_intent_id: str | None = None
) -> bool:
    """Grant the purchase's credits unless already granted. With a marker, the event's marker is
    created in the same batch. The PaymentIntent that paid (when the caller knows it) is recorded with the
    grant, if the purchase has none yet: an API call that died after Stripe answered left it unrecorded.
    Returns True when this call granted them."""
    purchase = load_purchase(purchase_id)
    if purchase is None:
        raise ValueError(f"no purchase {purchase_id}")
    unrecorded = payment_intent_id if purchase.payment_intent_id is None else None
    if purchase.credits_granted:
        if unrecorded is not None:
            _record_outcome(purchase_id, payment_intent_id=unrecorded, failure_code=None)
        return False
    ref = purchase_ref(purchase_id)

    def mark_granted(batch: firestore.WriteBatch, balance_after: int) -> None:
        update: dict[str, Any] = {
            "status": PurchaseStatus.SUCCEEDED.value,
            "credits_granted": True,
            "failure_code": None,
            "next_action": None,
            "updated_at": utc_now(),
        }
        if unrecorded is not None:
            update["payment_intent_id"] = unrecorded
        batch.update(ref, update)
        if marker is not None:
            marker.add_to(batch)

    change = CreditChange(
        user_id=purchase.user_id,
        amount=purchase.credits,
        type=LedgerEntryType.PURCHASE,
        reference=purchase_id,
        description=f"{purchase.package} package: {purchase.credits} credits",
        marker_id=f"grant:purchase:{purchase_id}",
        effect=NewGrant(
            purchase_grant_id(purchase_id), purchase_grant(purchase.user_id, purchase_id, purchase, utc_now())
        ),
    )
    try:
        return not apply_credit_change(change, mark_granted).already_applied
    except AlreadyExists:
        # Only our event marker can be the culprit: a twin delivery of this event did it all.
        if marker is not None and marker.exists():
            return False
        raise


# PaymentIntent states a purchase shows while no credits were granted, in event order (newest wins).
OPEN_STATUSES = frozenset(
    {
        PurchaseStatus.PENDING,
        PurchaseStatus.PROCESSING,
        PurchaseStatus.REQUIRES_ACTION,
        PurchaseStatus.FAILED,
    }
)


def next_action_of(intent: dict[str, Any]) -> NextAction | None:
    """The step a `requires_action` PaymentIntent waits for (3-D Secure), as the dashboard must show it."""
    action = intent.get("next_action")
    if not isinstance(action, dict) or not isinstance(action.get("type"), str):
        return None
    redirect = action.get("redirect_to_url")
    url = redirect.get("url") if isinstance(redirect, dict) else None
    secret = intent.get("client_secret")
    return NextAction(
        type=action["type"],
        redirect_url=url if isinstance(url, str) else None,
        client_secret=secret if isinstance(secret, str) else None,
    )


def apply_intent_state(
    purchase_id: str,
    status: PurchaseStatus,
    as_of: datetime,
    marker: Marker,
    *,
    failure_code: str | None = None,
    next_action: NextAction | None = None,
) -> None:
    """payment_intent.processing / requires_action / payment_failed / canceled on a purchase not paid.

    Credits are never touched. A granted purchase keeps its status (payment proven), a canceled one stays
    canceled (Stripe never reopens a canceled PaymentIntent), and an older state arriving late changes
    nothing. The event's marker rides in the same batch."""
    db = firestore_client()
    ref = purchase_ref(purchase_id)

    def attempt() -> None:
        snapshot = ref.get()
        current = Purchase.from_firestore(snapshot.to_dict())
        stale = current.intent_status_at is not None and as_of < current.intent_status_at
        if current.credits_granted or current.status not in OPEN_STATUSES or stale:
            marker.record_alone()
            return
        update: dict[str, Any] = {
            "status": status.value,
            "next_action": next_action.to_firestore() if next_action is not None else None,
            "intent_status_at": as_of,
            "updated_at": utc_now(),
        }
        if status is PurchaseStatus.FAILED:
            update["failure_code"] = failure_code or "payment_failed"
        elif status is not PurchaseStatus.CANCELED:
            update["failure_code"] = None  # a new attempt is under way (a canceled one keeps why it failed)
        batch = db.batch()
        batch.update(ref, update, option=db.write_option(last_update_time=snapshot.update_time))
        marker.add_to(batch)
        try:
            batch.commit()
        except AlreadyExists:
            return  # a twin delivery of this event did it

    retry_commit(attempt, what=f"purchase {purchase_id}")


def purchase_for_intent(intent: dict[str, Any]) -> tuple[str, Purchase] | None:
    """The purchase a PaymentIntent pays for, or None when it is not ours (another project or platform)
    or does not match what was sold (amount, currency, user)."""
    metadata = intent.get("metadata") or {}
    purchase_id = metadata.get("purchase_id")
    if not isinstance(purchase_id, str) or not purchase_id.startswith("pur_"):
        return None
    purchase = load_purchase(purchase_id)
    if purchase is None:
        return None
    intent_id = intent.get("id")
    mismatch = (
        metadata.get("user_id") != purchase.user_id
        or intent.get("amount") != purchase.amount
        or str(intent.get("currency", "")).lower() != purchase.currency.lower()
        or (purchase.payment_intent_id is not None and purchase.payment_intent_id != intent_id)
    )
    if mismatch:
        logs.warning("payment intent does not match its purchase", purchase_id=purchase_id, intent=intent_id)
        return None
    return purchase_id, purchase


def purchase_for_payment_intent_id(payment_intent_id: str) -> tuple[str, Purchase] | None:
    """For charge and dispute events: the purchase recorded with this PaymentIntent, else the one its
    metadata names (the event may come before the API recorded the PaymentIntent)."""
    recorded = (
        firestore_client()
        .collection(Purchase.collection)
        .where(filter=FieldFilter("payment_intent_id", "==", payment_intent_id))
        .limit(1)
        .get()
    )
    if recorded:
        return str(recorded[0].id), Purchase.from_firestore(recorded[0].to_dict())
    gone = ApiError(ErrorCode.RESOURCE_MISSING, "unknown payment intent")
    try:
        intent = as_dict(
            call_stripe(
                lambda: stripe_client().v1.payment_intents.retrieve(payment_intent_id), not_found=gone
            )
        )
    except ApiError as exc:
        if exc is gone:
            return None
        raise
    return purchase_for_intent(intent)
