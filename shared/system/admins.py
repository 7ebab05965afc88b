"""The server's record of who is an admin (`admins/{uid}`, shared/models.AdminGrant).

Security rules honour the `admin` custom claim only while the record exists (firestore.rules): a token keeps
its claims for up to an hour, so demoting an admin deletes the record first, which ends every old token's
admin reads at once. Grant: set the claim and write the record; revoke: delete the record, remove the claim,
revoke the refresh tokens (localdev/make_admin.py, docs/security.md).
"""

from __future__ import annotations

from shared.core.clients import firestore_client
from shared.models import AdminGrant, utc_now


def grant_admin(uid: str, email: str | None = None) -> None:
    firestore_client().collection(AdminGrant.collection).document(uid).set(
        AdminGrant(granted_at=utc_now(), email=email).to_firestore()
    )


def revoke_admin(uid: str) -> None:
    firestore_client().collection(AdminGrant.collection).document(uid).delete()
