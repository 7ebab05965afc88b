"""Pure arithmetic of a purchase's money facts (no I/O): what refunds and disputes imply.

- net refunded: the newest charge snapshot's `amount_refunded`, minus refunds that failed or were canceled
  after it was taken, plus live refunds newer than it (clamped to 0..amount);
- refund part: floor(credits x net refunded / amount), rounding in the customer's favour; computed from the
  cumulative amount, so many small refunds still add up to every credit when they cover the amount;
- dispute part: open or lost -> every credit not taken by refunds (Stripe refunds a disputed charge
  only as the dispute's outcome); won -> none;
- status: disputed_lost, disputed, refunded (net refunded covers the amount) or succeeded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.models import (
    DisputeFact,
    DisputeOutcome,
    LedgerEntryType,
    Purchase,
    PurchaseStatus,
    RefundFact,
)

UNDONE_REFUND = frozenset({"failed", "canceled"})
# Inquiries closed without a chargeback and prevented disputes end in the customer's favour like a win.
WON_STATUSES = frozenset({"won", "warning_closed", "prevented"})
LOST_STATUSES = frozenset({"lost"})


def dispute_outcome(status: str, reinstated: bool = False) -> DisputeOutcome:
    if reinstated or status in WON_STATUSES:
        return DisputeOutcome.WON
    if status in LOST_STATUSES:
        return DisputeOutcome.LOST
    return DisputeOutcome.OPEN


# --- merging facts: newest state wins, final states win over open ones, whatever the order -----------


def charge_snapshot_is_newer(p: Purchase, amount_refunded: int, as_of: datetime) -> bool:
    at = p.charge_refunded_at
    if at is None or as_of > at:
        return True
    # Within one second the larger amount wins, so the result does not depend on the arrival order.
    return as_of == at and amount_refunded > p.charge_amount_refunded


def refund_fact(refund: dict[str, Any], as_of: datetime) -> RefundFact:
    created = refund.get("created")
    return RefundFact(
        amount=max(0, int(refund.get("amount") or 0)),
        status=str(refund.get("status") or "pending"),
        created=datetime.fromtimestamp(created, UTC) if isinstance(created, int) else as_of,
        seen_at=as_of,
    )


def refund_replaces(known: RefundFact | None, fact: RefundFact) -> bool:
    """Failed and canceled are final (Stripe never revives such a refund): nothing replaces them, and
    they replace any live state, older or newer. Among live states the newest wins."""
    if known is None:
        return True
    if known.status in UNDONE_REFUND:
        return False
    return fact.status in UNDONE_REFUND or fact.seen_at > known.seen_at


def dispute_fact(dispute: dict[str, Any], as_of: datetime, *, reinstated: bool, final: bool) -> DisputeFact:
    status = str(dispute.get("status") or "needs_response")
    return DisputeFact(
        dispute_id=str(dispute.get("id") or ""),
        status="won" if reinstated and status not in WON_STATUSES else status,
        outcome=dispute_outcome(status, reinstated) if final else DisputeOutcome.OPEN,
        seen_at=as_of,
    )


def dispute_replaces(known: DisputeFact | None, fact: DisputeFact) -> bool:
    """Won and lost are final; an open state replaces only an older open one (updated: status shown)."""
    if known is None:
        return True
    if known.outcome is not DisputeOutcome.OPEN or fact == known:
        return False
    return fact.outcome is not DisputeOutcome.OPEN or fact.seen_at >= known.seen_at


# --- what the facts imply ----------------------------------------------------------------------------


def net_refunded(p: Purchase) -> int:
    """Money refunded and not undone, in cents, from the newest charge snapshot and the refunds."""
    snapshot_at = p.charge_refunded_at
    total = p.charge_amount_refunded if snapshot_at is not None else 0
    for refund in p.refunds.values():
        included = snapshot_at is not None and refund.created <= snapshot_at
        if refund.status in UNDONE_REFUND:
            # Included when created, undone after the snapshot was taken: the snapshot still counts it.
            if included and snapshot_at is not None and refund.seen_at > snapshot_at:
                total -= refund.amount
        elif not included:
            total += refund.amount
    return max(0, min(total, p.amount))


def refund_target(credits: int, amount_refunded: int, amount_charged: int) -> int:
    """Credits to take back for refunds: proportional, rounded down, in the customer's favour (a full
    refund still takes all of them: the amount is the cumulative net refunded, never one refund's)."""
    if amount_charged <= 0 or amount_refunded <= 0:
        return 0
    refunded = min(amount_refunded, amount_charged)
    return credits * refunded // amount_charged


def targets(p: Purchase) -> tuple[int, int]:
    """(refund part, dispute part) of the credits to have taken back."""
    outcome = p.dispute.outcome if p.dispute is not None else None
    refunded = refund_target(p.credits, net_refunded(p), p.amount)
    disputed = p.credits - refunded if outcome in (DisputeOutcome.OPEN, DisputeOutcome.LOST) else 0
    return refunded, disputed


def settled_status(p: Purchase) -> PurchaseStatus:
    outcome = p.dispute.outcome if p.dispute is not None else None
    if outcome is DisputeOutcome.LOST:
        return PurchaseStatus.DISPUTED_LOST
    if outcome is DisputeOutcome.OPEN:
        return PurchaseStatus.DISPUTED
    if net_refunded(p) >= p.amount:
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
