"""Credit grants made by operators and at sign-up, voided by operators, listed for their customer, and
expired by the sweep (docs/credits.md). Every one moves credits through `apply_credit_change`, so a grant,
a void or an expiry is one batch: the balance document, the ledger entry, the grant's document and the
exactly-once marker.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore

from shared.accounts.service import account_ref, get_account
from shared.core import logs
from shared.core.clients import firestore_client
from shared.core.errors import ApiError, ErrorCode, not_found
from shared.core.index_shards import first_over_shards, index_shard
from shared.core.pagination import PageParams, Snapshot, list_page
from shared.core.principals import KeyPrincipal, Principal
from shared.credits.ledger import (
    CreditChange,
    EndGrant,
    NewGrant,
    apply_credit_change,
    derived_id,
    grant_ref,
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
    SignupGrant,
    utc_now,
)
from shared.system.config import config_ref

SWEEP_BATCH = 200


def grant_resource(grant_id: str, grant: CreditGrant, live: GrantBalance | None = None) -> dict[str, Any]:
    """`live`: the balance document's figure for an active grant (its document's `remaining` is older)."""
    remaining = live.remaining if live is not None else grant.remaining
    return {
        "grant_id": grant_id,
        "category": grant.category.value,
        "name": grant.name,
        "amount": grant.amount,
        "remaining": remaining if grant.status is GrantStatus.ACTIVE else grant.remaining,
        "status": grant.status.value,
        "priority": grant.priority,
        "source": grant.source.value,
        "effective_at": int(grant.effective_at.timestamp()),
        "expires_at": int(grant.expires_at.timestamp()) if grant.expires_at is not None else None,
        "created_at": int(grant.created_at.timestamp()),
    }


# --- operators' grants --------------------------------------------------------------------------------


def create_grant(
    user_id: str,
    *,
    amount: int,
    category: GrantCategory,
    name: str,
    expires_at: datetime | None,
    priority: int,
    idempotency_key: str,
    admin_id: str,
) -> tuple[dict[str, Any], bool]:
    """Returns (the grant, made by this request). The grant's id is derived from (project, user, key): a
    repeat finds it; the same key with another body is refused (409)."""
    grant_id = derived_id("grt", "admin", user_id, idempotency_key)
    now = utc_now()
    if expires_at is not None and expires_at <= now:
        raise ApiError(ErrorCode.PARAMETER_INVALID, "expires_at must be in the future.", param="expires_at")
    grant = CreditGrant(
        user_id=user_id,
        category=category,
        name=name,
        amount=amount,
        remaining=amount,
        priority=priority,
        effective_at=now,
        expires_at=expires_at,
        source=GrantSource.ADMIN,
        index_shard=index_shard(grant_id),
        created_at=now,
    )
    existing = grant_ref(grant_id).get()
    made = False
    if not existing.exists:
        if not account_ref(user_id).get().exists:
            raise not_found("user", param="user_id")
        made = not add_grant(grant_id, grant, LedgerEntryType.GRANT).already_applied
        existing = grant_ref(grant_id).get()
        if made:
            logs.info("credits granted", user_id=user_id, grant_id=grant_id, amount=amount, admin_id=admin_id)
    stored = CreditGrant.from_firestore(existing.to_dict())
    same = (stored.user_id, stored.amount, stored.category, stored.name, stored.expires_at, stored.priority)
    if (
        same != (user_id, amount, category, name, expires_at, priority)
        or stored.source is not GrantSource.ADMIN
    ):
        raise ApiError(
            ErrorCode.IDEMPOTENCY_KEY_IN_USE,
            "This Idempotency-Key was used with a different grant; use a new key for a new one.",
        )
    return grant_resource(grant_id, stored, _live(user_id).get(grant_id)), made


def add_grant(grant_id: str, grant: CreditGrant, entry_type: LedgerEntryType) -> Any:
    return apply_credit_change(
        CreditChange(
            user_id=grant.user_id,
            amount=grant.amount,
            type=entry_type,
            reference=grant_id,
            description=grant.name,
            marker_id=f"grant:{grant_id}",
            effect=NewGrant(grant_id, grant),
        )
    )


def void_grant(grant_id: str, *, admin_id: str) -> dict[str, Any]:
    """Void a promotional grant: what is left of it goes with one `void` ledger entry (once). Voiding a
    voided grant answers it again; a paid grant, or one already expired, is 409."""
    snapshot = grant_ref(grant_id).get()
    if not snapshot.exists:
        raise not_found("credit grant", param="grant_id")
    grant = CreditGrant.from_firestore(snapshot.to_dict())
    if grant.category is not GrantCategory.PROMOTIONAL:
        raise ApiError(
            ErrorCode.ILLEGAL_STATE_TRANSITION,
            "Only promotional grants can be voided; paid credits are refunded.",
        )
    if grant.status is GrantStatus.EXPIRED:
        raise ApiError(ErrorCode.ILLEGAL_STATE_TRANSITION, "This grant has expired already.")
    if grant.status is not GrantStatus.VOIDED:
        remaining = _live(grant.user_id).get(grant_id)
        apply_credit_change(
            CreditChange(
                user_id=grant.user_id,
                amount=-(remaining.remaining if remaining else 0),
                type=LedgerEntryType.VOID,
                reference=grant_id,
                description=f"{grant.name}: voided",
                marker_id=f"void:grant:{grant_id}",
                effect=EndGrant(grant_id, GrantStatus.VOIDED),
            )
        )
        logs.info("credit grant voided", user_id=grant.user_id, grant_id=grant_id, admin_id=admin_id)
    return grant_resource(grant_id, CreditGrant.from_firestore(grant_ref(grant_id).get().to_dict()))


def _live(user_id: str) -> dict[str, GrantBalance]:
    snapshot = account_ref(user_id).get()
    if not snapshot.exists:
        return {}
    return Account.from_firestore(snapshot.to_dict()).grants or {}


# --- the sign-up grant --------------------------------------------------------------------------------


def set_signup_grant(credits: int, expires_in_days: int) -> dict[str, Any]:
    """0 credits turns it off. Accounts created after this answer get the new setting."""
    value = SignupGrant(credits=credits, expires_in_days=expires_in_days) if credits > 0 else None
    config_ref().set({"signup_grant": value.to_firestore() if value else None}, merge=True)
    return signup_grant_resource(value)


def signup_grant_resource(value: SignupGrant | None) -> dict[str, Any]:
    return {
        "credits": value.credits if value else 0,
        "expires_in_days": value.expires_in_days if value else 0,
    }


def read_signup_grant() -> SignupGrant | None:
    data = config_ref().get().to_dict() or {}
    raw = data.get("signup_grant")
    return SignupGrant.from_firestore(raw) if raw else None


def open_account(user_id: str, email: str | None) -> tuple[Account, bool]:
    """Create the account once, with the sign-up grant (if one is set) in the same batch: its balance
    document, ledger entry, grant document and the account are written together or not at all."""
    signup = read_signup_grant()
    now = utc_now()
    account = Account(email=email, grants={}, created_at=now)
    db = firestore_client()
    batch = db.batch()
    if signup is not None:
        grant_id = derived_id("grt", "signup", user_id)
        grant = CreditGrant(
            user_id=user_id,
            category=GrantCategory.PROMOTIONAL,
            name="Sign-up credits",
            amount=signup.credits,
            remaining=signup.credits,
            effective_at=now,
            expires_at=now + timedelta(days=signup.expires_in_days) if signup.expires_in_days else None,
            source=GrantSource.SIGNUP,
            index_shard=index_shard(grant_id),
            created_at=now,
            updated_at=now,
        )
        account = account.model_copy(
            update={"credits": signup.credits, "grants": {grant_id: grant.balance()}}
        )
        entry = LedgerEntry(
            user_id=user_id,
            type=LedgerEntryType.GRANT,
            amount=signup.credits,
            balance_after=signup.credits,
            reference=grant_id,
            description=grant.name,
            allocations={grant_id: signup.credits},
            created_at=now,
        )
        batch.create(grant_ref(grant_id), grant.to_firestore())
        batch.create(
            db.collection(LedgerEntry.collection).document(derived_id("cle", "signup", user_id)),
            entry.to_firestore(),
        )
    batch.create(account_ref(user_id), account.to_firestore())
    try:
        batch.commit()
        return account, True
    except AlreadyExists:
        return get_account(user_id, missing=ErrorCode.RESOURCE_MISSING), False


# --- the customer's list ------------------------------------------------------------------------------


def list_grants(principal: Principal, params: PageParams) -> dict[str, Any]:
    """The caller's grants, newest first. Credits exist in live mode only: a test key sees none."""
    if isinstance(principal, KeyPrincipal) and not principal.livemode:
        return {"data": [], "has_more": False, "next_cursor": None}
    collection = firestore_client().collection(CreditGrant.collection)
    # Index: user_id ASC, created_at DESC (firestore.indexes.json).
    query = collection.where(filter=firestore.FieldFilter("user_id", "==", principal.user_id)).order_by(
        "created_at", direction=firestore.Query.DESCENDING
    )
    live = _live(principal.user_id)

    def cursor(grant_id: str) -> Snapshot | None:
        snapshot = collection.document(grant_id).get()
        if not snapshot.exists or (snapshot.to_dict() or {}).get("user_id") != principal.user_id:
            return None
        return snapshot

    def render(snapshot: Snapshot) -> dict[str, Any]:
        return grant_resource(
            snapshot.id, CreditGrant.from_firestore(snapshot.to_dict()), live.get(snapshot.id)
        )

    return list_page(query, params, cursor, render)


