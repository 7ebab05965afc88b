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

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from google.api_core.exceptions import AlreadyExists, NotFound
from google.cloud import firestore

from shared.accounts.service import account_ref
from shared.core.clients import firestore_client
from shared.core.errors import ApiError, ErrorCode
from shared.core.markers import Marker, add_marker
from shared.core.retry import retry_commit
from shared.models import Account, LedgerEntry, LedgerEntryType, utc_now

MAX_ATTEMPTS = 200
RETRY_STEP_S = 0.002
RETRY_CAP_S = 0.05
ExtraWrites = Callable[[firestore.WriteBatch, int], None]


@dataclass(frozen=True)
class CreditChange:
    user_id: str
    amount: int  # signed credits
    type: LedgerEntryType
    reference: str | None = None
    description: str | None = None
    marker_id: str | None = None  # key of the exactly-once marker, e.g. "grant:purchase:pur_123"
    allow_negative: bool = False  # clawbacks may leave a debt; debits never may
    entry_id: str | None = None  # the ledger entry's id when the caller derives it (else a new random one)


@dataclass(frozen=True)
class AppliedChange:
    entry_id: str
    balance_after: int
    already_applied: bool = False


def new_entry_id() -> str:
    return "cle_" + secrets.token_hex(12)


def apply_credit_change(change: CreditChange, extra_writes: ExtraWrites | None = None) -> AppliedChange:
    """Apply once, retrying lost balance races here (for callers with no loop of their own). Raises
    ApiError(ErrorCode.INSUFFICIENT_CREDITS) when a debit would go below zero and
    ApiError(ErrorCode.ACCOUNT_MISSING) when the user has no account. Returns already_applied=True (and writes
    nothing) when the marker shows it was applied before."""
    return retry_commit(
        lambda: try_credit_change(change, extra_writes),
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


def try_credit_change(change: CreditChange, extra_writes: ExtraWrites | None = None) -> AppliedChange:
    """One attempt of `apply_credit_change`: a lost race raises what shared/core/retry.RETRYABLE_COMMIT_ERRORS
    names (nothing was written), for a caller whose own retry loop reads and decides again: a loop inside a
    loop would multiply the attempts (a job transition runs its money through this)."""
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
    balance_after = account.credits + change.amount
    if balance_after < 0 and change.amount < 0 and not change.allow_negative:
        # The balance read may already include this very change, applied by a concurrent twin
        # after our marker check: then it is a replay, not a shortfall.
        if marker is not None and marker.exists():
            return AppliedChange(entry_id="", balance_after=account.credits, already_applied=True)
        raise ApiError(
            ErrorCode.INSUFFICIENT_CREDITS,
            f"This needs {-change.amount} credits; the balance is {account.credits}.",
        )
    now = utc_now()
    entry_id = change.entry_id or new_entry_id()
    batch = db.batch()
    batch.update(
        ref,
        {"credits": balance_after, "updated_at": now},
        option=db.write_option(last_update_time=snapshot.update_time),
    )
    entry = LedgerEntry(
        user_id=change.user_id,
        type=change.type,
        amount=change.amount,
        balance_after=balance_after,
        reference=change.reference,
        description=change.description,
        created_at=now,
    )
    batch.create(db.collection(LedgerEntry.collection).document(entry_id), entry.to_firestore())
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
    return AppliedChange(entry_id=entry_id, balance_after=balance_after)


def refuse_debt(user_id: str) -> None:
    """Live work of no cost still needs a balance that is not negative: a debt (credits taken back after
    they were spent, docs/stripe.md) stops live jobs with 402 until purchases bring it back up."""
    snapshot = account_ref(user_id).get()
    credits = int((snapshot.to_dict() or {}).get("credits", 0)) if snapshot.exists else 0
    if credits < 0:
        raise ApiError(
            ErrorCode.INSUFFICIENT_CREDITS,
            f"The balance is {credits} credits (taken back after a refund or dispute); buy credits first.",
        )


def _balance(ref: firestore.DocumentReference) -> int:
    snapshot = ref.get()
    if not snapshot.exists:
        raise NotFound("account")
    return int((snapshot.to_dict() or {}).get("credits", 0))
