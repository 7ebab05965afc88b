"""The credits ledger: every balance change is one batch that updates `users/{uid}.credits`, appends a
`credit_ledger` entry carrying the balance after it, and (optionally) creates an idempotency marker and
other documents, e.g. the job being paid for.

Concurrency: the balance update carries a `last_update_time` precondition from the read, so concurrent
changes to one balance never interleave (a loser re-reads and tries again) and `balance_after` is exact.
This beats read-modify-write transactions, which collapse under contention on the emulator (docs/architecture.md, Money and contention).
Exactly once: a marker document `processed_events/{marker_id}` is created in the same batch; if it exists,
the change was already applied and nothing is written.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from google.api_core.exceptions import AlreadyExists, NotFound
from google.cloud import firestore

from shared.accounts.service import account_ref
from shared.core.clients import current_project, firestore_client
from shared.core.errors import ApiError, ErrorCode
from shared.core.index_shards import index_shard
from shared.core.markers import Marker, add_marker
from shared.core.retry import retry_commit
from shared.credits import grants
from shared.credits.grants import (
    CreditState,
    EntryKind,
    PurchaseCredits,
    Shortfall,
    migrated_remaining,
    plan_change,
)
from shared.models import (
    Account,
    CreditGrant,
    GrantBalance,
    GrantCategory,
    GrantSource,
    GrantStatus,
    LedgerEntry,
    LedgerEntryType,
    Purchase,
    utc_now,
)

MAX_ATTEMPTS = 200
RETRY_STEP_S = 0.002
RETRY_CAP_S = 0.05
ExtraWrites = Callable[[firestore.WriteBatch, int], None]
GRANT_ID_PATTERN = re.compile(r"grt_[0-9a-f]{24}")
MIGRATED_PURCHASES_MAX = (
    400  # a batch holds 500 writes; older purchases beyond these join the carried-over grant
)


@dataclass(frozen=True)
class NewGrant:
    """The change adds this grant (created in the same batch; its `remaining` and `status` are set there)."""

    grant_id: str
    grant: CreditGrant


@dataclass(frozen=True)
class TakeBackFrom:
    """A purchase's refund or dispute: from this grant first, then the spending order, then a debt."""

    grant_id: str


@dataclass(frozen=True)
class ReturnTo:
    """Credits given back to the grants the debit `debit_entry_id` took them from (a job's refund or a
    metered release); `grant_id`: to that one grant instead (a purchase's refund or dispute reversed)."""

    debit_entry_id: str | None = None
    grant_id: str | None = None
    taken: Mapping[str, int] | None = None  # the debit's allocations, once read (grant id -> credits taken)


@dataclass(frozen=True)
class EndGrant:
    """Expiry (the sweep) or void (an operator): what is left of the grant goes."""

    grant_id: str
    status: GrantStatus


# None: a debit (amount < 0) in the spending order.
Effect = NewGrant | TakeBackFrom | ReturnTo | EndGrant | None


@dataclass(frozen=True)
class CreditChange:
    user_id: str
    amount: int  # signed credits (for EndGrant: ignored, what is left of the grant goes)
    type: LedgerEntryType
    reference: str | None = None
    description: str | None = None
    marker_id: str | None = None  # key of the exactly-once marker, e.g. "grant:purchase:pur_123"
    allow_negative: bool = False  # clawbacks may leave a debt; debits never may
    entry_id: str | None = None  # the ledger entry's id when the caller derives it (else a new random one)
    effect: Effect = None


@dataclass(frozen=True)
class AppliedChange:
    entry_id: str
    balance_after: int
    already_applied: bool = False
    # The change's own entry's allocations: grant id -> signed change of its remaining.
    allocations: dict[str, int] = field(default_factory=dict)


def new_entry_id() -> str:
    return "cle_" + secrets.token_hex(12)


def derived_id(prefix: str, *parts: str) -> str:
    digest = hashlib.sha256("\x00".join((current_project(), *parts)).encode()).hexdigest()
    return f"{prefix}_{digest[:24]}"


def purchase_grant_id(purchase_id: str) -> str:
    return derived_id("grt", "purchase", purchase_id)


def job_debit_entry_id(job_id: str) -> str:
    """A job's debit entry has an id derived from the job, so its refund finds the grants it took from."""
    return derived_id("cle", "debit", job_id)


def grant_ref(grant_id: str) -> firestore.DocumentReference:
    return firestore_client().collection(CreditGrant.collection).document(grant_id)


