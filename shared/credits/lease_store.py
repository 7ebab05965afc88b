"""Credit leases in Firestore: the writes the pure decisions (shared/credits/leases.py) ask for.

- Open: one batch, the balance update (`credits` down, `held` up, `leases.{id}` recorded, preconditioned on
  the balance as read) and `credit_leases/{id}` created (the sweep's handle on it).
- Settle: one batch, the balance update (the lease removed from `leases`: what settles it exactly once), one
  `job_debit` ledger entry for what the lease's jobs reserved (summed from the jobs themselves, so a dead
  instance's memory is not needed), each pending return (`credit_returns`, refunds and releases of leased
  jobs) folded in with its own ledger entry and deleted (an `exists` precondition), and the lease document
  deleted.
- The sweep (`sweep_leases`): leases past their expiry and grace, and returns no settlement folded in time.

Lost races re-read and decide again (retry_commit), as every balance change does (shared/credits/ledger.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from google.cloud import firestore

from shared.accounts.service import account_ref
from shared.core import logs
from shared.core.clients import firestore_client
from shared.core.index_shards import first_over_shards, index_shard
from shared.core.retry import retry_commit
from shared.credits import leases
from shared.credits.ledger import new_entry_id
from shared.models import (
    Account,
    CreditLease,
    CreditReturn,
    Job,
    LedgerEntry,
    LedgerEntryType,
    utc_now,
)

MAX_ATTEMPTS = 200
RETURNS_PER_SETTLEMENT = 200  # a batch holds at most 500 writes; each return is two
SWEEP_BATCH = 100


@dataclass(frozen=True)
class OpenedLease:
    lease_id: str
    amount: int
    expires_at: datetime


def new_lease_id() -> str:
    return "lse_" + secrets.token_hex(12)


def _state(account: Account) -> leases.BalanceState:
    return leases.BalanceState(
        credits=account.credits,
        held=account.held,
        leases={i: leases.HeldLease(h.amount, h.expires_at) for i, h in account.leases.items()},
    )


def _lease_ref(lease_id: str) -> firestore.DocumentReference:
    return firestore_client().collection(CreditLease.collection).document(lease_id)


def open_lease(user_id: str, rate_per_s: float, price: int) -> OpenedLease | None:
    """Hold credits for this instance's next jobs of `user_id`; None when the balance cannot pay one job
    (the caller takes the exact path, which answers 402) or the account is missing."""
    db = firestore_client()
    ref = account_ref(user_id)
    lease_id = new_lease_id()

    def attempt() -> OpenedLease | None:
        snapshot = ref.get()
        if not snapshot.exists:
            return None
        account = Account.from_firestore(snapshot.to_dict())
        amount = leases.lease_size(rate_per_s, price, account.credits)
        if amount == 0:
            return None
        now = utc_now()
        state = leases.open_lease(_state(account), lease_id, amount, now)
        hold = state.leases[lease_id]
        batch = db.batch()
        batch.update(
            ref,
            {
                "credits": state.credits,
                "held": state.held,
                f"leases.{lease_id}": {"amount": amount, "expires_at": hold.expires_at},
                "updated_at": now,
            },
            option=db.write_option(last_update_time=snapshot.update_time),
        )
        record = CreditLease(
            user_id=user_id,
            amount=amount,
            index_shard=index_shard(lease_id),
            expires_at=hold.expires_at,
            sweep_at=hold.expires_at + leases.SWEEP_GRACE,
            created_at=now,
        )
        batch.create(_lease_ref(lease_id), record.to_firestore())
        batch.commit()
        return OpenedLease(lease_id, amount, hold.expires_at)

    return retry_commit(attempt, what=f"lease of {user_id}", max_attempts=MAX_ATTEMPTS, step=0.002, cap=0.05)


def lease_use(lease_id: str) -> tuple[int, int]:
    """(credits reserved, jobs) of the jobs created under the lease: one aggregation (no documents read).
    Index: the single-field index on lease_id."""
    query = (
        firestore_client()
        .collection(Job.collection)
        .where(filter=firestore.FieldFilter("lease_id", "==", lease_id))
    )
    aggregation: Any = query.count(alias="jobs")
    aggregation = aggregation.sum("reserved_credits", alias="credits")
    values = {result.alias: result.value for result in aggregation.get()[0]}
    return int(values.get("credits") or 0), int(values.get("jobs") or 0)


def pending_returns(user_id: str, limit: int = RETURNS_PER_SETTLEMENT) -> list[Any]:
    query = (
        firestore_client()
        .collection(CreditReturn.collection)
        .where(filter=firestore.FieldFilter("user_id", "==", user_id))
    )
    return list(query.limit(limit).stream())


def settle_lease(user_id: str, lease_id: str | None) -> bool:
    """Settle `lease_id` (None: only fold the user's pending returns) in one write; False when there was
    nothing to do (the lease was settled already: exactly once)."""
    db = firestore_client()
    ref = account_ref(user_id)
    # Nothing is admitted under the lease any more (its holder stopped, or its expiry is long past), so
    # its jobs' reserved credits are final.
    used, jobs = lease_use(lease_id) if lease_id is not None else (0, 0)

    def attempt() -> bool:
        snapshot = ref.get()
        if not snapshot.exists:
            return False
        account = Account.from_firestore(snapshot.to_dict())
        if lease_id is not None and lease_id not in account.leases:
            return False
        returns = [(s, CreditReturn.from_firestore(s.to_dict())) for s in pending_returns(user_id)]
        if lease_id is None and not returns:
            return False
        outcome = leases.settle(_state(account), lease_id, used, tuple(r.amount for _, r in returns))
        now = utc_now()
        batch = db.batch()
        fields: dict[str, Any] = {
            "credits": outcome.state.credits,
            "held": outcome.state.held,
            "updated_at": now,
        }
        if lease_id is not None:
            fields[f"leases.{lease_id}"] = firestore.DELETE_FIELD
            batch.delete(_lease_ref(lease_id))
        batch.update(ref, fields, option=db.write_option(last_update_time=snapshot.update_time))
        entries = db.collection(LedgerEntry.collection)
        balance = outcome.state.credits - sum(outcome.returned)
        if outcome.debit:
            entry = LedgerEntry(
                user_id=user_id,
                type=LedgerEntryType.JOB_DEBIT,
                amount=-outcome.debit,
                balance_after=balance,
                reference=lease_id,
                description=f"{jobs} jobs (credit lease)",
                created_at=now,
            )
            batch.create(entries.document(new_entry_id()), entry.to_firestore())
        for return_snapshot, credit in returns:
            balance += credit.amount
            entry = LedgerEntry(
                user_id=user_id,
                type=credit.type,
                amount=credit.amount,
                balance_after=balance,
                reference=credit.reference,
                description=credit.description,
                created_at=now,
            )
            batch.create(entries.document(new_entry_id()), entry.to_firestore())
            batch.delete(return_snapshot.reference, option=db.write_option(exists=True))
        batch.commit()
        return True

    return retry_commit(
        attempt, what=f"settlement of {lease_id or 'returns'} of {user_id}", max_attempts=MAX_ATTEMPTS
    )


def add_return(
    batch: firestore.WriteBatch,
    marker: str,
    user_id: str,
    amount: int,
    type: LedgerEntryType,
    reference: str | None,
    description: str | None,
) -> None:
    """A leased job's refund or release, in the job's own batch: `credit_returns/{marker}` is created (a
    second attempt fails AlreadyExists), and a settlement folds it into the balance."""
    now = utc_now()
    credit = CreditReturn(
        user_id=user_id,
        amount=amount,
        type=type,
        reference=reference,
        description=description,
        index_shard=index_shard(marker),
        sweep_at=now + leases.SWEEP_GRACE,
        created_at=now,
    )
    batch.create(
        firestore_client().collection(CreditReturn.collection).document(marker), credit.to_firestore()
    )


def _due(collection: str, now: datetime) -> list[Any]:
    def query(shard: int) -> Any:
        # Index: index_shard ASC, sweep_at ASC (firestore.indexes.json).
        return (
            firestore_client()
            .collection(collection)
            .where(filter=firestore.FieldFilter("index_shard", "==", shard))
            .where(filter=firestore.FieldFilter("sweep_at", "<=", now))
            .order_by("sweep_at")
        )

    return first_over_shards(query, "sweep_at", SWEEP_BATCH)


def sweep_leases(now: datetime | None = None) -> int:
    """Settle the leases whose holders are gone (past expiry and grace) and fold the returns no settlement
    took in time, one by one (one bad item is logged and skipped). Returns the settlements made."""
    now = now or utc_now()
    settled = 0
    for snapshot in _due(CreditLease.collection, now):
        try:
            lease = CreditLease.from_firestore(snapshot.to_dict())
            settled += settle_lease(lease.user_id, snapshot.id)
        except Exception as exc:
            logs.warning("lease sweep: settlement failed", lease_id=snapshot.id, error=repr(exc))
    users = {str((s.to_dict() or {}).get("user_id", "")) for s in _due(CreditReturn.collection, now)}
    for user_id in sorted(users - {""}):
        try:
            settled += settle_lease(user_id, None)
        except Exception as exc:
            logs.warning("lease sweep: folding returns failed", user_id=user_id, error=repr(exc))
    return settled
