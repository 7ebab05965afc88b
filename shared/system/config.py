"""Seed `system/config` idempotently: create it with defaults, or add only the fields it lacks."""

from __future__ import annotations

from typing import Any

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore

from shared.core.clients import firestore_client
from shared.core.retry import RETRYABLE_COMMIT_ERRORS
from shared.models import SystemConfig


def config_ref(db: firestore.Client | None = None) -> firestore.DocumentReference:
    db = db or firestore_client()
    return db.collection(SystemConfig.collection).document(SystemConfig.document_id)


def seed_system_config(db: firestore.Client | None = None) -> bool:
    """Returns True when it created the document. Never overwrites a field that exists (live counters)."""
    ref = config_ref(db)
    defaults = SystemConfig.defaults().to_firestore()
    try:
        ref.create(defaults)
        return True
    except AlreadyExists:
        pass
    for _ in range(10):
        snapshot = ref.get()
        current: dict[str, Any] = snapshot.to_dict() or {}
        missing = {k: v for k, v in defaults.items() if k not in current}
        if not missing:
            return False
        try:
            # The precondition makes this a no-op if anyone wrote in between; then look again.
            ref.update(missing, option=firestore.Client.write_option(last_update_time=snapshot.update_time))
            return False
        except RETRYABLE_COMMIT_ERRORS:
            continue
    raise RuntimeError("system/config kept changing while seeding")