# --- expiry -------------------------------------------------------------------------------------------


def due_expiry_query(shard: int, now: datetime) -> Any:
    # Index: index_shard ASC, status ASC, expires_at ASC (firestore.indexes.json).
    return (
        firestore_client()
        .collection(CreditGrant.collection)
        .where(filter=firestore.FieldFilter("index_shard", "==", shard))
        .where(filter=firestore.FieldFilter("status", "==", GrantStatus.ACTIVE.value))
        .where(filter=firestore.FieldFilter("expires_at", "<=", now))
        .order_by("expires_at")
    )


def expire_due_grants(now: datetime | None = None, limit: int = SWEEP_BATCH) -> list[str]:
    """The expiry sweep (every minute): each active grant past its expires_at loses what is left with one
    `expiry` ledger entry (once: marker `expiry:grant:{id}`). Spending already stopped at expiry; this
    makes the balance say so. One bad grant is logged and skipped."""
    now = now or utc_now()
    expired: list[str] = []
    for snapshot in first_over_shards(lambda shard: due_expiry_query(shard, now), "expires_at", limit):
        try:
            expire_grant(snapshot.id, CreditGrant.from_firestore(snapshot.to_dict()))
            expired.append(snapshot.id)
        except Exception as exc:  # one bad grant never stops the pass
            logs.error("credit grant expiry failed", grant_id=snapshot.id, error=repr(exc))
    if expired:
        logs.info("credit grants expired", count=len(expired), grant_ids=expired[:20])
    return expired


def expire_grant(grant_id: str, grant: CreditGrant) -> None:
    apply_credit_change(
        CreditChange(
            user_id=grant.user_id,
            amount=0,
            type=LedgerEntryType.EXPIRY,
            reference=grant_id,
            description=f"{grant.name}: expired",
            marker_id=f"expiry:grant:{grant_id}",
            effect=EndGrant(grant_id, GrantStatus.EXPIRED),
        )
    )
