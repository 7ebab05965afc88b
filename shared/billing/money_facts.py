"""Credits follow the funds: the pure fold of a purchase's money facts (no I/O; docs/stripe.md).

A purchase keeps floor(credits x net kept / amount paid) credits, where
  net kept = amount paid - live refunds - (funds withdrawn - funds reinstated) by each dispute,
clamped to 0..amount paid. Every term comes from the newest facts of each refund and each dispute, which
are merged so that the result never depends on the order or the second events arrive in:
- a refund counts (pending, requires_action, succeeded) until Stripe says it failed or was canceled; those
  two are final, and otherwise the newest state wins (same second: the later status in Stripe's lifecycle);
- a dispute's funds are its balance transactions (a grow-only set, merged across every snapshot seen); until
  one shows a withdrawal, a chargeback's status implies its amount withdrawn, an inquiry's (`warning_*`)
  nothing. A `won` dispute gives every withdrawn cent back; otherwise only reinstatements Stripe shows
  count (a lost dispute can reinstate the refunded part of a partially refunded charge). Won and lost are
  final; otherwise the newest state wins (same second: the later status in the lifecycle).
The credits taken back are split into a refund part (what the refunds alone take) and a dispute part (the
rest), so the ledger says which event took or gave back what; settling writes only the differences.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from shared.models import (
    DisputeFact,
    LedgerEntryType,
    Purchase,
    PurchaseStatus,
    RefundFact,
)

# Stripe's refund lifecycle: requires_action -> pending -> succeeded, and failed / canceled (final).
REFUND_ORDER = ("requires_action", "pending", "succeeded", "canceled", "failed")
UNDONE_REFUND = frozenset({"failed", "canceled"})

# Stripe's dispute lifecycle: an inquiry (warning_*) may escalate to a chargeback (on the same dispute or a
# new one); a chargeback ends won or lost (final).
DISPUTE_ORDER = (
    "warning_needs_response",
    "warning_under_review",
    "warning_closed",
    "prevented",
    "needs_response",
    "under_review",
    "won",
    "lost",
)
FINAL_DISPUTE = frozenset({"won", "lost"})
CHARGEBACK = frozenset({"needs_response", "under_review", "won", "lost"})
OPEN_CHARGEBACK = frozenset({"needs_response", "under_review"})


def _rank(order: tuple[str, ...], status: str) -> int:
    return order.index(status) if status in order else -1


def _when(value: Any, default: datetime) -> datetime:
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int) else default


# --- facts from Stripe objects ------------------------------------------------------------------------


def refund_fact(refund: dict[str, Any], as_of: datetime) -> RefundFact:
    """A Refund object as Stripe showed it at `as_of` (the event's `created`, or when it was retrieved)."""
    return RefundFact(
        amount=max(0, int(refund.get("amount") or 0)),
        status=str(refund.get("status") or "pending"),
        seen_at=as_of,
    )


def merge_refund(known: RefundFact | None, fact: RefundFact) -> RefundFact:
    """The newer of two states of one refund: final first, then the newest, then the later status."""
    if known is None:
        return fact
    return max(known, fact, key=_refund_key)


def _refund_key(r: RefundFact) -> tuple[bool, datetime, int, int]:
    return r.status in UNDONE_REFUND, r.seen_at, _rank(REFUND_ORDER, r.status), r.amount


def dispute_fact(dispute: dict[str, Any], as_of: datetime, currency: str) -> DisputeFact:
    """A Dispute object as Stripe showed it at `as_of`. Its balance transactions in the purchase's
    currency are kept by id (signed amounts, fees apart); others cannot be compared with the amount paid."""
    funds: dict[str, int] = {}
    for txn in _listed(dispute.get("balance_transactions")):
        txn_id, amount = txn.get("id"), txn.get("amount")
        if isinstance(txn_id, str) and isinstance(amount, int) and txn.get("currency") == currency:
            funds[txn_id] = amount
    return DisputeFact(
        status=str(dispute.get("status") or "needs_response"),
        amount=max(0, int(dispute.get("amount") or 0)),
        funds=funds,
        created=_when(dispute.get("created"), as_of),
        seen_at=as_of,
    )


def _listed(value: Any) -> Iterable[dict[str, Any]]:
    items = value.get("data") if isinstance(value, dict) else value  # a list, or a list object
    return [t for t in items if isinstance(t, dict)] if isinstance(items, list) else []


def merge_dispute(known: DisputeFact | None, fact: DisputeFact) -> DisputeFact:
    """Two states of one dispute: the newer one's status (final first, then the newest, then the later
    status) and every balance transaction either has shown (Stripe only ever adds them)."""
    if known is None:
        return fact
    newer = max(known, fact, key=_dispute_key)
    return newer.model_copy(update={"funds": {**known.funds, **fact.funds}})


def changed_refunds(p: Purchase, facts: dict[str, RefundFact]) -> dict[str, RefundFact]:
    """The purchase's refunds that `facts` (by refund id) change, merged."""
    merged = {rid: merge_refund(p.refunds.get(rid), fact) for rid, fact in facts.items()}
    return {rid: fact for rid, fact in merged.items() if fact != p.refunds.get(rid)}


def changed_dispute(p: Purchase, dispute_id: str, fact: DisputeFact) -> DisputeFact | None:
    """The purchase's dispute `dispute_id` with `fact` merged in; None when that changes nothing."""
    known = p.disputes.get(dispute_id)
    merged = merge_dispute(known, fact)
    return None if merged == known else merged


def _dispute_key(d: DisputeFact) -> tuple[bool, datetime, int, int]:
    return d.status in FINAL_DISPUTE, d.seen_at, _rank(DISPUTE_ORDER, d.status), d.amount


# --- what the facts imply -----------------------------------------------------------------------------


def refunded(p: Purchase) -> int:
    """Cents refunded and not undone (failed or canceled)."""
    return sum(r.amount for r in p.refunds.values() if r.status not in UNDONE_REFUND)


def dispute_funds(d: DisputeFact) -> tuple[int, int]:
    """(withdrawn, reinstated) cents of one dispute."""
    shown_withdrawn = -sum(a for a in d.funds.values() if a < 0)
    shown_reinstated = sum(a for a in d.funds.values() if a > 0)
    withdrawn = shown_withdrawn or (d.amount if d.status in CHARGEBACK else 0)
    reinstated = withdrawn if d.status == "won" else min(shown_reinstated, withdrawn)
    return withdrawn, reinstated


def disputed(p: Purchase) -> int:
    """Cents the disputes hold: withdrawn and not reinstated."""
    return sum(w - r for w, r in map(dispute_funds, p.disputes.values()))


def kept_credits(credits: int, amount: int, net_kept: int) -> int:
    """floor(credits x net kept / amount paid): credits follow the funds."""
    return credits * max(0, min(net_kept, amount)) // amount


def targets(p: Purchase) -> tuple[int, int]:
    """(refund part, dispute part) of the credits to have taken back."""
    after_refunds = p.amount - refunded(p)
    refund_part = p.credits - kept_credits(p.credits, p.amount, after_refunds)
    total = p.credits - kept_credits(p.credits, p.amount, after_refunds - disputed(p))
    return refund_part, total - refund_part


def dispute_status(p: Purchase) -> str | None:
    """Stripe's status of the purchase's newest dispute (for display)."""
    if not p.disputes:
        return None
    return max(p.disputes.items(), key=lambda item: (item[1].created, item[0]))[1].status


def settled_status(p: Purchase) -> PurchaseStatus:
    statuses = {d.status for d in p.disputes.values()}
    if statuses & OPEN_CHARGEBACK:
        return PurchaseStatus.DISPUTED
    if "lost" in statuses:
        return PurchaseStatus.DISPUTED_LOST
    if refunded(p) >= p.amount:
        return PurchaseStatus.REFUNDED
    return PurchaseStatus.SUCCEEDED


def next_step(p: Purchase) -> tuple[LedgerEntryType, int, int, int] | None:
    """The next ledger step towards the targets: (entry type, signed credits, new refund part, new dispute
    part), or None when settled. Giving back comes before taking, so the total never exceeds `credits`."""
    refund_now = p.credits_clawed_back - p.credits_disputed
    refund_goal, dispute_goal = targets(p)
    if dispute_goal < p.credits_disputed:
        return LedgerEntryType.DISPUTE_REVERSAL, p.credits_disputed - dispute_goal, refund_now, dispute_goal
    if refund_goal < refund_now:
        return LedgerEntryType.REFUND_REVERSAL, refund_now - refund_goal, refund_goal, p.credits_disputed
    if refund_goal > refund_now:
        return LedgerEntryType.CLAWBACK, refund_now - refund_goal, refund_goal, p.credits_disputed
    if dispute_goal > p.credits_disputed:
        return LedgerEntryType.DISPUTE, p.credits_disputed - dispute_goal, refund_now, dispute_goal
    return None
