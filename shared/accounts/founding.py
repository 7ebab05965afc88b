"""New users: counted in `total_users`, and the first FOUNDING_MEMBER_LIMIT become founding members.

A founding number k is claimed by create(`founding_slots/{k}`) in one batch with create() of a per-user
marker, the shard Increment of `founding_member_count` and the update of `users/{uid}`; a taken k
(AlreadyExists without our marker) moves on to k+1. Numbers are therefore unique, each user gets at most
one, and the count equals the number of slots, under any concurrency and any number of redeliveries.
Claims start at the number of slots already taken + 1 (a count aggregation), so a sign-up usually commits
at its first try; slots are never deleted, so claimed numbers stay contiguous from 1.
"""

from __future__ import annotations

import threading

from google.api_core.exceptions import AlreadyExists, NotFound
from google.cloud import firestore

from shared.core import logs
from shared.core.clients import current_project, firestore_client
from shared.core.firestore_events import DocumentChange
from shared.counters.group_commit import add_increment
from shared.counters.service import count_creation, trigger_marker
from shared.counters.shards import Counter, marker_id
from shared.models import FOUNDING_MEMBER_LIMIT, Account, FoundingSlot, utc_now

_full_lock = threading.Lock()
_projects_full: set[str] = set()  # all slots taken: permanent, so remembered per process


def handle_user_created(change: DocumentChange) -> None:
    if change.value is None:
        logs.info("creation event without a document ignored", event_id=change.event_id, doc=change.document)
        return
    count_creation(change, Counter.TOTAL_USERS)
    # Nothing of the payload decides who: the user is the document the event names, and the claim writes
    # to that stored document with an existence precondition (NotFound: deleted, no number given).
    # Runs for redeliveries too: the claim is idempotent per user, and this finishes a delivery that
    # failed between the two steps.
    claim_founding_number(change.document_id, change.event_type)


def slot_ref(number: int, db: firestore.Client | None = None) -> firestore.DocumentReference:
    return (db or firestore_client()).collection(FoundingSlot.collection).document(str(number))


def slots_taken(db: firestore.Client | None = None) -> int:
    db = db or firestore_client()
    result = db.collection(FoundingSlot.collection).count().get()
    return int(result[0][0].value)


def claim_founding_number(user_id: str, event_type: str = "founding") -> int | None:
    """Make `user_id` a founding member if a slot is free. Returns the number claimed now, or None when the
    user already has one, all slots are taken, or the user document no longer exists."""
    project = current_project()
    if project in _projects_full:
        return None
    db = firestore_client()
    user_marker = trigger_marker(marker_id("founding", user_id), event_type)
    number = slots_taken(db) + 1
    while number <= FOUNDING_MEMBER_LIMIT:
        batch = db.batch()
        batch.create(slot_ref(number, db), FoundingSlot(user_id=user_id, created_at=utc_now()).to_firestore())
        user_marker.add_to(batch, db)
        add_increment(batch, Counter.FOUNDING_MEMBER_COUNT, db)
        batch.update(
            db.collection(Account.collection).document(user_id),
            {"founding_member": True, "founding_member_number": number, "updated_at": utc_now()},
        )
        try:
            batch.commit()
        except AlreadyExists:
            if user_marker.exists(db):
                return None  # an earlier delivery made this user a founding member
            number += 1  # someone else holds this number: try the next
            continue
        except NotFound:
            logs.info("user deleted before a founding number was given", user_id=user_id)
            return None
        return number
    with _full_lock:
        _projects_full.add(project)
    return None
