"""What a paid purchase keeps: credits follow the funds, whatever the order of Stripe's events.

Events are facts, not instructions. Each refund or dispute state first merges into the purchase
(`record_refunds` / `record_dispute`, by Stripe id: shared/billing/money_facts.py says which state is newer),
then `settle()` moves the credits taken back towards what the facts imply, in steps: the refund part
(what the live refunds alone take) and the dispute part (what the disputes' funds withdrawn and not
reinstated take on top), so that the purchase keeps floor(credits x net kept / amount paid).
Each step is one ledger entry (`clawback` / `refund_reversal` / `dispute` / `dispute_reversal`) whose marker
is `credits:purchase:{id}:{credit_steps}`: two racing steps from one state collide on it, the loser reads
again. Replays and reorders converge on the same state, so the ledger explains every credit and only the
differences are ever written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore

from shared.billing.money_facts import (
    changed_dispute,
    changed_refunds,
    dispute_fact,
    next_step,
    refund_fact,
    settled_status,
)
from shared.billing.purchases import load_purchase, purchase_ref
from shared.core.clients import firestore_client
from shared.core.retry import RETRYABLE_COMMIT_ERRORS, retry_commit
from shared.credits.ledger import CreditChange, ReturnTo, TakeBackFrom, apply_credit_change, purchase_grant_id
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


def record_refunds(purchase_id: str, refunds: list[dict[str, Any]], as_of: datetime) -> None:
    """Refund objects as of `as_of` (their ids already checked to be plain Stripe ids by the caller)."""
    facts = {str(refund["id"]): refund_fact(refund, as_of) for refund in refunds}

    def change(p: Purchase) -> dict[str, Any] | None:
        return {f"refunds.{rid}": fact.to_firestore() for rid, fact in changed_refunds(p, facts).items()}

    if facts:
        _merge(purchase_id, change)


def record_dispute(purchase_id: str, dispute: dict[str, Any], as_of: datetime) -> None:
    """A Dispute object as of `as_of` (its id already checked to be a plain Stripe id by the caller)."""
    dispute_id = str(dispute["id"])

    def change(p: Purchase) -> dict[str, Any] | None:
        merged = changed_dispute(p, dispute_id, dispute_fact(dispute, as_of, p.currency))
        return None if merged is None else {f"disputes.{dispute_id}": merged.to_firestore()}

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
            # Taken from the purchase's own grant first; given back to it (docs/credits.md).
            effect=TakeBackFrom(purchase_grant_id(purchase_id))
            if amount < 0
            else ReturnTo(grant_id=purchase_grant_id(purchase_id)),
        )
        try:
            apply_credit_change(change, record_step)
        except AlreadyExists:
            continue  # our step marker: another settle took this step first; look again
    raise RuntimeError(f"purchase {purchase_id} kept changing")


def _describe(entry_type: LedgerEntryType, credits: int, p: Purchase) -> str:
    disputes = ", ".join(sorted(p.disputes)) or "-"
    return {
        LedgerEntryType.CLAWBACK: f"refund: {credits} credits taken back",
        LedgerEntryType.REFUND_REVERSAL: f"refund failed or canceled: {credits} credits given back",
        LedgerEntryType.DISPUTE: f"dispute {disputes}: funds withdrawn, {credits} credits taken back",
        LedgerEntryType.DISPUTE_REVERSAL: f"dispute {disputes}: funds reinstated, {credits} credits given back",
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
