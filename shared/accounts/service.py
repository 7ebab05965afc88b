"""Accounts (`users/{uid}`): created once per signed-in user; the credits balance lives here."""

from __future__ import annotations

from typing import Any

from google.cloud import firestore

from shared.core.clients import firestore_client
from shared.core.errors import ApiError, ErrorCode
from shared.models import Account


def account_resource(user_id: str, account: Account, livemode: bool = True) -> dict[str, Any]:
    """`livemode=False` (a test key): credits exist in live mode only, so the test-mode balance is 0, as a
    test key's ledger is empty; test keys never read live money."""
    return {
        "user_id": user_id,
        "email": account.email,
        "livemode": livemode,
        "credits": account.credits if livemode else 0,
        "founding_member": account.founding_member,
        "founding_member_number": account.founding_member_number,
        "created_at": account.created_at,
    }


def account_ref(user_id: str) -> firestore.DocumentReference:
    return firestore_client().collection(Account.collection).document(user_id)


def get_account(user_id: str, *, missing: ErrorCode = ErrorCode.ACCOUNT_MISSING) -> Account:
    """The one way to read an account. `missing` is the error when there is none: 403 `account_missing`
    where an action needs an account, 404 `resource_missing` where the account itself is asked for."""
    snapshot = account_ref(user_id).get()
    if not snapshot.exists:
        raise ApiError(missing, "No account yet: create it with POST /v1/account.")
    return Account.from_firestore(snapshot.to_dict())
