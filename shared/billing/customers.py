"""One Stripe customer per user, created at most once even when requests race.

Whoever creates `stripe_customer_claims/{uid}` (create() succeeds once) creates the customer; the others
wait for `users/{uid}.stripe_customer_id`. A claim older than CLAIM_STALE_AFTER (its owner died midway) is
taken over with an update-time precondition (one winner), and the new owner first looks for a customer
the dead owner recorded (the `stripe_customers` mapping; never a scan of Stripe's customers) before
creating. The Idempotency-Key sent to Stripe names the claim, which a takeover keeps: within 24 hours Stripe
answers the customer a dead owner made but did not record. A customer made and never recorded past that
(or on localstripe, which ignores the key) is left unused; it has no cards, since none are added before the
customer is recorded.

`customer.deleted` (forget_customer): the customer's cards go (tombstoned: Stripe detached them) and the
account, the mapping and the claim forget it in one batch with the event's marker, so the next need
creates a fresh customer instead of charging one Stripe no longer has.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.accounts.service import account_ref, get_account
from shared.billing.card_store import list_payment_methods, remove_payment_method
from shared.billing.stripe_client import as_dict, call_stripe, stripe_client
from shared.core import logs
from shared.core.clients import current_project, firestore_client
from shared.core.errors import ApiError, ErrorCode
from shared.core.markers import Marker, add_marker
from shared.core.retry import RETRYABLE_COMMIT_ERRORS, retry_commit
from shared.models import StripeCustomer, StripeCustomerClaim, utc_now

T = TypeVar("T")
CLAIM_STALE_AFTER = timedelta(seconds=60)
WAIT_FOR_OWNER_SECONDS = 20.0


def _claim_ref(user_id: str) -> firestore.DocumentReference:
    return firestore_client().collection(StripeCustomerClaim.collection).document(user_id)


def customer_metadata(user_id: str) -> dict[str, str]:
    # The project tells apart environments (and test projects) sharing one Stripe account.
    return {"user_id": user_id, "platform_project": current_project()}


def user_for_customer(customer_id: str) -> str | None:
    """The user owning a Stripe customer, or None for a customer this platform (project) did not make."""
    snapshot = firestore_client().collection(StripeCustomer.collection).document(customer_id).get()
    if not snapshot.exists:
        return None
    return StripeCustomer.from_firestore(snapshot.to_dict()).user_id


def awaiting_record(customer_id: str) -> bool:
    """Whether a Stripe customer this project has no mapping for is one of its own not recorded yet: its
    metadata names this project and a user whose account links no customer (the request that made it has
    not recorded it yet, or died before; a takeover records it). Read from Stripe, not from an event's
    copy: a customer deleted since is not awaited."""
    customer = stripe_customer(customer_id)
    if customer is None:
        return False
    metadata = customer.get("metadata") or {}
    user_id = metadata.get("user_id")
    if customer.get("deleted") or metadata.get("platform_project") != current_project():
        return False
    if not isinstance(user_id, str) or not user_id:
        return False
    snapshot = account_ref(user_id).get()
    return bool(snapshot.exists) and not (snapshot.to_dict() or {}).get("stripe_customer_id")


def ensure_customer(user_id: str) -> str:
    """The user's Stripe customer id, creating the customer the first time (exactly once)."""
    deadline = time.monotonic() + WAIT_FOR_OWNER_SECONDS
    delay = 0.05
    while True:
        account = get_account(user_id)
        if account.stripe_customer_id:
            return account.stripe_customer_id
        claim_id = _take_claim(user_id)
        if claim_id is not None:
            customer_id = _find_existing(user_id) or _create(user_id, account.email, claim_id)
            _record(user_id, customer_id)
            return customer_id
        if time.monotonic() > deadline:
            raise ApiError(
                ErrorCode.SERVICE_UNAVAILABLE,
                "Your payment profile is being set up; try again.",
                headers={"Retry-After": "2"},
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def _take_claim(user_id: str) -> str | None:
    """The claim's id when this caller now owns the claim, else None (someone else is making the customer).
    Taking over a stale claim keeps its id, and with it the idempotency key the dead owner sent Stripe."""
    ref = _claim_ref(user_id)
    claim = StripeCustomerClaim(claim_id=secrets.token_hex(8), created_at=utc_now())
    try:
        ref.create(claim.to_firestore())
        return claim.claim_id
    except AlreadyExists:
        pass
    snapshot = ref.get()
    if not snapshot.exists:
        return None
    current = StripeCustomerClaim.from_firestore(snapshot.to_dict())
    if utc_now() - current.created_at < CLAIM_STALE_AFTER:
        return None
    try:
        ref.update(
            {"created_at": utc_now()},
            option=firestore.Client.write_option(last_update_time=snapshot.update_time),
        )
        return current.claim_id
    except RETRYABLE_COMMIT_ERRORS:
        return None  # taken meanwhile, or aborted (nothing written): the caller waits and looks again


def _find_existing(user_id: str) -> str | None:
    """The customer this platform recorded for the user (its own mapping; never a scan of Stripe's
    customers). A deleted customer's mapping is gone (forget_customer), so it is never found again."""
    mapped = (
        firestore_client()
        .collection(StripeCustomer.collection)
        .where(filter=FieldFilter("user_id", "==", user_id))
        .limit(1)
        .get()
    )
    return str(mapped[0].id) if mapped else None


def customer_idempotency_key(user_id: str, claim_id: str) -> str:
    """Per claim, not per user: after customer.deleted the claim goes, so the next customer is made under a
    new key; Stripe would otherwise answer the deleted customer again for 24 hours."""
    return f"customer-{current_project()}-{user_id}-{claim_id}"


def _create(user_id: str, email: str | None, claim_id: str) -> str:
    params: dict[str, object] = {"metadata": customer_metadata(user_id)}
    if email:
        params["email"] = email
    customer = call_stripe(
        lambda: stripe_client().v1.customers.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": customer_idempotency_key(user_id, claim_id)},
        )
    )
    return str(customer.id)