def apply_credit_change(
    change: CreditChange,
    extra_writes: ExtraWrites | None = None,
    balance_fields: dict[str, Any] | None = None,
) -> AppliedChange:
    """Apply once: the one way credits move. A debit (amount < 0, no effect) takes from the grants in the
    spending order (shared/credits/grants.py) and is one ledger entry with its allocations and one write to
    the balance document, however many grants it takes from (plus the grants it empties, marked depleted).
    Raises ApiError(ErrorCode.INSUFFICIENT_CREDITS) when a debit would go below what the account can spend
    and ApiError(ErrorCode.ACCOUNT_MISSING) when the user has no account. Returns already_applied=True (and
    writes nothing) when the marker shows it was applied before."""
    return retry_commit(
        lambda: try_credit_change(change, extra_writes, balance_fields),
        what=f"balance of {change.user_id}",
        max_attempts=MAX_ATTEMPTS,
        step=RETRY_STEP_S,
        cap=RETRY_CAP_S,
        gave_up=lambda: ApiError(
            ErrorCode.SERVICE_UNAVAILABLE,
            "The balance is changing too quickly; try again.",
            headers={"Retry-After": "1"},
        ),
    )


def try_credit_change(
    change: CreditChange,
    extra_writes: ExtraWrites | None = None,
    balance_fields: dict[str, Any] | None = None,
) -> AppliedChange:
    """One attempt of `apply_credit_change`, retrying nothing: a lost race raises what
    shared/core/retry.RETRYABLE_COMMIT_ERRORS names (nothing was written), for a caller whose own retry loop
    reads and decides again: a loop inside a loop would multiply the attempts (a job transition runs its
    money through this)."""
    db = firestore_client()
    ref = account_ref(change.user_id)
    marker = (
        Marker(marker_id=change.marker_id, source="ledger", event_type=change.type.value)
        if change.marker_id is not None
        else None
    )

    if marker is not None and marker.exists():
        return AppliedChange(entry_id="", balance_after=_balance(ref), already_applied=True)
    snapshot = ref.get()
    if not snapshot.exists:
        raise ApiError(ErrorCode.ACCOUNT_MISSING, "Create your account first (POST /v1/account).")
    account = Account.from_firestore(snapshot.to_dict())
    now = utc_now()
    batch = db.batch()
    state, migrated = _state_of(change.user_id, account, now)
    effective = _resolved(change, now)
    try:
        plan = plan_change(state, _pure_change(effective, state), now)
    except Shortfall as short:
        # The balance read may already include this very change, applied by a concurrent twin
        # after our marker check: then it is a replay, not a shortfall.
        if marker is not None and marker.exists():
            return AppliedChange(entry_id="", balance_after=account.credits, already_applied=True)
        raise ApiError(
            ErrorCode.INSUFFICIENT_CREDITS,
            f"This needs {short.needed} credits; the balance is {max(short.spendable, 0)}"
            + (f" ({account.credits - short.spendable} expired)" if account.credits > short.spendable else "")
            + ".",
        ) from None
    balance_after = plan.state.balance
    batch.update(
        ref,
        {
            "credits": balance_after,
            "debt": plan.state.debt,
            "grants": {g: b.to_firestore() for g, b in plan.state.grants.items()},
            "updated_at": now,
            # More fields of the balance document changed with it (a credit lease's hold): one write.
            **(balance_fields or {}),
        },
        option=db.write_option(last_update_time=snapshot.update_time),
    )
    new_grant = effective.effect.grant_id if isinstance(effective.effect, NewGrant) else None
    for grant_id, grant in migrated.items():
        if grant_id == new_grant:
            # A concurrent twin granted it between our reads of the balance and of the purchases: the
            # balance's precondition fails this attempt, and Firestore refuses a set and a create of one
            # document in one batch before it checks preconditions.
            continue
        batch.set(grant_ref(grant_id), grant.to_firestore())
    entry_id = change.entry_id or new_entry_id()
    running = state.balance
    own: dict[str, int] = {}
    for n, planned in enumerate(plan.entries):
        running += planned.amount
        if planned.kind is EntryKind.CHANGE:
            entry_type, entry_ref_id, own = change.type, entry_id, planned.allocations
            description = change.description
        else:
            entry_type = LedgerEntryType.EXPIRY if planned.kind is EntryKind.EXPIRY else LedgerEntryType.VOID
            entry_ref_id = derived_id("cle", entry_id, str(n))
            description = f"{planned.kind.value}: {-planned.amount} credits of grants no longer active"
            if isinstance(change.effect, EndGrant):
                entry_ref_id = change.entry_id or new_entry_id()
                description = change.description
        entry = LedgerEntry(
            user_id=change.user_id,
            type=entry_type,
            amount=planned.amount,
            balance_after=running,
            reference=change.reference,
            description=description,
            allocations=planned.allocations,
            # A change's entries in their order (a refund before the expiry it caused), newest first.
            created_at=now + timedelta(microseconds=n),
        )
        batch.create(db.collection(LedgerEntry.collection).document(entry_ref_id), entry.to_firestore())
    _write_grant_statuses(batch, effective, plan.statuses, plan.state.grants, now)
    add_marker(batch, marker)
    if extra_writes is not None:
        extra_writes(batch, balance_after)
    try:
        # FailedPrecondition: someone changed the balance since we read it; Aborted wrote nothing.
        # Both mean read again (retry_commit).
        batch.commit()
    except AlreadyExists:
        if marker is not None and marker.exists():
            return AppliedChange(entry_id="", balance_after=_balance(ref), already_applied=True)
        raise
    return AppliedChange(entry_id=entry_id, balance_after=balance_after, allocations=own)


