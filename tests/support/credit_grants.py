"""Credit grants as the tests need them: granted through the admin API, and the two invariants every test
checks after each step (docs/credits.md)."""

from __future__ import annotations

import secrets
from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter

from shared.core.clients import firestore_client
from shared.models import Account, CreditGrant, GrantStatus, LedgerEntry, utc_now
from tests.support.platform import ApiClient


def grant(
    api: ApiClient, user_id: str, amount: int, category: str = "promotional", **fields: Any
) -> dict[str, Any]:
    body = {
        "amount": amount,
        "category": category,
        "name": fields.pop("name", f"{category} {amount}"),
        **fields,
    }
    response = api.request(
        "POST",
        f"/v1/admin/users/{user_id}/credit_grants",
        token=api.user_token("root", admin=True),
        json=body,
        headers={"Idempotency-Key": secrets.token_hex(8)},
    )
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def listed(api: ApiClient, token: str) -> dict[str, dict[str, Any]]:
    response = api.request("GET", "/v1/credit_grants?limit=100", token=token)
    assert response.status_code == 200, response.text
    return {g["grant_id"]: g for g in response.json()["data"]}


def account(user_id: str) -> Account:
    return Account.from_firestore(firestore_client().collection("users").document(user_id).get().to_dict())


def ledger(user_id: str) -> list[LedgerEntry]:
    entries = [
        LedgerEntry.from_firestore(d.to_dict())
        for d in firestore_client()
        .collection("credit_ledger")
        .where(filter=FieldFilter("user_id", "==", user_id))
        .stream()
    ]
    return sorted(entries, key=lambda e: e.created_at)


def grant_docs(user_id: str) -> dict[str, CreditGrant]:
    query = firestore_client().collection("credit_grants").where(filter=FieldFilter("user_id", "==", user_id))
    return {d.id: CreditGrant.from_firestore(d.to_dict()) for d in query.stream()}


def assert_invariants(user_id: str) -> None:
    """balance == sum(ledger); balance == sum(remaining of active grants) - debt; the balance document's
    grants are exactly the documents whose status is active; every entry's allocations and debt change
    explain its amount."""
    current = account(user_id)
    entries = ledger(user_id)
    assert current.credits == sum(e.amount for e in entries), [(e.type.value, e.amount) for e in entries]
    live = current.grants or {}
    assert current.credits == sum(g.remaining for g in live.values()) - current.debt
    docs = grant_docs(user_id)
    assert {g for g, d in docs.items() if d.status is GrantStatus.ACTIVE} == set(live), (docs, live)
    assert all(g.remaining > 0 for g in live.values())
    # A debt and spendable credits never exist together: what arrives, promotional or paid, pays it first.
    spendable = [g for g, b in live.items() if b.spendable(utc_now())]
    assert current.debt == 0 or spendable == [], (current.debt, live)
    for grant_id, doc in docs.items():
        if doc.status is not GrantStatus.ACTIVE:
            assert doc.remaining == 0, (grant_id, doc)
    # Every grant's remaining is what its allocations left of it.
    moved: dict[str, int] = {}
    for entry in entries:
        for grant_id, part in (entry.allocations or {}).items():
            moved[grant_id] = moved.get(grant_id, 0) + part
    for grant_id, doc in docs.items():
        if doc.source.value != "migration":
            expected = live[grant_id].remaining if grant_id in live else 0
            assert moved.get(grant_id, 0) == expected, (grant_id, moved.get(grant_id), expected)
