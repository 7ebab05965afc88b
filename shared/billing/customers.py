"""One Stripe customer per user, created at most once even when requests race.

Whoever creates `stripe_customer_claims/{uid}` (create() succeeds once) creates the customer; the others
wait for `users/{uid}.stripe_customer_id`. A claim older than CLAIM_STALE_AFTER (its owner died midway) is
taken over with an update-time precondition (one winner), and the new owner first looks for a customer
the dead owner may have made (the `stripe_customers` mapping, then Stripe by metadata) before creating.
Stripe's Idempotency-Key is sent too, but not relied on (localstripe ignores it).

`customer.deleted` (forget_customer): the customer's cards go (tombstoned: Stripe detached them) and the
account, the mapping and the claim forget it in one batch with the event's marker, so the next need
creates a fresh customer instead of charging one Stripe no longer has.
"""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.accounts.service import account_ref, get_account
from shared.billing.card_store import list_payment_methods, remove_payment_method
from shared.billing.stripe_client import as_dict, call_stripe, stripe_client
from shared.core.clients import current_project, firestore_client
from shared.core.errors import ApiError, ErrorCode
from shared.core.markers import Marker
from shared.core.retry import RETRYABLE_COMMIT_ERRORS, retry_commit
from shared.models import StripeCustomer, StripeCustomerClaim, utc_now

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


def ensure_customer(user_id: str) -> str:
    """The user's Stripe customer id, creating the customer the first time (exactly once)."""
    deadline = time.monotonic() + WAIT_FOR_OWNER_SECONDS
    delay = 0.05
    while True:
        account = get_account(user_id)
        if account.stripe_customer_id:
            return account.stripe_customer_id
        if _take_claim(user_id):
            customer_id = _find_existing(user_id) or _create(user_id, account.email)
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


def _take_claim(user_id: str) -> bool:
    ref = _claim_ref(user_id)
    claim = StripeCustomerClaim(claim_id=secrets.token_hex(8), created_at=utc_now())
    try:
        ref.create(claim.to_firestore())
        return True
    except AlreadyExists:
        pass
    snapshot = ref.get()
    if not snapshot.exists:
        return False
    current = StripeCustomerClaim.from_firestore(snapshot.to_dict())
    if utc_now() - current.created_at < CLAIM_STALE_AFTER:
        return False
    try:
        ref.update(
            claim.to_firestore(), option=firestore.Client.write_option(last_update_time=snapshot.update_time)
        )
        return True
    except RETRYABLE_COMMIT_ERRORS:
        return False  # taken meanwhile, or aborted (nothing written): the caller waits and looks again


def _find_existing(user_id: str) -> str | None:
    mapped = (
        firestore_client()
        .collection(StripeCustomer.collection)
        .where(filter=FieldFilter("user_id", "==", user_id))
        .limit(1)
        .get()
    )
    if mapped:
        return str(mapped[0].id)
    wanted = customer_metadata(user_id)
    customers = call_stripe(lambda: stripe_client().v1.customers.list(params={"limit": 100}))
    for customer in customers.auto_paging_iter():
        data = as_dict(customer)
        metadata = data.get("metadata") or {}
        if data.get("deleted"):
            continue  # a deleted customer (customer.deleted) is never reused
        if all(metadata.get(k) == v for k, v in wanted.items()):
            return str(data["id"])
    return None


def _create(user_id: str, email: str | None) -> str:
    params: dict[str, object] = {"metadata": customer_metadata(user_id)}
    if email:
        params["email"] = email
    customer = call_stripe(
        lambda: stripe_client().v1.customers.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": f"customer-{current_project()}-{user_id}"},
        )
    )
    return str(customer.id)


def _record(user_id: str, customer_id: str) -> None:
    db = firestore_client()
    mapping = StripeCustomer(user_id=user_id, created_at=utc_now())
    db.collection(StripeCustomer.collection).document(customer_id).set(mapping.to_firestore())
    # Only the claim owner writes this field, so a plain field update cannot clobber anyone.
    account_ref(user_id).update({"stripe_customer_id": customer_id, "updated_at": utc_now()})


def forget_customer(user_id: str, customer_id: str, *, deleted_at: datetime, marker: Marker) -> None:
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
        marker.add_to(batch)
        try:
            batch.commit()
        except AlreadyExists:
            return  # a twin delivery of this event did it

    retry_commit(attempt, what=f"customer {customer_id}")