def _resolved(change: CreditChange, now: datetime) -> CreditChange:
    """Credits that arrive without a grant named (a return to a debit that recorded no allocations, made
    before grants existed) become a paid grant of their own."""
    effect = change.effect
    if effect is None and change.amount > 0:
        name = change.description or change.type.value  # credits with no grant named: a paid grant
    elif isinstance(effect, ReturnTo) and effect.debit_entry_id is not None:
        taken = _debit_allocations(effect, change.amount)
        if taken is not None:
            return replace(change, effect=replace(effect, taken=taken))
        name = "Credits given back"
    else:
        return change
    grant_id = derived_id("grt", "credits", change.marker_id or change.entry_id or new_entry_id())
    grant = CreditGrant(
        user_id=change.user_id,
        category=GrantCategory.PAID,
        name=name[:200],
        amount=change.amount,
        remaining=change.amount,
        effective_at=now,
        source=GrantSource.ADJUSTMENT,
        reference=change.reference,
        index_shard=index_shard(grant_id),
        created_at=now,
    )
    return replace(change, effect=NewGrant(grant_id, grant))


def _pure_change(change: CreditChange, state: CreditState) -> grants.Change:
    effect = change.effect
    if effect is None:
        return grants.Spend(-change.amount, allow_debt=change.allow_negative)
    if isinstance(effect, NewGrant):
        return grants.AddGrant(
            effect.grant_id, effect.grant.balance().model_copy(update={"remaining": change.amount})
        )
    if isinstance(effect, TakeBackFrom):
        return grants.TakeBack(effect.grant_id, -change.amount)
    if isinstance(effect, EndGrant):
        return grants.RemoveGrant(effect.grant_id, effect.status)
    taken = effect.taken if effect.taken is not None else _debit_allocations(effect, change.amount)
    if taken is None:
        raise ValueError(
            f"debit {effect.debit_entry_id} took less than the {change.amount} credits given back"
        )
    known: dict[str, tuple[GrantBalance, GrantStatus]] = {}
    for grant_id in taken:
        if grant_id not in state.grants:
            snapshot = grant_ref(grant_id).get()
            if snapshot.exists:
                doc = CreditGrant.from_firestore(snapshot.to_dict())
                known[grant_id] = (doc.balance(), doc.status)
            else:  # a purchase beyond those migrated: a paid grant from now on
                known[grant_id] = (
                    GrantBalance(remaining=0, category=GrantCategory.PAID, effective_at=utc_now()),
                    GrantStatus.DEPLETED,
                )
    return grants.ReturnCredits(change.amount, taken, known)


def _debit_allocations(effect: ReturnTo, amount: int) -> dict[str, int] | None:
    if effect.grant_id is not None:
        return {effect.grant_id: amount}
    snapshot = (
        firestore_client().collection(LedgerEntry.collection).document(effect.debit_entry_id or "-").get()
    )
    debit = LedgerEntry.from_firestore(snapshot.to_dict()) if snapshot.exists else None
    taken = {g: -a for g, a in ((debit.allocations or {}) if debit else {}).items() if a < 0}
    return taken if sum(taken.values()) >= amount else None


