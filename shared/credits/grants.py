"""Credit grants, the pure core: the spending order and what every kind of credit change does to an
account's grants and debt. Functions of facts and time only (no Firestore): shared/credits/ledger.py reads
the account, calls `plan_change` and writes what it answers in one batch.

The state (`CreditState`) is what `users/{uid}` stores beside its balance: the active grants' remaining
credits (`grants`, by grant id) and the debt. The balance is always `sum(remaining) - debt`.

Rules (docs/credits.md):
- Spending order: priority ascending, then the soonest `expires_at` (never-expiring last), promotional
  before paid, then the oldest, then the grant id (a total order, so the answer never depends on map order).
- A grant is spendable while it is effective and not expired (`now < expires_at`): an expired grant is never
  spent, even before the sweep removes it.
- A debt is paid first by any credits that arrive (grants, returns) and by the spendable credits the account
  still holds when it arises: a debt and spendable credits never exist together, so a promotional grant made
  while a debt exists pays the debt first.
- A debit is one ledger entry with its allocations (grant id -> signed change of that grant's remaining).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from shared.models import GrantBalance, GrantCategory, GrantStatus

NEVER = datetime.max.replace(tzinfo=UTC)


def spending_key(grant_id: str, grant: GrantBalance) -> tuple[int, bool, datetime, bool, datetime, str]:
    return (
        grant.priority,
        grant.expires_at is None,
        grant.expires_at or NEVER,
        grant.category is not GrantCategory.PROMOTIONAL,
        grant.effective_at,
        grant_id,
    )


def spending_order(grants: Mapping[str, GrantBalance]) -> list[str]:
    """Every grant id in the order credits are taken from them."""
    return sorted(grants, key=lambda grant_id: spending_key(grant_id, grants[grant_id]))


@dataclass(frozen=True)
class CreditState:
    grants: Mapping[str, GrantBalance]
    debt: int = 0

    @property
    def balance(self) -> int:
        return sum(g.remaining for g in self.grants.values()) - self.debt

    def spendable(self, now: datetime) -> int:
        return sum(g.remaining for g in self.grants.values() if g.spendable(now)) - self.debt


class EntryKind(StrEnum):
    """What a ledger entry of a change does (the ledger entry's type is the caller's)."""

    CHANGE = "change"  # the change itself
    EXPIRY = "expiry"  # credits returned to a grant that expired meanwhile, expired again
    VOID = "void"  # ... or that was voided meanwhile


@dataclass(frozen=True)
class PlannedEntry:
    kind: EntryKind
    amount: int
    allocations: dict[str, int]  # grant id -> signed change of its remaining


@dataclass(frozen=True)
class Plan:
    """A change's outcome: the new state, its ledger entries (in order), and the grants whose status the
    change moves (to depleted, expired, voided, or back to active)."""

    state: CreditState
    entries: list[PlannedEntry]
    statuses: dict[str, GrantStatus] = field(default_factory=dict)

    @property
    def amount(self) -> int:
        return sum(e.amount for e in self.entries)


class Shortfall(Exception):
    """A debit larger than what the account can spend now."""

    def __init__(self, needed: int, spendable: int) -> None:
        super().__init__(f"needs {needed}, spendable {spendable}")
        self.needed = needed
        self.spendable = spendable


# --- the kinds of change ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spend:
    """Take `amount` credits in the spending order. `allow_debt`: what the grants cannot cover becomes debt
    (operator corrections); otherwise a shortfall is refused."""

    amount: int
    allow_debt: bool = False


@dataclass(frozen=True)
class AddGrant:
    grant_id: str
    grant: GrantBalance  # its remaining is the granted amount


@dataclass(frozen=True)
class TakeBack:
    """A purchase's refund or dispute: from that purchase's grant first (spendable or not), then the
    spending order, the rest a debt."""

    grant_id: str
    amount: int


@dataclass(frozen=True)
class ReturnCredits:
    """Credits given back to the grants a debit took them from (a job's refund, a metered release).
    `allocations` are the debit's (grant id -> credits taken); `amount` may be less than their sum (a
    release gives back part): the grants taken from last get theirs back first. `known` are the grants that
    are no longer active, as their documents describe them, with their status (a grant expired or voided
    meanwhile gets the credits back and loses them again in the same change)."""

    amount: int
    allocations: Mapping[str, int]
    known: Mapping[str, tuple[GrantBalance, GrantStatus]] = field(default_factory=dict)
    order: tuple[str, ...] = ()  # the debit's spending order of `allocations` (taken first, first)


@dataclass(frozen=True)
class RemoveGrant:
    """Expiry (the sweep) or void (an operator): what is left of the grant goes."""

    grant_id: str
    status: GrantStatus  # EXPIRED or VOIDED


Change = Spend | AddGrant | TakeBack | ReturnCredits | RemoveGrant


def plan_change(state: CreditState, change: Change, now: datetime) -> Plan:
    """The outcome of one change. Raises Shortfall for a Spend the account cannot cover."""
    grants = dict(state.grants)
    statuses: dict[str, GrantStatus] = {}
    entries: list[PlannedEntry] = []
    debt = state.debt
    if isinstance(change, Spend):
        allocations, short = _take(grants, change.amount, now)
        if short and not change.allow_debt:
            raise Shortfall(change.amount, state.spendable(now))
        debt += short
        entries.append(PlannedEntry(EntryKind.CHANGE, -change.amount, _negated(allocations)))
    elif isinstance(change, AddGrant):
        grants[change.grant_id] = change.grant
        allocations = {change.grant_id: change.grant.remaining}
        entries.append(PlannedEntry(EntryKind.CHANGE, change.grant.remaining, allocations))
    elif isinstance(change, TakeBack):
        own = grants.get(change.grant_id)
        first = min(own.remaining, change.amount) if own is not None else 0
        if own is not None and first:
            grants[change.grant_id] = own.model_copy(update={"remaining": own.remaining - first})
        allocations, short = _take(grants, change.amount - first, now)
        if first:
            allocations[change.grant_id] = allocations.get(change.grant_id, 0) + first
        debt += short
        entries.append(PlannedEntry(EntryKind.CHANGE, -change.amount, _negated(allocations)))
    elif isinstance(change, ReturnCredits):
        returned: dict[str, int] = {}
        left = change.amount
        order = list(change.order) or spending_order(
            {g: grants.get(g) or change.known[g][0] for g in change.allocations}
        )
        for grant_id in reversed(order):
            part = min(left, change.allocations.get(grant_id, 0))
            if part > 0:
                returned[grant_id] = part
                left -= part
        if left > 0:
            raise ValueError(
                f"returning {change.amount} credits to a debit of {sum(change.allocations.values())}"
            )
        entries.append(PlannedEntry(EntryKind.CHANGE, change.amount, dict(returned)))
        again: dict[GrantStatus, dict[str, int]] = {}
        for grant_id, part in returned.items():
            current = grants.get(grant_id)
            if current is not None and current.expired(now):  # not swept yet: expired again here too
                again.setdefault(GrantStatus.EXPIRED, {})[grant_id] = part
                continue
            if current is not None:
                grants[grant_id] = current.model_copy(update={"remaining": current.remaining + part})
                continue
            known, status = change.known[grant_id]
            if status is GrantStatus.VOIDED:
                again.setdefault(GrantStatus.VOIDED, {})[grant_id] = part
            elif status is GrantStatus.EXPIRED or known.expired(now):
                again.setdefault(GrantStatus.EXPIRED, {})[grant_id] = part
                statuses[grant_id] = GrantStatus.EXPIRED
            else:  # depleted: active again
                grants[grant_id] = known.model_copy(update={"remaining": part})
                statuses[grant_id] = GrantStatus.ACTIVE
        for status, kind in ((GrantStatus.EXPIRED, EntryKind.EXPIRY), (GrantStatus.VOIDED, EntryKind.VOID)):
            lost = again.get(status)
            if lost:
                entries.append(PlannedEntry(kind, -sum(lost.values()), _negated(lost)))
    elif isinstance(change, RemoveGrant):
        current = grants.pop(change.grant_id, None)
        statuses[change.grant_id] = change.status
        if current is not None and current.remaining:
            kind = EntryKind.EXPIRY if change.status is GrantStatus.EXPIRED else EntryKind.VOID
            entries.append(PlannedEntry(kind, -current.remaining, {change.grant_id: -current.remaining}))
    if debt > 0 and entries and entries[0].amount > 0:
        debt = _pay_debt(grants, debt, now, entries)
    for grant_id in list(grants):
        if grants[grant_id].remaining == 0:
            del grants[grant_id]
            if statuses.get(grant_id) is not GrantStatus.ACTIVE:
                statuses[grant_id] = GrantStatus.DEPLETED
            else:
                statuses.pop(grant_id)
    return Plan(CreditState(grants, debt), entries, statuses)


def _take(grants: dict[str, GrantBalance], amount: int, now: datetime) -> tuple[dict[str, int], int]:
    """Take up to `amount` from the spendable grants in order (changing `grants`): (taken per grant, short)."""
    taken: dict[str, int] = {}
    left = amount
    for grant_id in spending_order(grants):
        if left == 0:
            break
        grant = grants[grant_id]
        if not grant.spendable(now):
            continue
        part = min(left, grant.remaining)
        grants[grant_id] = grant.model_copy(update={"remaining": grant.remaining - part})
        taken[grant_id] = part
        left -= part
    return taken, left


def _pay_debt(grants: dict[str, GrantBalance], debt: int, now: datetime, entries: list[PlannedEntry]) -> int:
    """Credits that arrive pay the debt first: the change's entry records the net change of each grant."""
    taken, short = _take(grants, debt, now)
    first = entries[0]
    allocations = dict(first.allocations)
    for grant_id, part in taken.items():
        allocations[grant_id] = allocations.get(grant_id, 0) - part
    entries[0] = PlannedEntry(first.kind, first.amount, {g: a for g, a in allocations.items() if a})
    return short


def _negated(allocations: Mapping[str, int]) -> dict[str, int]:
    return {grant_id: -part for grant_id, part in allocations.items() if part}


# --- migration ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseCredits:
    grant_id: str
    kept: int  # the purchase's credits less what refunds and disputes took back
    effective_at: datetime


def migrated_remaining(balance: int, purchases: list[PurchaseCredits]) -> tuple[dict[str, int], int, int]:
    """An account's balance from before grants, spread over its purchases: the newest keep theirs (the
    oldest were spent first). Returns (remaining per purchase grant, carried over beyond them, debt)."""
    if balance <= 0:
        return {p.grant_id: 0 for p in purchases}, 0, -balance
    left = balance
    remaining: dict[str, int] = {}
    for purchase in sorted(purchases, key=lambda p: (p.effective_at, p.grant_id), reverse=True):
        part = min(left, max(purchase.kept, 0))
        remaining[purchase.grant_id] = part
        left -= part
    return remaining, left, 0
