"""`payment_methods/{pm_id}`: the user's cards, kept in sync with Stripe by the API and by Stripe events.

Ordering: each document keeps `stripe_synced_at`, the time of the newest Stripe state applied (an event's
`created`, or the server clock for the API's own calls); older states arriving late change nothing.
Detaching leaves a tombstone (`detached_payment_methods/{pm_id}`): Stripe never re-attaches a detached
PaymentMethod, so any later attach/update for it is stale by definition. Every write carries preconditions
(the document's update time, the tombstone's absence) and is retried on conflict; an event's marker rides
in the same batch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.api_core.exceptions import AlreadyExists, FailedPrecondition, NotFound
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.core.clients import firestore_client
from shared.core.markers import Marker, add_marker
from shared.core.retry import RETRYABLE_COMMIT_ERRORS, retry_commit
from shared.models import DetachedPaymentMethod, PaymentMethod, utc_now

T = TypeVar("T")
MAX_ATTEMPTS = 50
# NotFound: a precondition on a document that vanished meanwhile; read again like any lost race.
RETRY_ON: tuple[type[Exception], ...] = (*RETRYABLE_COMMIT_ERRORS, NotFound)


def _retry_card_write(attempt: Callable[[], T], what: str) -> T:
    """Card writes race Stripe events and API calls on the same documents: read again on any lost race."""
    return retry_commit(attempt, what=what, max_attempts=MAX_ATTEMPTS, retry_on=RETRY_ON, step=0.01, cap=0.2)


def pm_ref(payment_method_id: str) -> firestore.DocumentReference:
    return firestore_client().collection(PaymentMethod.collection).document(payment_method_id)


def tombstone_ref(payment_method_id: str) -> firestore.DocumentReference:
    return firestore_client().collection(DetachedPaymentMethod.collection).document(payment_method_id)


def is_detached(payment_method_id: str) -> bool:
    return bool(tombstone_ref(payment_method_id).get().exists)


def from_unix(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def card_fields(stripe_pm: dict[str, Any]) -> dict[str, Any]:
    card = stripe_pm.get("card") or {}
    last4 = card.get("last4")
    return {
        "type": str(stripe_pm.get("type") or "card"),
        "brand": card.get("brand"),
        "last4": last4 if isinstance(last4, str) and len(last4) == 4 else None,
        "exp_month": card.get("exp_month"),
        "exp_year": card.get("exp_year"),
    }


def get_payment_method(payment_method_id: str) -> PaymentMethod | None:
    snapshot = pm_ref(payment_method_id).get()
    return PaymentMethod.from_firestore(snapshot.to_dict()) if snapshot.exists else None


def list_payment_methods(user_id: str) -> list[tuple[str, PaymentMethod]]:
    snapshots = (
        firestore_client()
        .collection(PaymentMethod.collection)
        .where(filter=FieldFilter("user_id", "==", user_id))
        .limit(100)
        .get()
    )
    found = [(s.id, PaymentMethod.from_firestore(s.to_dict())) for s in snapshots]
    return sorted(found, key=lambda item: (item[1].created_at, item[0]))


def payment_method_resource(payment_method_id: str, pm: PaymentMethod) -> dict[str, Any]:
    return {
        "payment_method_id": payment_method_id,
        "type": pm.type,
        "brand": pm.brand,
        "last4": pm.last4,
        "exp_month": pm.exp_month,
        "exp_year": pm.exp_year,
        "is_default": pm.is_default,
        "created_at": pm.created_at,
        "updated_at": pm.updated_at,
    }


def _commit(batch: firestore.WriteBatch, marker: Marker | None) -> bool:
    """True when committed; False when the event marker shows a twin delivery already did the work.
    Raises a retryable error (FailedPrecondition, Aborted) when anything else changed underneath."""
    try:
        batch.commit()
        return True
    except AlreadyExists:
        if marker is not None and marker.exists():
            return False
        raise FailedPrecondition("a document appeared concurrently") from None


def sync_payment_method(
    payment_method_id: str,
    stripe_pm: dict[str, Any],
    *,
    user_id: str,
    customer_id: str,
    synced_at: datetime,
    is_default: bool | None = None,
    marker: Marker | None = None,
) -> tuple[PaymentMethod | None, bool]:
    """Create or refresh the card from a Stripe PaymentMethod object as of `synced_at`.
    Returns (the stored card or None when detached, whether this call created it)."""
    db = firestore_client()
    ref = pm_ref(payment_method_id)

    def attempt() -> tuple[PaymentMethod | None, bool]:
        if is_detached(payment_method_id):
            if marker is not None:
                marker.record_alone()
            return None, False
        snapshot = ref.get()
        current = PaymentMethod.from_firestore(snapshot.to_dict()) if snapshot.exists else None
        if current is not None and current.stripe_synced_at and current.stripe_synced_at > synced_at:
            if marker is not None:
                marker.record_alone()
            return current, False
        now = utc_now()
        fields = card_fields(stripe_pm)
        updated = PaymentMethod(
            user_id=user_id,
            stripe_customer_id=customer_id,
            is_default=is_default if is_default is not None else (current.is_default if current else False),
            created_at=current.created_at if current else now,
            updated_at=now,
            stripe_synced_at=synced_at,
            **fields,
        )
        batch = db.batch()
        if current is None:
            batch.create(ref, updated.to_firestore())
        else:
            batch.update(
                ref, updated.to_firestore(), option=db.write_option(last_update_time=snapshot.update_time)
            )
        # Fails if a detach committed since we looked: no card comes back from the dead.
        batch.delete(tombstone_ref(payment_method_id), option=db.write_option(exists=False))
        add_marker(batch, marker)
        if not _commit(batch, marker):
            return get_payment_method(payment_method_id), False
        return updated, current is None

    return _retry_card_write(attempt, f"payment method {payment_method_id}")


def remove_payment_method(
    payment_method_id: str,
    *,
    user_id: str | None,
    detached_at: datetime,
    marker: Marker | None = None,
) -> None:
    """Forget a detached card: delete it and leave the tombstone (both or neither)."""
    db = firestore_client()
    ref = pm_ref(payment_method_id)

    def attempt() -> None:
        if is_detached(payment_method_id):
            if marker is not None:
                marker.record_alone()
            return
        snapshot = ref.get()
        owner = user_id
        if snapshot.exists:
            owner = owner or PaymentMethod.from_firestore(snapshot.to_dict()).user_id
        batch = db.batch()
        tombstone = DetachedPaymentMethod(user_id=owner, detached_at=detached_at)
        batch.create(tombstone_ref(payment_method_id), tombstone.to_firestore())
        if snapshot.exists:
            batch.delete(ref, option=db.write_option(last_update_time=snapshot.update_time))
        else:
            batch.delete(ref, option=db.write_option(exists=False))
        add_marker(batch, marker)
        _commit(batch, marker)

    _retry_card_write(attempt, f"payment method {payment_method_id}")


def apply_default(
    user_id: str,
    default_payment_method_id: str | None,
    *,
    synced_at: datetime,
    marker: Marker | None = None,
) -> None:
    """Mark the customer's default card (Stripe's invoice_settings.default_payment_method) as of synced_at;
    cards holding newer Stripe state keep theirs."""
    db = firestore_client()
    collection = db.collection(PaymentMethod.collection)

    def attempt() -> None:
        snapshots = collection.where(filter=FieldFilter("user_id", "==", user_id)).limit(100).get()
        batch = db.batch()
        writes = 0
        now = utc_now()
        for snapshot in snapshots:
            card = PaymentMethod.from_firestore(snapshot.to_dict())
            if card.stripe_synced_at is not None and card.stripe_synced_at > synced_at:
                continue
            wanted = snapshot.id == default_payment_method_id
            if card.is_default == wanted and card.stripe_synced_at == synced_at:
                continue
            batch.update(
                snapshot.reference,
                {"is_default": wanted, "stripe_synced_at": synced_at, "updated_at": now},
                option=db.write_option(last_update_time=snapshot.update_time),
            )
            writes += 1
        if writes == 0 and marker is None:
            return
        add_marker(batch, marker)
        _commit(batch, marker)

    _retry_card_write(attempt, f"payment methods of {user_id}")
