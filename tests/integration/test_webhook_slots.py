"""Slot claims on the real Firestore emulator: one holder per slot, free again once released."""

from __future__ import annotations

from datetime import timedelta

from shared.core.clients import firestore_client
from shared.models import utc_now
from shared.webhooks.endpoints import webhook_id_for
from shared.webhooks.events import event_ref
from shared.webhooks.slots import Slot, claim_slot, release_slot, slot_ref
from tests.conftest import Project
from tests.support.webhooks import make_event

LEASE = timedelta(seconds=75)


def _claim(user_id: str, event_id: str, slots: int = 1) -> Slot | None:
    snapshot = event_ref(event_id).get()
    fields = {"attempts": 1, "next_attempt_at": utc_now() + LEASE, "queued": False, "updated_at": utc_now()}
    lease_until = utc_now() + LEASE
    claim = (event_ref(event_id), fields, snapshot.update_time)
    return claim_slot(webhook_id_for(user_id), event_id, slots, lease_until, claim)


def test_a_held_slot_is_not_claimed_twice_and_is_free_again_once_released(project: Project) -> None:
    user = "user_slots"
    first, second = make_event(user), make_event(user)
    held = _claim(user, first)
    assert held is not None and held.ref.path == slot_ref(webhook_id_for(user), 0).path
    assert _claim(user, second) is None  # the only slot is held
    assert event_ref(second).get().get("attempts") == 0  # and the lost claim changed nothing
    # With a second slot, the claim goes straight to it.
    other = _claim(user, second, slots=2)
    assert other is not None and other.ref.path == slot_ref(webhook_id_for(user), 1).path
    release_slot(held)
    release_slot(other)
    assert not held.ref.get().exists and not other.ref.get().exists
    third = make_event(user)
    again = _claim(user, third)
    assert again is not None and again.ref.path == held.ref.path
    release_slot(again)


def test_a_slot_held_elsewhere_is_found_by_its_create(project: Project) -> None:
    """Another instance's holder (here: a slot document written directly) is seen through Firestore."""
    user, tenant = "user_slots_elsewhere", "user_slots_tenant"
    ref = slot_ref(webhook_id_for(user), 0)
    ref.set(
        {
            "webhook_id": webhook_id_for(user),
            "event_id": "evt_" + "0" * 32,
            "lease_until": utc_now() + LEASE,
            "created_at": utc_now(),
        }
    )
    assert _claim(user, make_event(user)) is None
    # A second customer's slots are their own.
    mine = _claim(tenant, make_event(tenant))
    assert mine is not None
    release_slot(mine)
    assert firestore_client().document(ref.path).get().exists  # the other holder's slot is untouched
