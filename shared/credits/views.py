"""Reading the credits ledger: the caller's entries, newest first, cursor-paginated.

Credits exist only in live mode, so a test-mode API key sees an empty ledger (test keys never see live
data, as with Stripe); signed-in users and live keys see every entry.
"""

from __future__ import annotations

import re
from typing import Any

from google.cloud import firestore

from shared.core.clients import firestore_client
from shared.core.index_shards import in_user_ranges
from shared.core.pagination import PageParams, Snapshot, list_page
from shared.core.principals import KeyPrincipal, Principal
from shared.models import LedgerEntry

ENTRY_ID_PATTERN = re.compile(r"cle_[0-9a-f]{24}")


def ledger_entry_resource(entry_id: str, entry: LedgerEntry) -> dict[str, Any]:
    return {
        "entry_id": entry_id,
        "type": entry.type.value,
        "amount": entry.amount,
        "balance_after": entry.balance_after,
        "reference": entry.reference,
        "description": entry.description,
        "created_at": int(entry.created_at.timestamp()),
    }


def list_ledger(principal: Principal, params: PageParams) -> dict[str, Any]:
    if isinstance(principal, KeyPrincipal) and not principal.livemode:
        return {"data": [], "has_more": False, "next_cursor": None}
    collection = firestore_client().collection(LedgerEntry.collection)
    # Index: user_id ASC, user_range ASC, created_at DESC (firestore.indexes.json).
    query = in_user_ranges(
        collection.where(filter=firestore.FieldFilter("user_id", "==", principal.user_id))
    ).order_by("created_at", direction=firestore.Query.DESCENDING)

    def cursor(entry_id: str) -> Snapshot | None:
        snapshot = collection.document(entry_id).get()
        if not snapshot.exists or (snapshot.to_dict() or {}).get("user_id") != principal.user_id:
            return None
        return snapshot

    def render(snapshot: Snapshot) -> dict[str, Any]:
        return ledger_entry_resource(snapshot.id, LedgerEntry.from_firestore(snapshot.to_dict()))

    return list_page(query, params, cursor, render)
