"""Credit leases in Firestore: the writes the pure decisions (shared/credits/leases.py) ask for, made through
the one way credits move (shared/credits/ledger.apply_credit_change: debits across grants, with allocations).

- Open: one balance change, the lease's debit of its whole amount across the grants (one `job_debit`
  ledger entry with its allocations, id derived from the lease), with `held` and `leases.{id}` on the balance
  document and `credit_leases/{id}` created in the same batch (the sweep's handle on it).
- Settle: one balance change, the unused part and the pending returns of the lease's jobs (refunds and
  releases, `credit_returns`) given back to the grants the lease's debit took them from (one `job_release`
  ledger entry), `held` down, the lease removed from `leases`, `credit_leases/{id}` and the folded returns
  deleted, and the marker `settle:lease:{id}` created: settled exactly once. What the lease's jobs used is
  summed from the jobs themselves (one aggregation), so a dead instance's memory is not needed.
- The sweep (`sweep_leases`): leases past their expiry and grace, and returns no settlement folded in time.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from google.api_core.exceptions import NotFound
from google.cloud import firestore

from shared.accounts.service import account_ref
from shared.core import logs
from shared.core.clients import firestore_client
from shared.core.errors import ApiError
from shared.core.index_shards import first_over_shards, index_shard
from shared.core.markers import Marker, add_marker
from shared.core.retry import retry_commit
from shared.credits import leases
from shared.credits.ledger import CreditChange, ReturnTo, apply_credit_change, derived_id
from shared.models import Account, CreditLease, CreditReturn, Job, LedgerEntryType, utc_now

RETURNS_PER_SETTLEMENT = 200  # a batch holds at most 500 writes
SWEEP_BATCH = 100


@dataclass(frozen=True)
class OpenedLease:
    lease_id: str
    amount: int
    expires_at: datetime


def new_lease_id() -> str:
    return "lse_" + secrets.token_hex(12)


def lease_debit_entry_id(lease_id: str) -> str:
    """The lease's debit entry: its allocations say which grants its credits came from (returns go back)."""
    return derived_id("cle", "lease", lease_id)


def _lease_ref(lease_id: str) -> firestore.DocumentReference:
    return firestore_client().collection(CreditLease.collection).document(lease_id)


def open_lease(user_id: str, rate_per_s: float, price: int) -> OpenedLease | None:
    """Hold credits for this instance's next jobs of `user_id`; None when the balance cannot pay one job
    (the caller takes the exact path, which answers 402) or the account is missing."""
    snapshot = account_ref(user_id).get()
    if not snapshot.exists:
        return None
    amount = leases.lease_size(rate_per_s, price, Account.from_firestore(snapshot.to_dict()).credits)
    if amount == 0:
        return None
    lease_id = new_lease_id()
    now = utc_now()
    expires_at = now + leases.LEASE_TTL
    record = CreditLease(
        user_id=user_id,
        amount=amount,
        index_shard=index_shard(lease_id),
        expires_at=expires_at,
        sweep_at=expires_at + leases.SWEEP_GRACE,
        created_at=now,
    )

    def hold(batch: firestore.WriteBatch, _balance_after: int) -> None:
        batch.update(
            account_ref(user_id),
            {
                "held": firestore.Increment(amount),
                f"leases.{lease_id}": {"amount": amount, "expires_at": expires_at},
            },
        )
        batch.create(_lease_ref(lease_id), record.to_firestore())

    try:
        apply_credit_change(
            CreditChange(
                user_id=user_id,
                amount=-amount,
                type=LedgerEntryType.JOB_DEBIT,
                reference=lease_id,
                description=f"credit lease: up to {amount // price} jobs",
                entry_id=lease_debit_entry_id(lease_id),
            ),
            extra_writes=hold,
        )
    except ApiError:  # short of credits (another instance leased meanwhile): the exact path decides
        return None
    return OpenedLease(lease_id, amount, expires_at)


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
    """Settle `lease_id` (None: only fold the user's pending returns) in one balance change per lease whose
    credits come back; False when there was nothing to do (the lease was settled already: exactly once)."""
    if lease_id is not None:
        account = account_ref(user_id).get()
        held = Account.from_firestore(account.to_dict()).leases.get(lease_id) if account.exists else None
        if held is None:
            _forget(lease_id)
            return False
        used, jobs = lease_use(lease_id)
        returns = [s for s in pending_returns(user_id) if (s.to_dict() or {}).get("lease_id") == lease_id]
        _give_back(user_id, lease_id, held.amount, used, jobs, returns)
        return True
    by_lease: dict[str, list[Any]] = {}
    for snapshot in pending_returns(user_id):
        by_lease.setdefault(str((snapshot.to_dict() or {}).get("lease_id")), []).append(snapshot)
    for returned_to, returns in sorted(by_lease.items()):
        _give_back(user_id, returned_to, 0, 0, 0, returns)
    return bool(by_lease)


def _forget(lease_id: str) -> None:
    try:
        _lease_ref(lease_id).delete()
    except NotFound:
        pass


def _give_back(user_id: str, lease_id: str, amount: int, used: int, jobs: int, returns: list[Any]) -> None:
    """One balance change: the lease's unused `amount - used` (when `amount`: the lease settles) and the
    `returns` go back to the grants the lease's debit took them from."""
    credits = [CreditReturn.from_firestore(s.to_dict()) for s in returns]
    back = amount - used + sum(c.amount for c in credits)
    ids = sorted(s.id for s in returns)
    key = lease_id if amount else hashlib.sha256("\x00".join(ids).encode()).hexdigest()[:32]
    marker_id = f"settle:lease:{key}"

    def settle_writes(batch: firestore.WriteBatch, _balance_after: int = 0) -> None:
        if amount:
            batch.update(
                account_ref(user_id),
                {"held": firestore.Increment(-amount), f"leases.{lease_id}": firestore.DELETE_FIELD},
            )
            batch.delete(_lease_ref(lease_id))
        for snapshot in returns:
            batch.delete(snapshot.reference)

    if back <= 0:
        # Everything was used and nothing comes back: no ledger entry, only the hold ends (once: marker).
        marker = Marker(marker_id=marker_id, source="ledger", event_type="lease_settled")

        def attempt() -> None:
            if marker.exists():
                return
            batch = firestore_client().batch()
            settle_writes(batch)
            add_marker(batch, marker)
            batch.commit()

        retry_commit(attempt, what=f"settlement of {lease_id}")
        return
    what = f"{jobs} jobs used {used} of {amount}" if amount else f"{len(credits)} refunds and releases"
    apply_credit_change(
        CreditChange(
            user_id=user_id,
            amount=back,
            type=LedgerEntryType.JOB_RELEASE,
            reference=lease_id,
            description=f"credit lease settled: {what}",
            marker_id=marker_id,
            effect=ReturnTo(debit_entry_id=lease_debit_entry_id(lease_id)),
        ),
        extra_writes=settle_writes,
    )


def add_return(
    batch: firestore.WriteBatch,
    marker: str,
    user_id: str,
    lease_id: str,
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
        lease_id=lease_id,
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
