"""Seed `system/config` idempotently: create it with defaults, or add only the fields it lacks."""

from __future__ import annotations

from typing import Any

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore

from shared.core.clients import firestore_client
from shared.core.retry import retry_commit
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

    def add_missing_fields() -> bool:
        snapshot = ref.get()
        current: dict[str, Any] = snapshot.to_dict() or {}
        missing = {k: v for k, v in defaults.items() if k not in current}
        if missing:
            # The precondition makes this a no-op if anyone wrote in between; then look again.
            ref.update(missing, option=firestore.Client.write_option(last_update_time=snapshot.update_time))
        return False

    return retry_commit(add_missing_fields, what="system/config while seeding", max_attempts=10)