def _write_grant_statuses(
    batch: firestore.WriteBatch,
    change: CreditChange,
    statuses: dict[str, GrantStatus],
    active: Mapping[str, GrantBalance],
    now: datetime,
) -> None:
    new = change.effect if isinstance(change.effect, NewGrant) else None
    if new is not None:
        status = statuses.pop(new.grant_id, GrantStatus.ACTIVE)
        remaining = active[new.grant_id].remaining if new.grant_id in active else 0
        doc = new.grant.model_copy(update={"remaining": remaining, "status": status, "updated_at": now})
        batch.create(grant_ref(new.grant_id), doc.to_firestore())
    for grant_id, status in statuses.items():
        remaining = active[grant_id].remaining if grant_id in active else 0
        batch.update(grant_ref(grant_id), {"status": status.value, "remaining": remaining, "updated_at": now})


def _state_of(user_id: str, account: Account, now: datetime) -> tuple[CreditState, dict[str, CreditGrant]]:
    """The account's grants and debt, and (for an account from before grants) the grants its balance
    migrates to, written in the same batch as its first change: its purchases' paid grants (the newest keep
    their credits, the oldest were spent first) and what is left beyond them as one carried-over grant."""
    if account.grants is not None:
        return CreditState(account.grants, account.debt), {}
    purchases = [
        (snapshot.id, Purchase.from_firestore(snapshot.to_dict()))
        for snapshot in firestore_client()
        .collection(Purchase.collection)
        .where(filter=firestore.FieldFilter("user_id", "==", user_id))
        .where(filter=firestore.FieldFilter("credits_granted", "==", True))
        .stream()
    ]
    purchases.sort(key=lambda item: item[1].created_at, reverse=True)
    kept = purchases[:MIGRATED_PURCHASES_MAX]
    credits = [
        PurchaseCredits(purchase_grant_id(pid), p.credits - p.credits_clawed_back, p.created_at)
        for pid, p in kept
    ]
    remaining, carried, debt = migrated_remaining(account.credits, credits)
    docs: dict[str, CreditGrant] = {}
    for pid, p in kept:
        grant_id = purchase_grant_id(pid)
        docs[grant_id] = purchase_grant(user_id, pid, p, now, p.created_at).model_copy(
            update={
                "remaining": remaining[grant_id],
                "status": GrantStatus.ACTIVE if remaining[grant_id] else GrantStatus.DEPLETED,
            }
        )
    if carried:
        docs[derived_id("grt", "carried", user_id)] = CreditGrant(
            user_id=user_id,
            category=GrantCategory.PAID,
            name="Balance before credit grants",
            amount=carried,
            remaining=carried,
            effective_at=account.created_at,
            source=GrantSource.MIGRATION,
            created_at=now,
        )
    active = {g: d.balance() for g, d in docs.items() if d.remaining > 0}
    return CreditState(active, debt), docs


def purchase_grant(
    user_id: str, purchase_id: str, purchase: Purchase, now: datetime, effective_at: datetime | None = None
) -> CreditGrant:
    """A purchase's paid grant (an auto top-up's too): never expires, default priority."""
    return CreditGrant(
        user_id=user_id,
        category=GrantCategory.PAID,
        name=f"{purchase.package} package",
        amount=purchase.credits,
        remaining=purchase.credits,
        effective_at=effective_at or now,
        source=GrantSource.AUTO_TOP_UP if purchase.auto_top_up else GrantSource.PURCHASE,
        reference=purchase_id,
        index_shard=index_shard(purchase_grant_id(purchase_id)),
        created_at=now,
    )


def refuse_debt(user_id: str) -> None:
    """Live work of no cost still needs a balance that is not negative: a debt (credits taken back after
    they were spent, docs/stripe.md) stops live jobs with 402 until purchases bring it back up."""
    snapshot = account_ref(user_id).get()
    data = (snapshot.to_dict() or {}) if snapshot.exists else {}
    credits = int(data.get("credits", 0))
    if credits < 0 or int(data.get("debt", 0)) > 0:
        raise ApiError(
            ErrorCode.INSUFFICIENT_CREDITS,
            f"The balance is {credits} credits (taken back after a refund or dispute); buy credits first.",
        )


def _balance(ref: firestore.DocumentReference) -> int:
    snapshot = ref.get()
    if not snapshot.exists:
        raise NotFound("account")
    return int((snapshot.to_dict() or {}).get("credits", 0))