def _record(user_id: str, customer_id: str) -> None:
    db = firestore_client()
    mapping = StripeCustomer(user_id=user_id, created_at=utc_now())
    db.collection(StripeCustomer.collection).document(customer_id).set(mapping.to_firestore())
    # Only the claim owner writes this field, so a plain field update cannot clobber anyone.
    account_ref(user_id).update({"stripe_customer_id": customer_id, "updated_at": utc_now()})


def stripe_customer(customer_id: str) -> dict[str, Any] | None:
    """The customer as Stripe has it now (`deleted: true` once deleted), None when Stripe does not know it."""
    gone = ApiError(ErrorCode.RESOURCE_MISSING, "unknown customer")
    try:
        return as_dict(
            call_stripe(lambda: stripe_client().v1.customers.retrieve(customer_id), not_found=gone)
        )
    except ApiError as exc:
        if exc is gone:
            return None
        raise


def customer_gone(customer_id: str) -> bool:
    """Whether Stripe no longer knows this customer (deleted there, its event not applied here)."""
    customer = stripe_customer(customer_id)
    return customer is None or bool(customer.get("deleted"))


def forget_lost_customer(user_id: str, customer_id: str) -> None:
    """Stripe answered that the stored customer is missing: forget it as customer.deleted would, so the
    next need makes a new one (its cards went with it in Stripe)."""
    logs.warning("stripe no longer knows the stored customer; forgetting it", customer=customer_id)
    forget_customer(user_id, customer_id, deleted_at=utc_now())


def with_customer(user_id: str, action: Callable[[str], T]) -> T:
    """Run `action` with the user's Stripe customer. If Stripe refuses it because it no longer knows that
    customer (deleted in Stripe, the event not applied here), forget it and run once more with a new one."""
    customer_id = ensure_customer(user_id)
    try:
        return action(customer_id)
    except ApiError as exc:
        if exc.code is not ErrorCode.STRIPE_REJECTED or not customer_gone(customer_id):
            raise
    forget_lost_customer(user_id, customer_id)
    return action(ensure_customer(user_id))


def forget_customer(
    user_id: str, customer_id: str, *, deleted_at: datetime, marker: Marker | None = None
) -> None:
    """customer.deleted: remove its cards here, then unlink it (mapping, claim, account) with the marker.
    Card removal is idempotent (tombstones), so a retry after a failure midway completes the work."""
    for card_id, card in list_payment_methods(user_id):
        if card.stripe_customer_id == customer_id:
            remove_payment_method(card_id, user_id=user_id, detached_at=deleted_at)
    db = firestore_client()

    def attempt() -> None:
        snapshot = account_ref(user_id).get()
        batch = db.batch()
        batch.delete(db.collection(StripeCustomer.collection).document(customer_id))
        linked = snapshot.exists and (snapshot.to_dict() or {}).get("stripe_customer_id") == customer_id
        if linked:
            # Only this customer's link goes: a fresh customer made meanwhile stays.
            batch.delete(_claim_ref(user_id))
            batch.update(
                account_ref(user_id),
                {"stripe_customer_id": None, "updated_at": utc_now()},
                option=db.write_option(last_update_time=snapshot.update_time),
            )
        add_marker(batch, marker)
        try:
            batch.commit()
        except AlreadyExists:
            return  # a twin delivery of this event did it

    retry_commit(attempt, what=f"customer {customer_id}")
