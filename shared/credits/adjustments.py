"""Operator corrections of a balance: `adjustment` ledger entries made by an administrator.

Idempotency by construction: the entry's id is derived from (project, user, Idempotency-Key), and the change
carries the marker `adjustment:{entry_id}`, so a repeated request finds its entry instead of adjusting twice;
the same key with another amount or reason is refused (409). A negative adjustment may leave a debt, as a
refund taken back after the credits were spent does (docs/jobs.md): new live jobs then answer 402.
"""

from __future__ import annotations

import hashlib
from typing import Any

from shared.accounts.service import account_ref
from shared.core import logs
from shared.core.clients import current_project, firestore_client
from shared.core.errors import ApiError, ErrorCode, not_found
from shared.core.index_shards import index_shard
from shared.credits.ledger import CreditChange, NewGrant, apply_credit_change, derived_id
from shared.credits.views import ledger_entry_resource
from shared.models import CreditGrant, GrantCategory, GrantSource, LedgerEntry, LedgerEntryType, utc_now


def adjustment_entry_id(user_id: str, idempotency_key: str) -> str:
    digest = hashlib.sha256(f"{current_project()}\x00{user_id}\x00{idempotency_key}".encode()).hexdigest()
    return "cle_" + digest[:24]


def adjust_credits(
    user_id: str, amount: int, reason: str, idempotency_key: str, *, admin_id: str
) -> tuple[dict[str, Any], bool]:
    """Returns (the ledger entry, made by this request). A repeat returns the first request's entry."""
    entry_id = adjustment_entry_id(user_id, idempotency_key)
    ref = firestore_client().collection(LedgerEntry.collection).document(entry_id)
    existing = ref.get()
    if not existing.exists:
        if not account_ref(user_id).get().exists:
            raise not_found("user", param="user_id")
        applied = apply_credit_change(
            CreditChange(
                user_id=user_id,
                amount=amount,
                type=LedgerEntryType.ADJUSTMENT,
                description=reason,
                marker_id=f"adjustment:{entry_id}",
                allow_negative=True,
                entry_id=entry_id,
                # Credits added are a paid grant of their own; credits taken come from the spending order.
                effect=_adjustment_grant(user_id, entry_id, amount, reason) if amount > 0 else None,
            )
        )
        existing = ref.get()
        if not applied.already_applied:
            logs.info(
                "credits adjusted", user_id=user_id, amount=amount, entry_id=entry_id, admin_id=admin_id
            )
            return ledger_entry_resource(entry_id, LedgerEntry.from_firestore(existing.to_dict())), True
    entry = LedgerEntry.from_firestore(existing.to_dict())
    if entry.amount != amount or entry.description != reason or entry.type is not LedgerEntryType.ADJUSTMENT:
        raise ApiError(
            ErrorCode.IDEMPOTENCY_KEY_IN_USE,
            "This Idempotency-Key was used with a different adjustment; use a new key for a new one.",
        )
    return ledger_entry_resource(entry_id, entry), False


def _adjustment_grant(user_id: str, entry_id: str, amount: int, reason: str) -> NewGrant:
    grant_id = derived_id("grt", "adjustment", entry_id)
    now = utc_now()
    return NewGrant(
        grant_id,
        CreditGrant(
            user_id=user_id,
            category=GrantCategory.PAID,
            name=reason[:200],
            amount=amount,
            remaining=amount,
            effective_at=now,
            source=GrantSource.ADJUSTMENT,
            reference=entry_id,
            index_shard=index_shard(grant_id),
            created_at=now,
        ),
    )
