"""What a paid purchase keeps: credits taken back and given back by refunds and disputes, in any event order.

Events are facts, not instructions. Each refund/dispute/charge event first merges its fact into the purchase
(`record_*`: newest state wins, final states win over open ones), then `settle()` moves the credits taken
back towards what the facts imply, in steps:
- refund part: floor(credits x net refunded / amount) (the customer's favour), net refunded being the newest charge snapshot's
  `amount_refunded`, minus refunds that failed or were canceled after it, plus live refunds newer than it;
- dispute part: open or lost -> every credit not already taken by refunds; won -> none
(the arithmetic is shared/billing/money_facts.py).
Each step is one ledger entry (`clawback` / `refund_reversal` / `dispute` / `dispute_reversal`) whose marker
is `credits:purchase:{id}:{credit_steps}`: two racing steps from one state collide on it, the loser reads
again. Replays and reorders converge on the same state, so the ledger explains every credit; giving back is
exactly once because the level cannot go down twice from the same facts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore

from shared.billing.money_facts import (
    charge_snapshot_is_newer,
    dispute_fact,
    dispute_replaces,
    next_step,
    refund_fact,
    refund_replaces,
    settled_status,
)
from shared.billing.purchases import load_purchase, purchase_ref
from shared.core.clients import firestore_client
from shared.core.retry import RETRYABLE_COMMIT_ERRORS, retry_commit
from shared.credits.ledger import CreditChange, apply_credit_change
from shared.models import (
    LedgerEntryType,
    Purchase,
    PurchaseStatus,
    utc_now,
)

MAX_STEPS = 100


# --- facts ------------------------------------------------------------------------------------------


def _merge(purchase_id: str, change: Callable[[Purchase], dict[str, Any] | None]) -> None:
    """Read, let `change` compute the fields to write (None: nothing new), write under a precondition."""
    db = firestore_client()
    ref = purchase_ref(purchase_id)

    def attempt() -> None:
        snapshot = ref.get()
        update = change(Purchase.from_firestore(snapshot.to_dict()))
        if update:
            update["updated_at"] = utc_now()
            ref.update(update, option=db.write_option(last_update_time=snapshot.update_time))

    retry_commit(attempt, what=f"purchase {purchase_id}")


def record_charge_snapshot(purchase_id: str, amount_refunded: int, as_of: datetime) -> None:
    """A charge's `amount_refunded` at `as_of` (it goes up with refunds, down when one fails)."""

    def change(p: Purchase) -> dict[str, Any] | None:
        if not charge_snapshot_is_newer(p, amount_refunded, as_of):
            return None
        return {"charge_amount_refunded": max(0, amount_refunded), "charge_refunded_at": as_of}

    _merge(purchase_id, change)


def record_refund(purchase_id: str, refund: dict[str, Any], as_of: datetime) -> None:
    """A Refund object as of `as_of` (its id already checked to be a plain Stripe id by the caller)."""
    refund_id = str(refund["id"])
    fact = refund_fact(refund, as_of)

    def change(p: Purchase) -> dict[str, Any] | None:
        if not refund_replaces(p.refunds.get(refund_id), fact):
            return None
        return {f"refunds.{refund_id}": fact.to_firestore()}

    _merge(purchase_id, change)


def record_dispute(
    purchase_id: str, dispute: dict[str, Any], as_of: datetime, *, reinstated: bool, final: bool
) -> None:
    """A Dispute object as of `as_of`; only `final` events (closed, funds_reinstated) decide the outcome."""
    fact = dispute_fact(dispute, as_of, reinstated=reinstated, final=final)

    def change(p: Purchase) -> dict[str, Any] | None:
        return {"dispute": fact.to_firestore()} if dispute_replaces(p.dispute, fact) else None

    _merge(purchase_id, change)


# --- moving the credits -----------------------------------------------------------------------------


def settle(purchase_id: str) -> None:
    """Bring a granted purchase's credits and status in line with its facts (no-op when they are)."""
    ref = purchase_ref(purchase_id)
    for _ in range(MAX_STEPS):
        purchase = load_purchase(purchase_id)
        if purchase is None:
            raise ValueError(f"no purchase {purchase_id}")
        if not purchase.credits_granted:
            return  # nothing was given yet; the grant settles afterwards
        step = next_step(purchase)
        status = settled_status(purchase)
        if step is None:
            if purchase.status is status or _set_status(purchase_id, purchase.status, status):
                return
            continue
        entry_type, amount, refund_part, dispute_part = step
        seq = purchase.credit_steps

        def record_step(
            batch: firestore.WriteBatch,
            balance_after: int,
            refund_part: int = refund_part,
            dispute_part: int = dispute_part,
            seq: int = seq,
            status: PurchaseStatus = status,
        ) -> None:
            batch.update(
                ref,
                {
                    "credits_clawed_back": refund_part + dispute_part,
                    "credits_disputed": dispute_part,
                    "credit_steps": seq + 1,
                    "status": status.value,
                    "updated_at": utc_now(),
                },
            )

        change = CreditChange(
            user_id=purchase.user_id,
            amount=amount,
            type=entry_type,
            reference=purchase_id,
            description=_describe(entry_type, abs(amount), purchase),
            marker_id=f"credits:purchase:{purchase_id}:{seq}",
            allow_negative=True,  # credits already spent leave a debt (docs/stripe.md)
        )
        try:
            apply_credit_change(change, record_step)
        except AlreadyExists:
            continue  # our step marker: another settle took this step first; look again
    raise RuntimeError(f"purchase {purchase_id} kept changing")


def _describe(entry_type: LedgerEntryType, credits: int, p: Purchase) -> str:
    dispute_id = p.dispute.dispute_id if p.dispute is not None else ""
    return {
        LedgerEntryType.CLAWBACK: f"refund: {credits} credits taken back",
        LedgerEntryType.REFUND_REVERSAL: f"refund failed or canceled: {credits} credits given back",
        LedgerEntryType.DISPUTE: f"dispute {dispute_id}: {credits} credits taken back",
        LedgerEntryType.DISPUTE_REVERSAL: f"dispute {dispute_id} won: {credits} credits given back",
    }.get(entry_type, f"{credits} credits")


def _set_status(purchase_id: str, seen: PurchaseStatus, status: PurchaseStatus) -> bool:
    """Move the purchase from `seen` to `status`. False when it changed meanwhile (the caller reads again)."""
    db = firestore_client()
    ref = purchase_ref(purchase_id)
    snapshot = ref.get()
    if Purchase.from_firestore(snapshot.to_dict()).status is not seen:
        return False
    try:
        ref.update(
            {"status": status.value, "updated_at": utc_now()},
            option=db.write_option(last_update_time=snapshot.update_time),
        )
    except RETRYABLE_COMMIT_ERRORS:
        return False
    return True
